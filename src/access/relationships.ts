/**
 * Care relationships, derived from the FHIR resources that record them. Pure functions: a resource
 * in, the rows the access tables should hold for it out. The projection (projection.ts) replaces a
 * resource's rows each time it is written, in the same transaction, so a relationship ends the
 * moment the resource that recorded it changes.
 *
 * A relationship links a principal to a patient. Principals are the references FHIR uses for
 * people and groups: Practitioner, PractitionerRole and CareTeam are direct (the person is named in
 * the patient's care); Organization (a department) and Location (a ward) are wide.
 *
 * A membership links a practitioner to a group: a department or ward (from PractitionerRole), a
 * PractitionerRole itself, or a CareTeam (its members, so that an EpisodeOfCare naming the team
 * reaches them).
 */
import type {
  CareTeam,
  Consent,
  Encounter,
  EpisodeOfCare,
  Patient,
  PractitionerRole,
  Reference,
  Resource,
  ServiceRequest,
  Appointment,
} from '@medplum/fhirtypes';
import { consentRules, type ConsentRule } from './consent.js';
import { isRestrictedPatient } from './labels.js';

export type RelationshipKind = 'care-team' | 'encounter' | 'appointment' | 'service-request' | 'episode-of-care' | 'general-practitioner' | 'ward';
export type MembershipKind = 'department' | 'ward' | 'role' | 'care-team';

export interface Relationship {
  patientId: string;
  principal: string;
  kind: RelationshipKind;
  /** How the principal is named in the source: 'participant', 'performer', 'care-manager', ... */
  role: string;
  direct: boolean;
  /** Raw bounds as recorded; windows (follow-up, before/after an appointment) are added when checked. */
  startsAt?: string;
  endsAt?: string;
}

export interface Membership {
  member: string;
  group: string;
  kind: MembershipKind;
  direct: boolean;
  startsAt?: string;
  endsAt?: string;
}

export interface Derived {
  relationships: Relationship[];
  memberships: Membership[];
  consentRules: ConsentRule[];
  /** ServiceRequest ids a result (Observation, DiagnosticReport) is based on. */
  resultOf: string[];
  patient?: { restricted: boolean };
  /** The patient has (had) an encounter: billing may see their encounters and diagnoses. */
  encounterFor?: string;
}

const PRINCIPAL_TYPES = ['Practitioner', 'PractitionerRole', 'CareTeam', 'Organization', 'Location'] as const;
const DIRECT_TYPES = ['Practitioner', 'PractitionerRole', 'CareTeam'];

/** 'Practitioner/abc' for a local reference to a principal type, else undefined. */
export function principalRef(ref: Reference | undefined, types: readonly string[] = PRINCIPAL_TYPES): string | undefined {
  const m = /^([A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})$/.exec(ref?.reference ?? '');
  return m && types.includes(m[1]) ? `${m[1]}/${m[2]}` : undefined;
}

export function isDirectPrincipal(principal: string): boolean {
  return DIRECT_TYPES.includes(principal.split('/')[0]);
}

function patientIdOf(ref: Reference | undefined): string | undefined {
  return /^Patient\/([A-Za-z0-9\-.]{1,64})$/.exec(ref?.reference ?? '')?.[1];
}

const ENCOUNTER_OPEN = ['planned', 'arrived', 'triaged', 'in-progress', 'onleave'];
const ENCOUNTER_AT_WARD = ['arrived', 'triaged', 'in-progress', 'onleave'];
const APPOINTMENT_BOOKED = ['booked', 'arrived', 'checked-in'];

/** `lastUpdated` stands in for an end the resource does not record (a finished encounter without period.end). */
export function derive(resource: Resource & { id: string }, lastUpdated: Date): Derived {
  const out: Derived = { relationships: [], memberships: [], consentRules: [], resultOf: [] };
  const rel = (patientId: string | undefined, principal: string | undefined, kind: RelationshipKind, role: string, startsAt?: string, endsAt?: string) => {
    if (!patientId || !principal) return;
    out.relationships.push({ patientId, principal, kind, role, direct: isDirectPrincipal(principal), startsAt, endsAt });
  };

  switch (resource.resourceType) {
    case 'Patient': {
      const p = resource as Patient;
      out.patient = { restricted: isRestrictedPatient(p) };
      for (const gp of p.generalPractitioner ?? []) rel(p.id, principalRef(gp), 'general-practitioner', 'general-practitioner');
      break;
    }
    case 'CareTeam': {
      const t = resource as CareTeam & { id: string };
      if (t.status !== 'active') break;
      const patientId = patientIdOf(t.subject);
      for (const p of t.participant ?? []) {
        const member = principalRef(p.member);
        const startsAt = later(t.period?.start, p.period?.start);
        const endsAt = earlier(t.period?.end, p.period?.end);
        rel(patientId, member, 'care-team', 'member', startsAt, endsAt);
        // Members of the team, so that an EpisodeOfCare naming the team reaches them.
        // (a PractitionerRole member reaches its practitioner through the role's own membership)
        if (member?.startsWith('Practitioner/') || member?.startsWith('PractitionerRole/')) {
          out.memberships.push({ member, group: `CareTeam/${t.id}`, kind: 'care-team', direct: true, startsAt, endsAt });
        }
      }
      break;
    }
    case 'Encounter': {
      const e = resource as Encounter;
      const patientId = patientIdOf(e.subject);
      if (patientId) out.encounterFor = patientId;
      const status = e.status ?? 'unknown';
      let endsAt: string | undefined;
      if (status === 'finished') endsAt = e.period?.end ?? lastUpdated.toISOString();
      else if (!ENCOUNTER_OPEN.includes(status)) break; // cancelled, entered-in-error, unknown: no access
      for (const p of e.participant ?? []) {
        rel(patientId, principalRef(p.individual, ['Practitioner', 'PractitionerRole']), 'encounter', 'participant', undefined, endsAt ?? p.period?.end);
      }
      if (ENCOUNTER_AT_WARD.includes(status)) {
        for (const l of e.location ?? []) {
          if (l.status === 'completed' || l.status === 'planned') continue;
          rel(patientId, principalRef(l.location, ['Location']), 'ward', 'location');
        }
      }
      break;
    }
    case 'Appointment': {
      const a = resource as Appointment;
      // Without a start there is no window to bound (the validator refuses a booked one anyway).
      if (!APPOINTMENT_BOOKED.includes(a.status ?? '') || !a.start || Number.isNaN(Date.parse(a.start))) break;
      const actors = (a.participant ?? []).map((p) => p.actor);
      const patientId = actors.map(patientIdOf).find((id) => id);
      const endsAt = appointmentEnd(a.start, a.end);
      for (const actor of actors) {
        rel(patientId, principalRef(actor, ['Practitioner', 'PractitionerRole', 'CareTeam', 'Organization']), 'appointment', 'participant', a.start, endsAt);
      }
      break;
    }
    case 'ServiceRequest': {
      const s = resource as ServiceRequest;
      if (s.status !== 'active') break;
      for (const p of s.performer ?? []) rel(patientIdOf(s.subject), principalRef(p), 'service-request', 'performer');
      break;
    }
    case 'EpisodeOfCare': {
      const e = resource as EpisodeOfCare;
      if (e.status !== 'active') break;
      const patientId = patientIdOf(e.patient);
      rel(patientId, principalRef(e.careManager, ['Practitioner', 'PractitionerRole']), 'episode-of-care', 'care-manager', e.period?.start, e.period?.end);
      for (const t of e.team ?? []) rel(patientId, principalRef(t, ['CareTeam']), 'episode-of-care', 'team', e.period?.start, e.period?.end);
      break;
    }
    case 'PractitionerRole': {
      const r = resource as PractitionerRole & { id: string };
      const member = principalRef(r.practitioner, ['Practitioner']);
      if (!member || r.active === false) break;
      const startsAt = r.period?.start;
      const endsAt = r.period?.end;
      out.memberships.push({ member, group: `PractitionerRole/${r.id}`, kind: 'role', direct: true, startsAt, endsAt });
      const org = principalRef(r.organization, ['Organization']);
      if (org) out.memberships.push({ member, group: org, kind: 'department', direct: false, startsAt, endsAt });
      for (const l of r.location ?? []) {
        const ward = principalRef(l, ['Location']);
        if (ward) out.memberships.push({ member, group: ward, kind: 'ward', direct: false, startsAt, endsAt });
      }
      break;
    }
    case 'Consent':
      out.consentRules = consentRules(resource as Consent);
      break;
    case 'Observation':
    case 'DiagnosticReport':
      for (const b of (resource as { basedOn?: Reference[] }).basedOn ?? []) {
        const id = /^ServiceRequest\/([A-Za-z0-9\-.]{1,64})$/.exec(b.reference ?? '')?.[1];
        if (id) out.resultOf.push(id);
      }
      break;
  }
  return out;
}

/**
 * An appointment grants access around its time, not for the length it claims: reception books
 * appointments without being in the patient's care, and an "appointment" ending in ten years would
 * otherwise be a standing key to the chart. Longer stays are encounters, recorded by clinicians.
 */
export const APPOINTMENT_LONGEST_HOURS = 24;

function appointmentEnd(start: string, end: string | undefined): string {
  if (end === undefined) return start;
  const longest = Date.parse(start) + APPOINTMENT_LONGEST_HOURS * 3600_000;
  const stated = Date.parse(end);
  return !Number.isNaN(stated) && stated <= longest ? end : new Date(longest).toISOString();
}

function later(a?: string, b?: string): string | undefined {
  if (!a) return b;
  if (!b) return a;
  return Date.parse(a) >= Date.parse(b) ? a : b;
}

function earlier(a?: string, b?: string): string | undefined {
  if (!a) return b;
  if (!b) return a;
  return Date.parse(a) <= Date.parse(b) ? a : b;
}
