/**
 * Point 5 of issue 8: an account that updates or deletes an unusual number of records in a short
 * time (a stolen session run by a script, ransomware reaching the records through the API) is
 * suspended and reported. Nothing is lost either way: every version stays in records_version.
 *
 * Counted in the database (per account, per minute), in the write's own transaction, so every
 * Carewall process on one PostgreSQL server counts the same writes. The account is disabled
 * (identity's disableAccount: its sessions end at once) right after the write that crosses the
 * limit commits; writes of an account being suspended are refused meanwhile.
 */
import type { Who } from '../shared/index.js';
import type { Database, Queryable } from '../db/index.js';
import type { Logger } from '../log.js';
import { FhirError } from '../shared/index.js';
import type { StoredVersion } from '../records/index.js';
import type { MassChangeSettings } from './settings.js';

export interface MassChangeActions {
  suspend(username: string): Promise<unknown>;
  notify(message: string): Promise<unknown>;
}

export class MassChangeGuard {
  private readonly suspending = new Set<string>();

  constructor(
    private readonly db: Database,
    private readonly settings: MassChangeSettings,
    private readonly actions: MassChangeActions,
    private readonly log: Logger,
  ) {}

  /** A FHIR write hook (runtime wires it). Creations are not counted: only changes and deletions destroy. */
  readonly writeHook = async (tx: Queryable, v: StoredVersion, who: Who): Promise<void | (() => void)> => {
    if (!who || who.system || who.client || this.settings.maxChanges <= 0) return;
    if (v.versionId === 1 && !v.deleted) return;
    if (this.suspending.has(who.accountId)) throw new FhirError(403, 'forbidden', 'this account is being suspended for an unusual number of changes');
    const r = await tx.query<{ n: number }>(
      `with bump as (
         insert into backup_change_count (account_id, bucket, changes) values ($1, date_trunc('minute', now()), 1)
         on conflict (account_id, bucket) do update set changes = backup_change_count.changes + 1 returning bucket, changes)
       select (select changes from bump) + coalesce((select sum(changes) from backup_change_count
         where account_id = $1 and bucket > now() - make_interval(secs => $2::float8) and bucket <> (select bucket from bump)), 0)::int as n`,
      [who.accountId, this.settings.windowSeconds],
    );
    // Counters older than a window are of no use; dropped now and then, in passing.
    if (Math.random() < 0.002)
      await tx.query(`delete from backup_change_count where bucket < now() - make_interval(secs => $1::float8)`, [this.settings.windowSeconds + 60]);
    const n = r.rows[0].n;
    if (n <= this.settings.maxChanges) return;
    this.suspending.add(who.accountId);
    return () => void this.suspend(who, n);
  };

  private async suspend(who: Who, changes: number): Promise<void> {
    try {
      await this.actions.suspend(who.username);
      await this.db.query(`insert into backup_suspension (account_id, username, changes, window_seconds) values ($1, $2, $3, $4)`, [
        who.accountId,
        who.username,
        changes,
        this.settings.windowSeconds,
      ]);
      // The message names the account and the numbers, never a patient or a record.
      await this.actions.notify(
        `${who.username} was suspended: ${changes} records changed or deleted within ${this.settings.windowSeconds} s (limit ${this.settings.maxChanges}). Every earlier version is kept; review the account's audit records before re-enabling it.`,
      );
      this.log.warn({ account: who.accountId, changes }, 'account suspended for mass changes');
    } catch (err) {
      this.log.error({ account: who.accountId, err: (err as Error).message }, 'suspending an account for mass changes failed');
      this.suspending.delete(who.accountId);
      return;
    }
    // Kept for a window: a request authenticated just before the account was disabled is still
    // refused here, and is not counted into a second suspension. Re-enabled later, it starts afresh.
    setTimeout(() => this.suspending.delete(who.accountId), this.settings.windowSeconds * 1000).unref();
  }
}
