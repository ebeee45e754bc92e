/**
 * The review queue: allowed accesses a person must look at afterwards (under a break-the-glass
 * grant or an investigation, or to a restricted patient). Privacy officers work through it
 * (grants.ts); the audit log keeps every decision regardless.
 */
import type { Queryable } from '../db/index.js';
import type { AccessEvent, AccessSink } from './decision.js';

/** The review queue as a place decisions go (runtime.ts wires it beside the audit log). */
export function reviewQueueSink(db: Queryable): AccessSink {
  return (e) => queueForReview(e.tx ?? db, e);
}

/** Files an allowed access a person must look at; other decisions leave no trace here. */
async function queueForReview(q: Queryable, { who, action, resourceType, id, patientId, decision }: AccessEvent): Promise<void> {
  const g = decision.grounds;
  if (!decision.allowed || !g || !patientId) return;
  const kinds: Array<[string, string | null]> = [];
  if (g.grantId && (g.basis === 'break-glass' || g.basis === 'investigation')) kinds.push([g.basis, g.grantId]);
  if (g.flagged) kinds.push(['restricted-patient', null]);
  for (const [kind, grantId] of kinds) {
    await q.query(
      `insert into access_use (kind, grant_id, account_id, username, patient_id, action, resource_type, resource_id)
       values ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [kind, grantId, who.accountId, who.username, patientId, action, resourceType, id ?? null],
    );
  }
}
