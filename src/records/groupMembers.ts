/**
 * A Group's members as each caller may see them (issue 30). A Group is reached by role
 * (access/roles.ts) yet names patients, so each member is shown only to a caller who may see that
 * patient, decided by the predicate a search of Patient joins (AccessGate.visiblePatients): no rule
 * of its own. A Group that lost members this way is marked SUBSETTED and loses its quantity and
 * narrative, so a client knows the list is not whole and is told neither how many were left out
 * nor, by a narrative that lists them, who.
 *
 * Writes keep what the writer cannot see: a new member must be a patient the writer may see (else
 * the write is refused and recorded), and an update keeps the stored members hidden from its writer
 * (who was shown the Group without them and could not have meant to remove them).
 */
import type { Group, GroupMember, Resource } from '@medplum/fhirtypes';
import type { FhirAction } from '../access/index.js';
import type { Who } from '../shared/index.js';
import type { AccessGate } from './accessGate.js';
import type { StoredVersion } from './store.js';

// The narrowing is to R4's Group itself, not to `Resource & {...}`: an intersection with the union of
// every resource type made the type checker spend 12 s on this file (half of `npm run typecheck`).

export const SUBSETTED = { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'SUBSETTED', display: 'subsetted' };

const patientOf = (m: GroupMember): string | undefined => /^Patient\/([A-Za-z0-9\-.]{1,64})$/.exec(m.entity?.reference ?? '')?.[1];
const isGroup = (r: Resource | undefined): r is Group => r?.resourceType === 'Group';

/** The resources as the caller may see them: Groups without the members whose patients they may not see. */
export async function showMembers<T extends Resource | undefined>(gate: AccessGate, who: Who, resources: T[]): Promise<T[]> {
  const groups = (resources as Array<Resource | undefined>).filter(isGroup);
  if (who.system || groups.every((g) => (g.member ?? []).length === 0)) return resources;
  const seen = await gate.visiblePatients(
    who,
    groups.flatMap((g) => (g.member ?? []).map(patientOf).filter((p): p is string => p !== undefined)),
  );
  return resources.map((r) => {
    if (!isGroup(r) || !r.member) return r;
    const member = r.member.filter((m) => {
      const p = patientOf(m);
      return p !== undefined && seen.has(p);
    });
    if (member.length === r.member.length) return r;
    // The narrative may describe the members left out (a generated one lists them): it goes too.
    const { quantity: _hiddenCount, text: _narrative, member: _all, ...rest } = r;
    const tag = [...(r.meta?.tag ?? []).filter((t) => t.code !== SUBSETTED.code), SUBSETTED];
    return { ...rest, meta: { ...r.meta, tag }, ...(member.length > 0 ? { member } : {}) } as unknown as T;
  });
}

/** A stored version as the caller may see it. */
export async function showVersion(gate: AccessGate, who: Who, v: StoredVersion): Promise<StoredVersion> {
  if (!isGroup(v.resource)) return v;
  const [resource] = await showMembers(gate, who, [v.resource]);
  return { ...v, resource };
}

/**
 * The Group a write stores: every member it names must be a patient the writer may see (refused and
 * recorded otherwise, without saying which); the stored members hidden from the writer are kept.
 */
export async function membersToStore<T extends Resource & { id: string }>(
  gate: AccessGate,
  who: Who,
  action: FhirAction,
  next: T,
  stored?: Resource,
): Promise<T> {
  if (!isGroup(next) || who.system) return next;
  const named = (next.member ?? []).map(patientOf).filter((p): p is string => p !== undefined);
  const storedMembers = isGroup(stored) ? (stored.member ?? []) : [];
  const seen = await gate.visiblePatients(who, [...named, ...storedMembers.map(patientOf).filter((p): p is string => p !== undefined)]);
  if (named.some((p) => !seen.has(p)))
    await gate.refuse(who, action, { resourceType: 'Group', id: next.id }, 'a Group may name only patients the writer may see');
  const hidden = storedMembers.filter((m) => {
    const p = patientOf(m);
    return p === undefined || !seen.has(p);
  });
  // The mark of a list shown incomplete is not part of the list (its writer was shown the mark).
  const tag = next.meta?.tag?.filter((t) => t.code !== SUBSETTED.code);
  const meta = next.meta ? { ...next.meta, ...(tag && tag.length > 0 ? { tag } : { tag: undefined }) } : undefined;
  return { ...next, ...(meta ? { meta } : {}), ...(hidden.length > 0 ? { member: [...(next.member ?? []), ...hidden] } : {}) };
}
