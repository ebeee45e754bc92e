/**
 * Keeps the access tables in step with the records: called by the FHIR service inside the
 * transaction of every write, so a relationship exists exactly as long as the resource recording it
 * says so, for every Carewall process at once. Each write that changes who may see a patient also
 * notifies every process (delivered when it commits) so their decision caches drop what it changed.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { Queryable } from '../db/index.js';
import { WriteBatch } from '../db/index.js';
import { ACCESS_CHANNEL, changePayload, type AccessChange } from './contextCache.js';
import { derive } from './relationships.js';

export interface WrittenVersion {
  resourceType: string;
  id: string;
  lastUpdated: Date;
  deleted: boolean;
  resource?: Resource;
  /** 1 for a resource's first version: nothing was projected from it before. */
  versionId?: number;
  /** Set when what the version records would be its author's own way in (policy.selfMadeBy). */
  selfMade?: SelfMade | null;
}

/** The author's practitioner, and the reach of their roles that let them write it ('front-desk', 'lab', 'directory', 'break-glass', ...). */
export interface SelfMade {
  by: string;
  as: string;
}

/**
 * Projects one written version; returns what changed (for this process's cache, once committed).
 * A replaced version's rows are removed first; the new rows and the notice to every process then
 * go in one statement (db/writeBatch.ts: they touch different rows), one round trip a write.
 */
export async function projectWrite(tx: Queryable, v: WrittenVersion): Promise<AccessChange> {
  const patients = new Set<string>();
  const members = new Set<string>();
  const batch = new WriteBatch();
  await project(tx, v, batch, patients, members);
  const change = { patients, members };
  const payload = changePayload(change);
  await batch.run(tx, payload ? `pg_notify(${batch.bind(ACCESS_CHANNEL)}, ${batch.bind(payload)})` : undefined);
  return change;
}

/** Tells every process that these patients' or practitioners' access changed (after the caller's transaction commits). */
export async function announceAccessChange(q: Queryable, change: AccessChange): Promise<void> {
  const payload = changePayload(change);
  if (payload) await q.query('select pg_notify($1, $2)', [ACCESS_CHANNEL, payload]);
}

/** Removes what a replaced version projected (through `tx`), and adds the new version's rows to `batch`. */
async function project(tx: Queryable, v: WrittenVersion, batch: WriteBatch, patients: Set<string>, members: Set<string>): Promise<void> {
  // A deleted chart keeps the relationships its last version named (its general practitioner), so
  // its carers still see that it was deleted (410) and its history; everything filed under it must
  // have been deleted first, which ended those relationships.
  if (v.deleted && v.resourceType === 'Patient') return;
  // A first version replaces nothing: the deletes would find no rows (round trips a create saves).
  if (v.versionId !== 1 || v.deleted) await unproject(tx, v, patients, members);
  if (v.deleted || !v.resource) return;
  const d = derive(v.resource as Resource & { id: string }, v.lastUpdated);
  const b = batch.bind;

  for (const r of d.relationships) patients.add(r.patientId);
  for (const m of d.memberships) members.add(m.member);
  if (d.patient) patients.add(v.id);
  if (d.encounterFor) patients.add(d.encounterFor);
  if (d.relationships.length > 0) {
    const r = d.relationships;
    batch.add(
      `insert into access_relationship (source_type, source_id, patient_id, principal, kind, role, direct, starts_at, ends_at, made_by, made_as)
       select ${b(v.resourceType)}, ${b(v.id)}, p, pr, k, ro, di, s::timestamptz, e::timestamptz, ${b(v.selfMade?.by ?? null)}, ${b(v.selfMade?.as ?? null)}
       from unnest(${b(r.map((x) => x.patientId))}::text[], ${b(r.map((x) => x.principal))}::text[], ${b(r.map((x) => x.kind))}::text[],
                   ${b(r.map((x) => x.role))}::text[], ${b(r.map((x) => x.direct))}::boolean[], ${b(r.map((x) => x.startsAt ?? null))}::text[],
                   ${b(r.map((x) => x.endsAt ?? null))}::text[]) as t(p, pr, k, ro, di, s, e)
       on conflict do nothing`,
    );
  }
  if (d.memberships.length > 0) {
    const m = d.memberships;
    batch.add(
      `insert into access_membership (source_type, source_id, member, group_ref, kind, direct, starts_at, ends_at, made_by)
       select ${b(v.resourceType)}, ${b(v.id)}, mb, g, k, di, s::timestamptz, e::timestamptz, ${b(v.selfMade?.by ?? null)}
       from unnest(${b(m.map((x) => x.member))}::text[], ${b(m.map((x) => x.group))}::text[], ${b(m.map((x) => x.kind))}::text[],
                   ${b(m.map((x) => x.direct))}::boolean[], ${b(m.map((x) => x.startsAt ?? null))}::text[], ${b(m.map((x) => x.endsAt ?? null))}::text[])
         as t(mb, g, k, di, s, e)
       on conflict do nothing`,
    );
  }
  // One version is a Patient (d.patient) or files under one (d.encounterFor), never both: these
  // two never meet the same row in one statement.
  if (d.patient) {
    batch.add(
      `insert into access_patient (patient_id, restricted) values (${b(v.id)}, ${b(d.patient.restricted)})
       on conflict (patient_id) do update set restricted = excluded.restricted`,
    );
  }
  if (d.encounterFor) {
    batch.add(
      `insert into access_patient (patient_id, has_encounter) values (${b(d.encounterFor)}, true)
       on conflict (patient_id) do update set has_encounter = true`,
    );
  }
  if (d.consentRules.length > 0) {
    const patientId = patientOfConsent(v.resource);
    if (patientId) {
      patients.add(patientId);
      d.consentRules.forEach((rule, seq) =>
        batch.add(
          `insert into access_consent (consent_id, seq, patient_id, effect, actors, purposes, starts_at, ends_at)
           values (${b(v.id)}, ${b(seq)}, ${b(patientId)}, ${b(rule.effect)}, ${b(rule.actors)}, ${b(rule.purposes)}, ${b(rule.startsAt ?? null)}, ${b(rule.endsAt ?? null)})`,
        ),
      );
    }
  }
  if (d.resultOf.length > 0) {
    batch.add(
      `insert into access_result_link (resource_type, id, order_id) select ${b(v.resourceType)}, ${b(v.id)}, unnest(${b(d.resultOf)}::text[]) on conflict do nothing`,
    );
  }
}

function patientOfConsent(resource: Resource): string | undefined {
  const ref = (resource as { patient?: { reference?: string } }).patient?.reference ?? '';
  return /^Patient\/([A-Za-z0-9\-.]{1,64})$/.exec(ref)?.[1];
}

/**
 * Loads the access rows of many new resources at once (an import; the benchmark's 100,000-patient
 * clinic): the same derivation as projectWrite, inserted in large batches. Only for resources never projected
 * before: nothing is deleted first.
 */
export async function projectNewInBulk(tx: Queryable, versions: WrittenVersion[]): Promise<void> {
  const rel: Array<[string, string, string, string, string, string, boolean, string | null, string | null]> = [];
  const mem: Array<[string, string, string, string, string, boolean, string | null, string | null]> = [];
  const patients = new Map<string, { restricted: boolean; encounter: boolean }>();
  const consents: Array<[string, number, string, string, string[] | null, string[] | null, string | null, string | null]> = [];
  const results: Array<[string, string, string]> = [];
  for (const v of versions) {
    if (!v.resource) continue;
    const d = derive(v.resource as Resource & { id: string }, v.lastUpdated);
    for (const r of d.relationships) rel.push([v.resourceType, v.id, r.patientId, r.principal, r.kind, r.role, r.direct, r.startsAt ?? null, r.endsAt ?? null]);
    for (const m of d.memberships) mem.push([v.resourceType, v.id, m.member, m.group, m.kind, m.direct, m.startsAt ?? null, m.endsAt ?? null]);
    if (d.patient) patients.set(v.id, { restricted: d.patient.restricted, encounter: patients.get(v.id)?.encounter ?? false });
    if (d.encounterFor) patients.set(d.encounterFor, { restricted: patients.get(d.encounterFor)?.restricted ?? false, encounter: true });
    const patientId = patientOfConsent(v.resource);
    if (patientId)
      d.consentRules.forEach((c, seq) => consents.push([v.id, seq, patientId, c.effect, c.actors, c.purposes, c.startsAt ?? null, c.endsAt ?? null]));
    for (const order of d.resultOf) results.push([v.resourceType, v.id, order]);
  }
  const col = <T>(rows: T[][], i: number) => rows.map((r) => r[i]);
  if (rel.length > 0) {
    await tx.query(
      `insert into access_relationship (source_type, source_id, patient_id, principal, kind, role, direct, starts_at, ends_at)
       select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::boolean[], $8::timestamptz[], $9::timestamptz[])
       on conflict do nothing`,
      Array.from({ length: 9 }, (_, i) => col(rel as unknown[][], i)),
    );
  }
  if (mem.length > 0) {
    await tx.query(
      `insert into access_membership (source_type, source_id, member, group_ref, kind, direct, starts_at, ends_at)
       select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::boolean[], $7::timestamptz[], $8::timestamptz[])
       on conflict do nothing`,
      Array.from({ length: 8 }, (_, i) => col(mem as unknown[][], i)),
    );
  }
  if (patients.size > 0) {
    const list = [...patients];
    await tx.query(
      `insert into access_patient (patient_id, restricted, has_encounter) select * from unnest($1::text[], $2::boolean[], $3::boolean[])
       on conflict (patient_id) do update set restricted = excluded.restricted or access_patient.restricted, has_encounter = excluded.has_encounter or access_patient.has_encounter`,
      [list.map(([id]) => id), list.map(([, p]) => p.restricted), list.map(([, p]) => p.encounter)],
    );
  }
  // Consent rules hold arrays: one statement each (there are few).
  for (const c of consents) {
    await tx.query(
      'insert into access_consent (consent_id, seq, patient_id, effect, actors, purposes, starts_at, ends_at) values ($1, $2, $3, $4, $5, $6, $7, $8)',
      c,
    );
  }
  if (results.length > 0) {
    await tx.query(
      'insert into access_result_link (resource_type, id, order_id) select * from unnest($1::text[], $2::text[], $3::text[]) on conflict do nothing',
      Array.from({ length: 3 }, (_, i) => col(results as unknown[][], i)),
    );
  }
  await announceAccessChange(tx, { all: true });
}

/** Removes what earlier versions of the resource projected, noting whose access that changes. */
async function unproject(tx: Queryable, v: WrittenVersion, patients: Set<string>, members: Set<string>): Promise<void> {
  const gone = await tx.query<{ patient_id: string }>('delete from access_relationship where source_type = $1 and source_id = $2 returning patient_id', [
    v.resourceType,
    v.id,
  ]);
  for (const r of gone.rows) patients.add(r.patient_id);
  const left = await tx.query<{ member: string }>('delete from access_membership where source_type = $1 and source_id = $2 returning member', [
    v.resourceType,
    v.id,
  ]);
  for (const r of left.rows) members.add(r.member);
  if (v.resourceType === 'Consent') {
    const revoked = await tx.query<{ patient_id: string }>('delete from access_consent where consent_id = $1 returning patient_id', [v.id]);
    for (const r of revoked.rows) patients.add(r.patient_id);
  }
  if (v.resourceType === 'Observation' || v.resourceType === 'DiagnosticReport') {
    await tx.query('delete from access_result_link where resource_type = $1 and id = $2', [v.resourceType, v.id]);
  }
}
