/**
 * Back-off after failed logins. From the threshold on, each further failure doubles the lock:
 * base, 2×base, 4×base… capped at an hour, so a guesser gets a handful of tries per hour while a
 * user who mistyped a few times waits a minute. The cap bounds how long anyone who knows a username
 * can keep its owner out.
 */
import type { Queryable } from '../db/index.js';

export const LOCK_CAP_SECONDS = 3600;

export interface LockoutPolicy {
  threshold: number;
  baseMinutes: number;
}

/** Seconds locked after the failure that brings the count to `failedCount` (0 = not locked). */
export function lockSeconds(failedCount: number, policy: LockoutPolicy): number {
  if (failedCount < policy.threshold) return 0;
  const doublings = Math.min(failedCount - policy.threshold, 30);
  return Math.min(LOCK_CAP_SECONDS, policy.baseMinutes * 60 * 2 ** doublings);
}

export interface FailureState {
  failedCount: number;
  /** Seconds until the account can try again; 0 when not locked. */
  lockedForSeconds: number;
}

/**
 * Counts one failure and, past the threshold, sets the lock — in one UPDATE, so that failures
 * arriving at the same moment through different processes are each counted (no read-modify-write).
 * The SET expressions see the row's old values, hence `failed_count + 1` throughout.
 */
export async function recordFailure(q: Queryable, accountId: string, policy: LockoutPolicy): Promise<FailureState> {
  const r = await q.query<{ failed_count: number; locked_for: number | null }>(
    `update identity_account set
       failed_count = failed_count + 1,
       locked_until = ${lockedUntilSql('failed_count + 1', 'locked_until')}
     where id = $1
     returning failed_count,
       ceil(extract(epoch from (locked_until - now())))::int as locked_for`,
    [accountId, policy.threshold, policy.baseMinutes, LOCK_CAP_SECONDS],
  );
  const row = r.rows[0];
  if (!row) return { failedCount: 0, lockedForSeconds: 0 };
  return { failedCount: row.failed_count, lockedForSeconds: Math.max(0, row.locked_for ?? 0) };
}

/**
 * The lock after a failure that brings the count to `count` (SQL over parameters $2 threshold, $3
 * base minutes, $4 cap in seconds), else `current`: the same lock for accounts and for user names
 * that name no account (throttle.ts), so a lock-out does not tell the two apart.
 */
export function lockedUntilSql(count: string, current: string): string {
  return `case when ${count} >= $2::int then now() + make_interval(secs => least(
           $4::float8, $3::float8 * 60 * power(2::float8, least(${count} - $2::int, 30)))) else ${current} end`;
}
