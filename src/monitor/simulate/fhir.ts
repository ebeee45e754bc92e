/**
 * The simulator's output shapes: FHIR R4 resources as a Bulk Data export writes them, and
 * AuditEvents shaped per IHE BALP (RESTful interactions, export and print, break-the-glass as a
 * DICOM Emergency Override with purpose of use ETREAT).
 */
import type { Dept, Hospital, Patient, Person, Staff, Ward } from './hospital.js';

const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
const EVENT_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-event-type';
const RESTFUL = 'http://hl7.org/fhir/restful-interaction';
const SUBTYPE = 'https://carewall.example/fhir/CodeSystem/audit-subtype';
const ENTITY_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-entity-type';
const OBJECT_ROLE = 'http://terminology.hl7.org/CodeSystem/object-role';
const ACT_REASON = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';
const ROLE_SYSTEM = 'https://carewall.example/fhir/CodeSystem/role';

export type Interaction = 'read' | 'search' | 'create' | 'update' | 'export' | 'print' | 'break-glass';

export interface SimEvent {
  t: number;
  user: Staff;
  address: string;
  interaction: Interaction;
  patients: Patient[];
  resource?: string;
  emergency?: boolean;
}

const ACTION: Record<Interaction, string> = { read: 'R', search: 'E', create: 'C', update: 'U', export: 'R', print: 'R', 'break-glass': 'E' };

export function auditEvent(id: number, e: SimEvent): Record<string, unknown> {
  const purpose = e.emergency ? [{ coding: [{ system: ACT_REASON, code: 'ETREAT' }] }] : undefined;
  let type: Record<string, string>;
  let subtype: Record<string, string>;
  if (e.interaction === 'export' || e.interaction === 'print') {
    type = { system: DCM, code: '110106', display: 'Export' };
    subtype = { system: SUBTYPE, code: e.interaction };
  } else if (e.interaction === 'break-glass') {
    type = { system: DCM, code: '110113', display: 'Security Alert' };
    subtype = { system: DCM, code: '110127', display: 'Emergency Override Started' };
  } else {
    type = { system: EVENT_TYPE, code: 'rest', display: 'RESTful Operation' };
    subtype = { system: RESTFUL, code: e.interaction === 'search' ? 'search-type' : e.interaction };
  }
  const entity: Array<Record<string, unknown>> = e.patients.map((p) => ({
    what: { reference: p.ref },
    type: { system: ENTITY_TYPE, code: '1' },
    role: { system: OBJECT_ROLE, code: '1' },
  }));
  if (e.resource) entity.push({ what: { reference: e.resource }, type: { system: ENTITY_TYPE, code: '2' }, role: { system: OBJECT_ROLE, code: '4' } });
  if (e.interaction === 'search')
    entity.push({ type: { system: ENTITY_TYPE, code: '2' }, role: { system: OBJECT_ROLE, code: '24' }, query: 'UGF0aWVudD9uYW1lPS4uLg==' });
  return {
    resourceType: 'AuditEvent',
    id: `ae-${id}`,
    type,
    subtype: [subtype],
    action: ACTION[e.interaction],
    recorded: new Date(e.t).toISOString(),
    outcome: '0',
    ...(purpose ? { purposeOfEvent: purpose } : {}),
    agent: [
      {
        type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/extra-security-role-type', code: 'humanuser' }] },
        who: { reference: e.user.ref },
        requestor: true,
        network: { address: e.address, type: '2' },
        ...(purpose ? { purposeOfUse: purpose } : {}),
      },
      { type: { coding: [{ system: DCM, code: '110152', display: 'Destination Role ID' }] }, who: { display: 'Simulated EHR' }, requestor: false },
    ],
    source: { observer: { display: 'Simulated EHR' }, type: [{ system: 'http://terminology.hl7.org/CodeSystem/security-source-type', code: '4' }] },
    entity,
  };
}

const date = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const instant = (ms: number) => new Date(ms).toISOString();

function personFields(p: Person) {
  return {
    name: [{ use: 'official', family: p.family, given: [p.given] }],
    gender: p.gender,
    birthDate: p.birthDate,
    address: [{ line: [`${p.house} ${p.street.name}`], city: p.street.city, postalCode: p.street.postalCode }],
    telecom: [{ system: 'phone', value: p.phone }],
  };
}

export function organization(d: Dept) {
  return {
    resourceType: 'Organization',
    id: d.id,
    active: true,
    type: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/organization-type', code: 'dept' }] }],
    name: d.name,
  };
}

export function location(w: Ward) {
  return { resourceType: 'Location', id: w.id, status: 'active', name: w.name, managingOrganization: { reference: `Organization/${w.dept.id}` } };
}

export function practitioner(s: Staff) {
  return {
    resourceType: 'Practitioner',
    id: s.id,
    active: s.end === undefined,
    identifier: [{ system: 'urn:sim:staff-number', value: s.id }],
    ...personFields(s.person),
  };
}

export function practitionerRoles(h: Hospital, s: Staff) {
  const simEnd = h.start + h.days * 86_400_000;
  const period = { start: date(s.start), ...(s.end !== undefined ? { end: date(s.end) } : {}) };
  const active = s.end === undefined || s.end > simEnd;
  const base = (id: string, ward: Ward | undefined) => ({
    resourceType: 'PractitionerRole',
    id,
    active,
    period,
    practitioner: { reference: s.ref },
    organization: { reference: `Organization/${(ward?.dept ?? s.dept).id}` },
    code: [{ coding: [{ system: ROLE_SYSTEM, code: s.role }] }],
    ...(ward ? { location: [{ reference: `Location/${ward.id}` }] } : {}),
  });
  const roles = [base(`role-${s.id}`, s.ward)];
  if (s.floatWard) roles.push({ ...base(`role-${s.id}-float`, s.floatWard), period });
  return roles;
}

export function patient(p: Patient) {
  const security = p.labels.map((l) =>
    l === 'VIP'
      ? { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'VIP', display: 'very important person' }
      : { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'EMP', display: 'employee information sensitivity' },
  );
  return {
    resourceType: 'Patient',
    id: p.id,
    ...(security.length > 0 ? { meta: { security } } : {}),
    identifier: [{ system: 'urn:sim:mrn', value: p.id.toUpperCase() }],
    ...personFields(p.person),
  };
}

export interface EncounterRec {
  id: string;
  patient: Patient;
  cls: 'IMP' | 'EMER' | 'AMB';
  dept: Dept;
  location?: Ward;
  start: number;
  end: number;
  participants: Staff[];
}

export function encounter(e: EncounterRec, now: number) {
  const finished = e.end <= now;
  return {
    resourceType: 'Encounter',
    id: e.id,
    status: finished ? 'finished' : 'in-progress',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: e.cls },
    subject: { reference: e.patient.ref },
    participant: e.participants.map((s) => ({ individual: { reference: s.ref } })),
    period: { start: instant(e.start), ...(finished ? { end: instant(e.end) } : {}) },
    ...(e.location ? { location: [{ location: { reference: `Location/${e.location.id}` } }] } : {}),
    serviceProvider: { reference: `Organization/${e.dept.id}` },
  };
}

export interface AppointmentRec {
  id: string;
  patient: Patient;
  physician: Staff;
  dept: Dept;
  start: number;
  created: number;
  status: 'booked' | 'fulfilled' | 'noshow';
}

export function appointment(a: AppointmentRec) {
  return {
    resourceType: 'Appointment',
    id: a.id,
    status: a.status,
    created: instant(a.created),
    start: instant(a.start),
    end: instant(a.start + 20 * 60_000),
    participant: [
      { actor: { reference: a.patient.ref }, status: 'accepted' },
      { actor: { reference: a.physician.ref }, status: 'accepted' },
      ...(a.dept.clinic ? [{ actor: { reference: `Location/${a.dept.clinic.id}` }, status: 'accepted' }] : []),
    ],
  };
}

export interface CareTeamRec {
  id: string;
  patient: Patient;
  members: Staff[];
  dept: Dept;
  start: number;
}

export function careTeam(c: CareTeamRec) {
  return {
    resourceType: 'CareTeam',
    id: c.id,
    status: 'active',
    subject: { reference: c.patient.ref },
    period: { start: date(c.start) },
    participant: c.members.map((m) => ({ member: { reference: m.ref } })),
    managingOrganization: [{ reference: `Organization/${c.dept.id}` }],
  };
}

export interface ServiceRequestRec {
  id: string;
  patient: Patient;
  requester: Staff;
  performer: { staff?: Staff; dept?: Dept };
  authored: number;
  category: 'consult' | 'referral' | 'lab';
}

export function serviceRequest(r: ServiceRequestRec) {
  return {
    resourceType: 'ServiceRequest',
    id: r.id,
    status: 'active',
    intent: 'order',
    category: [{ text: r.category }],
    subject: { reference: r.patient.ref },
    authoredOn: instant(r.authored),
    requester: { reference: r.requester.ref },
    performer: [r.performer.staff ? { reference: r.performer.staff.ref } : { reference: `Organization/${r.performer.dept!.id}` }],
  };
}
