/**
 * Keeps the access tables in step with the records: called by the FHIR service inside the
 * transaction of every write, so a relationship exists exactly as long as the resource recording it
 * says so, for every Carewall process at once. Each write that changes who may see a patient also
 * notifies every process (delivered when it commits) so their decision caches drop what it changed.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { Queryable } from '../db/index.js';
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

/** Projects one written version; returns what changed (for this process's cache, once committed). */
export async function projectWrite(tx: Queryable, v: WrittenVersion): Promise<AccessChange> {
  const patients = new Set<string>();
  const members = new Set<string>();
  await project(tx, v, patients, members);
  const change = { patients, members };
  await announceAccessChange(tx, change);
  return change;
}

/** Tells every process that these patients' or practitioners' access changed (after the caller's transaction commits). */
export async function announceAccessChange(q: Queryable, change: AccessChange): Promise<void> {
  const payload = changePayload(change);
  if (payload) await q.query('select pg_notify($1, $2)', [ACCESS_CHANNEL, payload]);
}

async function project(tx: Queryable, v: WrittenVersion, patients: Set<string>, members: Set<string>): Promise<void> {
  // A deleted chart keeps the relationships its last version named (its general practitioner), so
  // its carers still see that it was deleted (410) and its history; everything filed under it must
  // have been deleted first, which ended those relationships.
  if (v.deleted && v.resourceType === 'Patient') return;
  // A first version replaces nothing: the deletes would find no rows (round trips a create saves).
  if (v.versionId !== 1 || v.deleted) await unproject(tx, v, patients, members);
  if (v.deleted || !v.resource) return;
  const d = derive(v.resource as Resource & { id: string }, v.lastUpdated);

  for (const r of d.relationships) patients.add(r.patientId);
  for (const m of d.memberships) members.add(m.member);
  if (d.patient) patients.add(v.id);
  if (d.encounterFor) patients.add(d.encounterFor);
  if (d.relationships.length > 0) {
    const r = d.relationships;
    await tx.query(
      `insert into access_relationship (source_type, source_id, patient_id, principal, kind, role, direct, starts_at, ends_at, made_by, made_as)
       select $1, $2, p, pr, k, ro, di, s::timestamptz, e::timestamptz, $10, $11
       from unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::boolean[], $8::text[], $9::text[]) as t(p, pr, k, ro, di, s, e)
       on conflict do nothing`,
      [
        v.resourceType,
        v.id,
        r.map((x) => x.patientId),
        r.map((x) => x.principal),
        r.map((x) => x.kind),
        r.map((x) => x.role),
        r.map((x) => x.direct),
        r.map((x) => x.startsAt ?? null),
        r.map((x) => x.endsAt ?? null),
        v.selfMade?.by ?? null,
        v.selfMade?.as ?? null,
      ],
    );
  }
  if (d.memberships.length > 0) {
    const m = d.memberships;
    await tx.query(
      `insert into access_membership (source_type, source_id, member, group_ref, kind, direct, starts_at, ends_at, made_by)
       select $1, $2, mb, g, k, di, s::timestamptz, e::timestamptz, $9
       from unnest($3::text[], $4::text[], $5::text[], $6::boolean[], $7::text[], $8::text[]) as t(mb, g, k, di, s, e)
       on conflict do nothing`,
      [
        v.resourceType,
        v.id,
        m.map((x) => x.member),
        m.map((x) => x.group),
        m.map((x) => x.kind),
        m.map((x) => x.direct),
        m.map((x) => x.startsAt ?? null),
        m.map((x) => x.endsAt ?? null),
        v.selfMade?.by ?? null,
      ],
    );
  }
  if (d.patient) {
    await tx.query(
      `insert into access_patient (patient_id, restricted) values ($1, $2)
       on conflict (patient_id) do update set restricted = excluded.restricted`,
      [v.id, d.patient.restricted],
    );
  }
  if (d.encounterFor) {
    await tx.query(
      `insert into access_patient (patient_id, has_encounter) values ($1, true)
       on conflict (patient_id) do update set has_encounter = true`,
      [d.encounterFor],
    );
  }
  if (d.consentRules.length > 0) {
    const patientId = patientOfConsent(v.resource);
    if (patientId) {
      patients.add(patientId);
      let seq = 0;
      for (const rule of d.consentRules) {
        await tx.query(
          `insert into access_consent (consent_id, seq, patient_id, effect, actors, purposes, starts_at, ends_at)
           values ($1, $2, $3, $4, $5, $6, $7, $8)`,
          [v.id, seq++, patientId, rule.effect, rule.actors, rule.purposes, rule.startsAt ?? null, rule.endsAt ?? null],
        );
      }
    }
  }
  if (d.resultOf.length > 0) {
    await tx.query('insert into access_result_link (resource_type, id, order_id) select $1, $2, unnest($3::text[]) on conflict do nothing', [
      v.resourceType,
      v.id,
      d.resultOf,
    ]);
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
