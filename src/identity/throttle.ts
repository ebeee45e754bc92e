/**
 * Sign-in throttles beside the per-account lock-out (lockout.ts):
 *  - a user name that names no account is locked out exactly as an account would be, after the same
 *    failures, with the same answer: otherwise a 429 would tell a guesser which names are real;
 *  - an address that fails too often across any names is refused for a while: password spraying
 *    tries a few common passwords on many accounts, each below its own lock-out.
 * Both live in the database (several processes serve one), keyed by an HMAC of the name or address
 * under the general key: a user name typed wrongly is often a password, and is never stored as typed.
 */
import crypto from 'node:crypto';
import type { Queryable } from '../db/index.js';
import { LOCK_CAP_SECONDS, lockedUntilSql, type LockoutPolicy } from './lockout.js';

export interface AddressPolicy {
  /** Failed sign-ins from one address within the window after which it is refused for a window. */
  failures: number;
  windowMinutes: number;
}

export function throttleKey(generalKey: Buffer, kind: 'name' | 'address', value: string): Buffer {
  return crypto.createHmac('sha256', generalKey).update(`login-throttle:${kind}:${value}`).digest();
}

/** Seconds the key is refused for (0: not locked). */
export async function lockedForSeconds(q: Queryable, key: Buffer): Promise<number> {
  const r = await q.query<{ secs: number | null }>(
    'select case when locked_until > now() then ceil(extract(epoch from (locked_until - now())))::int end as secs from identity_login_throttle where key = $1',
    [key],
  );
  return Math.max(0, r.rows[0]?.secs ?? 0);
}

/** A failed sign-in for a user name that names no account: counted and locked as an account's would be. */
export async function recordUnknownNameFailure(q: Queryable, key: Buffer, policy: LockoutPolicy): Promise<void> {
  await q.query(
    `insert into identity_login_throttle as t (key, failed_count, window_start, locked_until)
     values ($1, 1, now(), ${lockedUntilSql('1', 'null::timestamptz')})
     on conflict (key) do update set failed_count = t.failed_count + 1, locked_until = ${lockedUntilSql('t.failed_count + 1', 't.locked_until')}`,
    [key, policy.threshold, policy.baseMinutes, LOCK_CAP_SECONDS],
  );
}

/** A failed sign-in from an address: counted within its window; at the limit the address is refused for a window. */
export async function recordAddressFailure(q: Queryable, key: Buffer, policy: AddressPolicy): Promise<void> {
  const fresh = `t.window_start <= now() - make_interval(secs => $3::float8)`;
  await q.query(
    `insert into identity_login_throttle as t (key, failed_count, window_start, locked_until)
     values ($1, 1, now(), case when 1 >= $2::int then now() + make_interval(secs => $3::float8) end)
     on conflict (key) do update set
       failed_count = case when ${fresh} then 1 else t.failed_count + 1 end,
       window_start = case when ${fresh} then now() else t.window_start end,
       locked_until = case when (case when ${fresh} then 1 else t.failed_count + 1 end) >= $2::int
         then now() + make_interval(secs => $3::float8) else t.locked_until end`,
    [key, policy.failures, policy.windowMinutes * 60],
  );
}

/** Forgets throttles that have been quiet for a day (run with the sessions' housekeeping at sign-in). */
export async function purgeQuietThrottles(q: Queryable): Promise<void> {
  await q.query(`delete from identity_login_throttle where greatest(window_start, coalesce(locked_until, window_start)) < now() - interval '1 day'`);
}
