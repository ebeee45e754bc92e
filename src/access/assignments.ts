/**
 * Team and ward assignments (PractitionerRole) that cannot be made by accident: the same current
 * assignment is not added twice, and nobody whose accounts are all disabled is assigned. Runs in
 * the write's transaction after the projection (projection.ts), so the other assignments it
 * compares with are the access tables' memberships; a refusal rolls the write back.
 */
import type { PractitionerRole } from '@medplum/fhirtypes';
import type { Queryable } from '../db/index.js';
import { FhirError } from '../shared/index.js';
import { principalRef } from './relationships.js';

/** What a written version is, for these rules (the FHIR service's StoredVersion). */
interface Written {
  resourceType: string;
  id: string;
  deleted: boolean;
  resource?: unknown;
}

/** Whether the practitioner has accounts and every one is disabled (identity's to say). */
export type OnlyDisabledAccounts = (practitioner: string, q: Queryable) => Promise<boolean>;

export function assignmentRules(onlyDisabled: OnlyDisabledAccounts) {
  return async (tx: Queryable, v: Written): Promise<void> => {
    if (v.resourceType !== 'PractitionerRole' || v.deleted || !v.resource) return;
    const r = v.resource as PractitionerRole;
    const member = principalRef(r.practitioner, ['Practitioner']);
    const ended = r.period?.end !== undefined && Date.parse(r.period.end) <= Date.now();
    if (!member || r.active === false || ended) return;
    if (await onlyDisabled(member, tx)) throw new FhirError(409, 'conflict', 'this staff member’s account is disabled: enable it before assigning them');
    const groups = [principalRef(r.organization, ['Organization']), ...(r.location ?? []).map((l) => principalRef(l, ['Location']))].filter(
      (g): g is string => g !== undefined,
    );
    if (groups.length === 0) return;
    const others = await tx.query<{ source_id: string; group_ref: string }>(
      `select source_id, group_ref from access_membership
       where source_type = 'PractitionerRole' and member = $1 and source_id <> $2 and kind in ('department', 'ward')
         and (ends_at is null or ends_at > now())`,
      [member, v.id],
    );
    const bySource = new Map<string, Set<string>>();
    for (const o of others.rows) bySource.set(o.source_id, (bySource.get(o.source_id) ?? new Set()).add(o.group_ref));
    const mine = new Set(groups);
    for (const theirs of bySource.values()) {
      if (theirs.size === mine.size && [...mine].every((g) => theirs.has(g))) {
        throw new FhirError(409, 'conflict', 'this staff member already has this team and ward assignment');
      }
    }
  };
}
