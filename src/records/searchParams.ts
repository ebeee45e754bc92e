/**
 * Search parameters: which ones each type supports, and how a resource's values are indexed.
 * The CapabilityStatement is generated from this table, so it lists exactly what works.
 *
 * Index kinds:
 *  - token:  exact-match codes and identifiers, stored as blind-index HMACs;
 *  - string: names, stored as HMACs of every word prefix (case- and accent-insensitive "starts with");
 *  - blind-date: birth dates, stored as HMACs of the year, month and day (equality only, since a
 *    plaintext birth date would identify patients in a database copy);
 *  - date:   clinical dates and periods, stored as plaintext ranges so that ge/le/gt/lt work;
 *  - compartment (patient/subject): the compartment column, records_resource.patient_id;
 *  - reference: local 'Type/id' references to the listed target types, in records_reference
 *    (server-assigned ids, not patient data; the compartment column is plaintext for the same reason).
 */
import type { Resource } from '@medplum/fhirtypes';
import { isSupportedType, PATIENT_REFERENCE_PATHS, valuesAt } from '../shared/index.js';

export type ParamKind = 'token' | 'string' | 'blind-date' | 'date' | 'compartment' | 'reference';

export interface SearchParamDef {
  name: string;
  kind: ParamKind;
  /** FHIR search parameter type for the CapabilityStatement. */
  fhirType: 'token' | 'string' | 'date' | 'reference';
  paths: string[];
  documentation: string;
  /** compartment and reference: the types a reference may point to (only types this server serves). */
  targets?: string[];
  /**
   * reference: a row matches only through a target the caller may see (a Group's member): else a
   * search by a hidden patient would say which groups that patient is in.
   */
  visibleTargets?: boolean;
}

const token = (name: string, paths: string[], documentation: string): SearchParamDef => ({
  name,
  kind: 'token',
  fhirType: 'token',
  paths,
  documentation,
});
const str = (name: string, paths: string[], documentation: string): SearchParamDef => ({
  name,
  kind: 'string',
  fhirType: 'string',
  paths,
  documentation,
});
const date = (name: string, paths: string[], documentation: string): SearchParamDef => ({
  name,
  kind: 'date',
  fhirType: 'date',
  paths,
  documentation,
});

const IDENTIFIER = token('identifier', ['identifier'], 'An identifier (system|value, or value)');
const STATUS = token('status', ['status'], 'Status code');
const CODE = token('code', ['code'], 'A code (system|code, or code)');
const PERSON_NAMES = [
  str(
    'name',
    ['name.family', 'name.given', 'name.prefix', 'name.suffix', 'name.text'],
    'Any part of a name, starts-with, case- and accent-insensitive; several words must all match',
  ),
  str('family', ['name.family'], 'Family name, starts-with'),
  str('given', ['name.given'], 'Given name, starts-with'),
];

const ref = (name: string, paths: string[], targets: string[], documentation: string): SearchParamDef => ({
  name,
  kind: 'reference',
  fhirType: 'reference',
  paths,
  // Types this server does not serve can never be found locally, so they are not indexed.
  targets: targets.filter(isSupportedType),
  documentation: `${documentation} (Type/<id> or <id>)`,
});

const PEOPLE = ['Practitioner', 'PractitionerRole', 'Organization', 'CareTeam', 'Patient'];
const ENCOUNTER = ref('encounter', ['encounter'], ['Encounter'], 'The encounter');
const BASED_ON = ref('based-on', ['basedOn'], ['ServiceRequest'], 'The order this fulfils');

function patientRefs(type: string): SearchParamDef[] {
  const paths = PATIENT_REFERENCE_PATHS[type];
  const defs: SearchParamDef[] = [
    { name: 'patient', kind: 'compartment', fhirType: 'reference', paths, targets: ['Patient'], documentation: 'The patient (Patient/<id> or <id>)' },
  ];
  if (paths.includes('subject')) {
    defs.push({
      name: 'subject',
      kind: 'compartment',
      fhirType: 'reference',
      paths,
      targets: ['Patient'],
      documentation: 'The subject patient (Patient/<id> or <id>)',
    });
  }
  return defs;
}

const BY_TYPE: Record<string, SearchParamDef[]> = {
  Patient: [
    IDENTIFIER,
    ...PERSON_NAMES,
    {
      name: 'birthdate',
      kind: 'blind-date',
      fhirType: 'date',
      paths: ['birthDate'],
      documentation: 'Birth date: a year, year-month or full date, equality only',
    },
    token('gender', ['gender'], 'Administrative gender'),
    ref('general-practitioner', ['generalPractitioner'], ['Practitioner', 'PractitionerRole', 'Organization'], "The patient's general practitioner"),
    ref('organization', ['managingOrganization'], ['Organization'], 'The managing organization'),
  ],
  Practitioner: [IDENTIFIER, ...PERSON_NAMES],
  PractitionerRole: [
    IDENTIFIER,
    token('role', ['code'], 'A role code'),
    ref('practitioner', ['practitioner'], ['Practitioner'], 'The practitioner in the role'),
    ref('organization', ['organization'], ['Organization'], 'The organization (department) of the role'),
    ref('location', ['location'], ['Location'], 'Where the role is performed (ward)'),
  ],
  Organization: [
    IDENTIFIER,
    str('name', ['name', 'alias'], 'Name, starts-with'),
    ref('partof', ['partOf'], ['Organization'], 'The organization this is part of'),
  ],
  Location: [
    IDENTIFIER,
    str('name', ['name', 'alias'], 'Name, starts-with'),
    STATUS,
    ref('organization', ['managingOrganization'], ['Organization'], 'The managing organization'),
    ref('partof', ['partOf'], ['Location'], 'The location this is part of'),
  ],
  Encounter: [
    IDENTIFIER,
    ...patientRefs('Encounter'),
    STATUS,
    date('date', ['period'], 'When the encounter took place'),
    ref('participant', ['participant.individual'], ['Practitioner', 'PractitionerRole'], 'A participant'),
    ref('practitioner', ['participant.individual'], ['Practitioner'], 'A participating practitioner'),
    ref('location', ['location.location'], ['Location'], 'Where the encounter took place'),
    ref('episode-of-care', ['episodeOfCare'], ['EpisodeOfCare'], 'The episode of care'),
    ref('appointment', ['appointment'], ['Appointment'], 'The appointment'),
    ref('service-provider', ['serviceProvider'], ['Organization'], 'The organization responsible'),
    BASED_ON,
  ],
  Appointment: [
    IDENTIFIER,
    ...patientRefs('Appointment'),
    STATUS,
    date('date', ['start'], 'Appointment start'),
    ref('actor', ['participant.actor'], ['Patient', 'Practitioner', 'PractitionerRole', 'CareTeam', 'Location'], 'A participant'),
    ref('practitioner', ['participant.actor'], ['Practitioner'], 'A participating practitioner'),
    ref('location', ['participant.actor'], ['Location'], 'The location'),
    BASED_ON,
  ],
  EpisodeOfCare: [
    IDENTIFIER,
    ...patientRefs('EpisodeOfCare'),
    STATUS,
    date('date', ['period'], 'Period of the episode'),
    ref('care-manager', ['careManager'], ['Practitioner', 'PractitionerRole'], 'The care manager'),
    ref('organization', ['managingOrganization'], ['Organization'], 'The managing organization'),
  ],
  CareTeam: [
    IDENTIFIER,
    ...patientRefs('CareTeam'),
    STATUS,
    date('date', ['period'], 'Period of the care team'),
    ref('participant', ['participant.member'], PEOPLE, 'A member of the team'),
    ENCOUNTER,
  ],
  ServiceRequest: [
    IDENTIFIER,
    ...patientRefs('ServiceRequest'),
    STATUS,
    CODE,
    date('authored', ['authoredOn'], 'When the request was made'),
    ref('requester', ['requester'], ['Practitioner', 'PractitionerRole', 'Organization', 'Patient'], 'Who asked for it'),
    ref('performer', ['performer'], PEOPLE, 'Who is to perform it'),
    ENCOUNTER,
    BASED_ON,
  ],
  Observation: [
    IDENTIFIER,
    ...patientRefs('Observation'),
    STATUS,
    CODE,
    date('date', ['effectiveDateTime', 'effectivePeriod', 'effectiveInstant'], 'Clinically relevant time'),
    ENCOUNTER,
    BASED_ON,
    ref('performer', ['performer'], PEOPLE, 'Who performed it'),
    ref('has-member', ['hasMember'], ['Observation'], 'A member observation of a panel'),
  ],
  Condition: [
    IDENTIFIER,
    ...patientRefs('Condition'),
    CODE,
    token('clinical-status', ['clinicalStatus'], 'active | recurrence | relapse | inactive | remission | resolved'),
    date('recorded-date', ['recordedDate'], 'When the condition was recorded'),
    ENCOUNTER,
    ref('asserter', ['asserter'], ['Practitioner', 'PractitionerRole', 'Patient'], 'Who asserted it'),
  ],
  AllergyIntolerance: [
    IDENTIFIER,
    ...patientRefs('AllergyIntolerance'),
    CODE,
    token('clinical-status', ['clinicalStatus'], 'active | inactive | resolved'),
    date('date', ['recordedDate'], 'When recorded'),
  ],
  MedicationRequest: [
    IDENTIFIER,
    ...patientRefs('MedicationRequest'),
    STATUS,
    token('code', ['medicationCodeableConcept'], 'Medication code'),
    date('authoredon', ['authoredOn'], 'When the prescription was written'),
    ENCOUNTER,
    ref('requester', ['requester'], ['Practitioner', 'PractitionerRole', 'Organization', 'Patient'], 'Who prescribed it'),
  ],
  Procedure: [
    IDENTIFIER,
    ...patientRefs('Procedure'),
    STATUS,
    CODE,
    date('date', ['performedDateTime', 'performedPeriod'], 'When performed'),
    ENCOUNTER,
    BASED_ON,
    ref('performer', ['performer.actor'], ['Practitioner', 'PractitionerRole', 'Organization', 'Patient'], 'Who performed it'),
  ],
  DiagnosticReport: [
    IDENTIFIER,
    ...patientRefs('DiagnosticReport'),
    STATUS,
    CODE,
    date('date', ['effectiveDateTime', 'effectivePeriod'], 'Clinically relevant time'),
    ENCOUNTER,
    BASED_ON,
    ref('result', ['result'], ['Observation'], 'An observation the report is about'),
    ref('performer', ['performer'], ['Practitioner', 'PractitionerRole', 'Organization', 'CareTeam'], 'Who is responsible for the report'),
  ],
  DocumentReference: [
    IDENTIFIER,
    ...patientRefs('DocumentReference'),
    STATUS,
    token('type', ['type'], 'Kind of document'),
    date('date', ['date'], 'When created'),
    ref('encounter', ['context.encounter'], ['Encounter', 'EpisodeOfCare'], 'The encounter or episode the document belongs to'),
    ref('author', ['author'], ['Practitioner', 'PractitionerRole', 'Organization', 'Patient'], 'Who wrote it'),
  ],
  Consent: [IDENTIFIER, ...patientRefs('Consent'), STATUS, date('date', ['dateTime'], 'When the consent was agreed')],
  Device: [
    IDENTIFIER,
    STATUS,
    token('type', ['type'], 'Device class (the update class code)'),
    str('manufacturer', ['manufacturer'], 'Manufacturer, starts-with'),
    str('model', ['modelNumber'], 'Model number, starts-with'),
    ref('location', ['location'], ['Location'], 'Where the device is'),
    ref('definition', ['definition'], ['DeviceDefinition'], 'Its model'),
  ],
  DeviceDefinition: [IDENTIFIER, token('type', ['type'], 'Device class')],
  Group: [
    IDENTIFIER,
    str('name', ['name'], 'Name, starts-with'),
    token('type', ['type'], 'The kind of members (person: this server keeps groups of patients only)'),
    token('actual', ['actual'], 'true: the members are listed; false: a definition'),
    CODE,
    {
      ...ref('member', ['member.entity'], ['Patient'], 'A member: matched only for a patient the caller may see'),
      visibleTargets: true,
    },
  ],
};

/** Parameters every type supports, answered from columns rather than index tables. */
export const COMMON_PARAMS = ['_id', '_lastUpdated'] as const;
/** Result-control parameters. */
export const CONTROL_PARAMS = ['_count', '_offset', '_total', '_summary', '_elements', '_format', '_pretty'] as const;

export function paramsFor(type: string): SearchParamDef[] {
  return BY_TYPE[type] ?? [];
}

/** Parameters that point at other resources: what `_include`, `_revinclude` and `_has` can follow. */
export function linkParamsFor(type: string): SearchParamDef[] {
  return paramsFor(type).filter((p) => p.kind === 'compartment' || p.kind === 'reference');
}

/** 'Encounter/123' (or 'Encounter/123/_history/2') as type and id; anything else (absolute URLs, urn:, contained) is not local. */
export function localReference(reference: unknown): { type: string; id: string } | undefined {
  if (typeof reference !== 'string') return undefined;
  const m = /^([A-Z][A-Za-z]{1,63})\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/.exec(reference);
  return m ? { type: m[1], id: m[2] } : undefined;
}

export function paramDef(type: string, name: string): SearchParamDef | undefined {
  return paramsFor(type).find((p) => p.name === name);
}

/** The values a resource is indexed under. Blind-index digests are computed by the caller. */
export interface IndexEntries {
  tokens: Array<{ param: string; value: string }>;
  strings: Array<{ param: string; text: string }>;
  dates: Array<{ param: string; low: string; high: string }>;
  /** Local references ('Type/id') under reference search parameters, for _include, _revinclude and _has. */
  references: Array<{ param: string; targetType: string; targetId: string }>;
}

export function indexEntries(resource: Resource): IndexEntries {
  const out: IndexEntries = { tokens: [], strings: [], dates: [], references: [] };
  for (const def of paramsFor(resource.resourceType)) {
    for (const value of def.paths.flatMap((p) => valuesAt(resource, p))) {
      if (def.kind === 'token') out.tokens.push(...tokenForms(value).map((v) => ({ param: def.name, value: v })));
      else if (def.kind === 'string' && typeof value === 'string') out.strings.push({ param: def.name, text: value });
      else if (def.kind === 'blind-date' && typeof value === 'string') {
        for (const prefix of datePrecisions(value)) out.tokens.push({ param: def.name, value: prefix });
      } else if (def.kind === 'date') {
        const range = rangeOf(value);
        if (range) out.dates.push({ param: def.name, ...range });
      } else if (def.kind === 'reference' && value && typeof value === 'object') {
        const target = localReference((value as { reference?: unknown }).reference);
        if (target && def.targets!.includes(target.type)) out.references.push({ param: def.name, targetType: target.type, targetId: target.id });
      }
    }
  }
  return out;
}

/**
 * The forms a token can be searched by: `code` (any system), `system|code`, `|code` (no system)
 * and `system|` (any code of that system).
 */
function tokenForms(value: unknown): string[] {
  if (typeof value === 'string' || typeof value === 'boolean') return [String(value), `|${value}`];
  if (!value || typeof value !== 'object') return [];
  const v = value as { system?: string; value?: string; code?: string; coding?: unknown[] };
  if (Array.isArray(v.coding)) return v.coding.flatMap(tokenForms);
  const code = v.code ?? v.value;
  if (typeof code !== 'string') return [];
  return v.system ? [code, `${v.system}|${code}`, `${v.system}|`] : [code, `|${code}`];
}

/** '1980-05-12' is found by '1980', '1980-05' and '1980-05-12'. */
export function datePrecisions(value: string): string[] {
  const m = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?/.exec(value);
  if (!m) return [];
  const out = [m[1]];
  if (m[2]) out.push(`${m[1]}-${m[2]}`);
  if (m[3]) out.push(`${m[1]}-${m[2]}-${m[3]}`);
  return out;
}

/** The half-open instant range [low, high) a FHIR date, dateTime, instant or Period covers. */
export function rangeOf(value: unknown): { low: string; high: string } | undefined {
  if (typeof value === 'string') return dateRange(value);
  if (value && typeof value === 'object') {
    const p = value as { start?: string; end?: string };
    if (p.start === undefined && p.end === undefined) return undefined;
    const low = p.start ? dateRange(p.start)?.low : '-infinity';
    const high = p.end ? dateRange(p.end)?.high : 'infinity';
    if (!low || !high) return undefined;
    return { low, high };
  }
  return undefined;
}

/** A date at its own precision: '2024' covers the whole year, '2024-03-01T10:00:00Z' one second. */
export function dateRange(text: string): { low: string; high: string } | undefined {
  const m = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, tz] = m;
  const year = Number(y);
  const month = mo === undefined ? 1 : Number(mo);
  const day = d === undefined ? 1 : Number(d);
  // FHIR's years are 0001-9999; a day must exist in its month (Date would roll 02-30 into March).
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return undefined;
  if (h !== undefined && (Number(h) > 23 || Number(mi) > 59 || Number(s ?? 0) > 59)) return undefined;
  if (tz !== undefined && tz !== 'Z' && (Number(tz.slice(1, 3)) > 14 || Number(tz.slice(4)) > 59)) return undefined;
  let low: number;
  let high: number;
  if (h === undefined) {
    low = utc(year, month - 1, day);
    high = !mo ? utc(year + 1, 0, 1) : !d ? utc(year, month, 1) : utc(year, month - 1, day + 1);
  } else {
    const offset = tz === undefined || tz === 'Z' ? 0 : (tz[0] === '-' ? -1 : 1) * (Number(tz.slice(1, 3)) * 60 + Number(tz.slice(4))) * 60_000;
    low = utc(year, month - 1, day, Number(h), Number(mi), Number(s ?? 0), frac ? Math.floor(Number(frac) * 1000) : 0) - offset;
    high = low + (s === undefined ? 60_000 : frac ? 1 : 1000);
  }
  return { low: instantText(low), high: instantText(high) };
}

function daysIn(year: number, month: number): number {
  return new Date(utc(year, month, 0)).getUTCDate();
}

/** Date.UTC reads years 0-99 as 1900-1999: set the full year instead. */
function utc(year: number, month: number, day: number, h = 0, mi = 0, s = 0, ms = 0): number {
  const t = new Date(Date.UTC(2000, month, day, h, mi, s, ms));
  t.setUTCFullYear(year + (t.getUTCFullYear() - 2000));
  return t.getTime();
}

/** Instants past FHIR's last year (a range ending at the end of 9999, or a time zone beyond it) are PostgreSQL's infinities. */
function instantText(ms: number): string {
  if (ms >= utc(10000, 0, 1)) return 'infinity';
  if (ms < utc(1, 0, 1)) return '-infinity';
  return new Date(ms).toISOString();
}
