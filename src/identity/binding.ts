/**
 * Which account speaks for a practitioner. The access rules give an account the care relationships
 * of the Practitioner it is bound to, so binding one is handing over that practitioner's patients:
 *  - a practitioner never bound before is bound by the administrator who creates the account;
 *  - one bound before, to any account (active, disabled or expired: otherwise disabling Dr B's
 *    account would free her identity for anyone), is only requested: the account is made without
 *    it, and a second person (another administrator, or a privacy officer) approves the request;
 *  - an approval holds only while no other active account is bound to that practitioner.
 * Requests and decisions are audit records, and privacy officers are told of each request.
 */
import crypto from 'node:crypto';
import type { Queryable } from '../db/index.js';
import type { Who } from '../shared/index.js';
import { BindingConflictError, NotYoursToDecideError } from './errors.js';
import type { IdentityEvent } from './types.js';

/** Serialises every binding decision about one practitioner, across processes (until the transaction ends). */
export async function lockPractitioner(tx: Queryable, practitioner: string): Promise<void> {
  const key = crypto.createHash('sha256').update(`identity-practitioner:${practitioner}`).digest().readBigInt64BE(0);
  await tx.query('select pg_advisory_xact_lock($1::bigint)', [key.toString()]);
}

/** Whether any account is or was bound to the practitioner, or has asked to be. */
export async function everBound(q: Queryable, practitioner: string): Promise<boolean> {
  const r = await q.query('select 1 from identity_account where practitioner = $1 or practitioner_pending = $1 limit 1', [practitioner]);
  return r.rows.length > 0;
}

export interface PendingBinding {
  id: string;
  username: string;
  practitioner: string;
  requestedBy: string | null;
  active: boolean;
}

export async function pendingOf(q: Queryable, username: string): Promise<PendingBinding | undefined> {
  const r = await q.query<{ id: string; username: string; practitioner_pending: string | null; practitioner_requested_by: string | null; active: boolean }>(
    `select id, username, practitioner_pending, practitioner_requested_by,
       not disabled and (valid_until is null or valid_until > now()) as active
     from identity_account where username = $1 for update`,
    [username],
  );
  const row = r.rows[0];
  if (!row?.practitioner_pending) return undefined;
  return { id: row.id, username: row.username, practitioner: row.practitioner_pending, requestedBy: row.practitioner_requested_by, active: row.active };
}

/** Whether another active account is bound to the practitioner now. */
export async function activeHolder(q: Queryable, practitioner: string, exceptId: string): Promise<boolean> {
  const r = await q.query(
    `select 1 from identity_account where practitioner = $1 and id <> $2
       and not disabled and (valid_until is null or valid_until > now()) limit 1`,
    [practitioner, exceptId],
  );
  return r.rows.length > 0;
}

/** Settles a request: the binding made (approve) or dropped (reject). */
export async function settle(q: Queryable, accountId: string, approve: boolean): Promise<void> {
  await q.query(
    `update identity_account set practitioner = case when $2 then practitioner_pending else practitioner end,
       practitioner_pending = null, practitioner_requested_by = null where id = $1`,
    [accountId, approve],
  );
}

export interface BindingDecisionParts {
  /** A transaction that may change live sessions (the account's practitioner is in its callers' Who). */
  changeSessions<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  emit(e: IdentityEvent): Promise<void>;
  notify(kind: string, ref: string, message: string): Promise<void>;
}

/**
 * A second person's decision on an account's request to act as a practitioner bound before: never
 * the one who asked, an approval only while no other active account holds that practitioner.
 * `who` decides (already authorised by the caller); `actor` is who the records name (none for the
 * system). Refusals are recorded and thrown. Returns the account's binding after the decision.
 */
export async function decideBinding(
  parts: BindingDecisionParts,
  who: Who,
  actor: Who | undefined,
  username: string,
  approve: boolean,
): Promise<{ username: string; practitioner: string | null }> {
  const action = approve ? 'user.practitioner-approve' : 'user.practitioner-reject';
  let refusal: { reason: string; error: Error; account: { id: string; username: string; practitioner: string } } | undefined;
  const result = await parts.changeSessions(async (tx) => {
    const pending = await pendingOf(tx, username);
    if (!pending) throw new BindingConflictError('the account has no practitioner binding waiting for a decision');
    const account = { id: pending.id, username: pending.username, practitioner: pending.practitioner };
    await lockPractitioner(tx, pending.practitioner);
    if (pending.requestedBy === who.accountId) {
      refusal = { reason: 'the requester may not decide on their own request', error: new NotYoursToDecideError(), account };
    } else if (approve && !pending.active) {
      refusal = { reason: 'the account is disabled or expired', error: new BindingConflictError('the account is disabled or expired'), account };
    } else if (approve && (await activeHolder(tx, pending.practitioner, pending.id))) {
      refusal = {
        reason: 'another active account is bound to the practitioner',
        error: new BindingConflictError('another active account acts as this practitioner: disable it first'),
        account,
      };
    }
    if (refusal) return undefined;
    await settle(tx, pending.id, approve);
    await parts.emit({ action, outcome: 'success', actor, account, tx });
    return { username: pending.username, practitioner: approve ? pending.practitioner : null };
  });
  if (refusal) {
    await parts.emit({ action, outcome: 'denied', actor, account: refusal.account, reason: refusal.reason });
    throw refusal.error;
  }
  await parts.notify(
    'practitioner-binding',
    result!.username,
    `${who.username} ${approve ? 'approved' : 'rejected'} account ${result!.username} acting as ${approve ? result!.practitioner : 'the practitioner it asked for'}`,
  );
  return result!;
}
