/**
 * Keeps the access tables in step with the records: called by the FHIR service inside the
 * transaction of every write, so a relationship exists exactly as long as the resource recording it
 * says so, for every Carewall process at once (there is no cache to expire).
 */
import type { Resource } from '@medplum/fhirtypes';
import type { Queryable } from '../db/database.js';
import { derive } from './relationships.js';

export interface WrittenVersion {
  resourceType: string;
  id: string;
  lastUpdated: Date;
  deleted: boolean;
  resource?: Resource;
}

const SOURCE_TABLES = ['access_relationship', 'access_membership'] as const;

export async function projectWrite(tx: Queryable, v: WrittenVersion): Promise<void> {
  // A deleted chart keeps the relationships its last version named (its general practitioner), so
  // its carers still see that it was deleted (410) and its history; everything filed under it must
  // have been deleted first, which ended those relationships.
  if (v.deleted && v.resourceType === 'Patient') return;
  for (const table of SOURCE_TABLES) await tx.query(`delete from ${table} where source_type = $1 and source_id = $2`, [v.resourceType, v.id]);
  if (v.resourceType === 'Consent') await tx.query('delete from access_consent where consent_id = $1', [v.id]);
  if (v.resourceType === 'Observation' || v.resourceType === 'DiagnosticReport') {
    await tx.query('delete from access_result_link where resource_type = $1 and id = $2', [v.resourceType, v.id]);
  }
  if (v.deleted || !v.resource) return;
  const d = derive(v.resource as Resource & { id: string }, v.lastUpdated);

  if (d.relationships.length > 0) {
    const r = d.relationships;
    await tx.query(
      `insert into access_relationship (source_type, source_id, patient_id, principal, kind, role, direct, starts_at, ends_at)
       select $1, $2, p, pr, k, ro, di, s::timestamptz, e::timestamptz
       from unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::boolean[], $8::text[], $9::text[]) as t(p, pr, k, ro, di, s, e)
       on conflict do nothing`,
      [v.resourceType, v.id, r.map((x) => x.patientId), r.map((x) => x.principal), r.map((x) => x.kind), r.map((x) => x.role), r.map((x) => x.direct), r.map((x) => x.startsAt ?? null), r.map((x) => x.endsAt ?? null)],
    );
  }
  if (d.memberships.length > 0) {
    const m = d.memberships;
    await tx.query(
      `insert into access_membership (source_type, source_id, member, group_ref, kind, direct, starts_at, ends_at)
       select $1, $2, mb, g, k, di, s::timestamptz, e::timestamptz
       from unnest($3::text[], $4::text[], $5::text[], $6::boolean[], $7::text[], $8::text[]) as t(mb, g, k, di, s, e)
       on conflict do nothing`,
      [v.resourceType, v.id, m.map((x) => x.member), m.map((x) => x.group), m.map((x) => x.kind), m.map((x) => x.direct), m.map((x) => x.startsAt ?? null), m.map((x) => x.endsAt ?? null)],
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
    await tx.query(
      'insert into access_result_link (resource_type, id, order_id) select $1, $2, unnest($3::text[]) on conflict do nothing',
      [v.resourceType, v.id, d.resultOf],
    );
  }
}

function patientOfConsent(resource: Resource): string | undefined {
  const ref = (resource as { patient?: { reference?: string } }).patient?.reference ?? '';
  return /^Patient\/([A-Za-z0-9\-.]{1,64})$/.exec(ref)?.[1];
}
