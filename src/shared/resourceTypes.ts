/**
 * The resource types Carewall serves and, for each, where its patient is named: every clinical
 * resource is filed under its patient (the patient compartment) when written, so that access rules
 * and encryption keys can follow the patient.
 */
import type { Device, Resource } from '@medplum/fhirtypes';

/** Resources that describe the clinic, not a patient: encrypted under the general key. */
export const ADMINISTRATIVE_TYPES = ['Practitioner', 'PractitionerRole', 'Organization', 'Location'] as const;

/**
 * The clinic's equipment inventory (issue 25): devices and their models. No patient's: encrypted
 * under the general key like the directory, and reached by role (biomedical engineers), not by care.
 */
export const EQUIPMENT_TYPES = ['Device', 'DeviceDefinition'] as const;
/** `Device.version.type.text` of the one version a device's record holds (the software's comes from its manifests). */
export const HARDWARE_REVISION = 'hardware-revision';

/**
 * Lists of patients (FHIR Group, issue 30: Group-level Bulk Data export). A Group names many
 * patients, so it belongs to none: it is sealed under the general key, reached by role
 * (access/roles.ts), and every member it names is shown only to those who may see that patient
 * (records/groupMembers.ts). Carewall keeps groups of patients only (type person, members
 * `Patient/<id>`): nothing else here has a use for one.
 */
export const GROUP_TYPES = ['Group'] as const;

/** Resources that belong to one patient, and the element(s) that name that patient. */
export const PATIENT_REFERENCE_PATHS: Record<string, string[]> = {
  Patient: [],
  Encounter: ['subject'],
  Appointment: ['participant.actor'],
  EpisodeOfCare: ['patient'],
  CareTeam: ['subject'],
  ServiceRequest: ['subject'],
  Observation: ['subject'],
  Condition: ['subject'],
  AllergyIntolerance: ['patient'],
  MedicationRequest: ['subject'],
  Procedure: ['subject'],
  DiagnosticReport: ['subject'],
  DocumentReference: ['subject'],
  Consent: ['patient'],
};

export const SUPPORTED_TYPES: readonly string[] = [...ADMINISTRATIVE_TYPES, ...EQUIPMENT_TYPES, ...GROUP_TYPES, ...Object.keys(PATIENT_REFERENCE_PATHS)].sort();

export function isSupportedType(type: unknown): type is string {
  return typeof type === 'string' && SUPPORTED_TYPES.includes(type);
}

export function isPatientData(type: string): boolean {
  return type in PATIENT_REFERENCE_PATHS;
}

/** FHIR id: 1-64 of A-Z a-z 0-9 - . */
export const ID_PATTERN = /^[A-Za-z0-9\-.]{1,64}$/;

/** Collects the values at a dotted path, flattening arrays at every step. */
export function valuesAt(node: unknown, path: string): unknown[] {
  let current: unknown[] = [node];
  for (const step of path.split('.')) {
    const next: unknown[] = [];
    for (const item of current) {
      if (item === null || typeof item !== 'object') continue;
      const value = (item as Record<string, unknown>)[step];
      if (Array.isArray(value)) next.push(...value);
      else if (value !== undefined) next.push(value);
    }
    current = next;
  }
  return current;
}

export type CompartmentResult = { patientId: string | null } | { error: string };

/**
 * The patient a resource belongs to. Patient resources are their own compartment; clinical
 * resources must name exactly one patient with a local 'Patient/<id>' reference.
 */
export function compartmentOf(resource: Resource & { id: string }): CompartmentResult {
  const type = resource.resourceType;
  if (type === 'Patient') return { patientId: resource.id };
  // Equipment names no patient: a device's patient link would put a patient where engineers read.
  if (type === 'Device' && (resource as { patient?: unknown }).patient !== undefined)
    return { error: 'Device: the equipment inventory names no patient (patient is not accepted)' };
  // The software a device runs is what its signed manifest reports (docs/inventory.md), never a
  // version typed in: a device's record holds its hardware revision only.
  if (type === 'Device' && ((resource as Device).version ?? []).some((v) => v.type?.text !== HARDWARE_REVISION))
    return { error: `Device: only the ${HARDWARE_REVISION} version is written here; the software version is what the device reports in its signed manifest` };
  if (type === 'Group') return groupShape(resource);
  const paths = PATIENT_REFERENCE_PATHS[type];
  if (!paths) return { patientId: null };
  const patients = new Set<string>();
  for (const path of paths) {
    for (const ref of valuesAt(resource, path)) {
      const reference = (ref as { reference?: unknown }).reference;
      if (typeof reference !== 'string') continue;
      const m = /^Patient\/([A-Za-z0-9\-.]{1,64})$/.exec(reference);
      if (m) patients.add(m[1]);
      else if (reference.startsWith('Patient/') || /\/Patient\//.test(reference)) {
        return { error: `${type}: patient references must have the form Patient/<id> on this server` };
      }
    }
  }
  if (patients.size === 0) return { error: `${type} must reference the patient it belongs to (${paths.join(', ')})` };
  if (patients.size > 1) return { error: `${type} references more than one patient; a record belongs to exactly one` };
  return { patientId: [...patients][0] };
}

/**
 * A Group here is a list of patients: of type person, each member a local `Patient/<id>`, so that
 * every member can be decided as the patient it is (a group of devices or practitioners, or a
 * member named by URL, could not be). It belongs to no one patient.
 */
function groupShape(resource: Resource): CompartmentResult {
  const group = resource as { type?: unknown; member?: Array<{ entity?: { reference?: unknown } }>; contained?: unknown };
  if (group.type !== 'person') return { error: 'Group: this server keeps groups of patients only (type person)' };
  for (const m of group.member ?? []) {
    const reference = m.entity?.reference;
    if (typeof reference !== 'string' || !/^Patient\/[A-Za-z0-9\-.]{1,64}$/.test(reference))
      return { error: 'Group: each member must be a patient, referenced as Patient/<id>' };
  }
  // Members are the one place a Group names patients, as only there is each one shown as its
  // patient allows: a contained resource or a patient referenced elsewhere (a characteristic's
  // value) would be shown to every reader of the Group.
  if (group.contained !== undefined) return { error: 'Group: contained resources are not accepted' };
  const { member: _members, ...rest } = group;
  let elsewhere = false;
  JSON.stringify(rest, (key, value: unknown) => {
    if (key === 'reference' && typeof value === 'string' && /(^|\/)Patient\//.test(value)) elsewhere = true;
    return value;
  });
  if (elsewhere) return { error: 'Group: patients are named as members only' };
  return { patientId: null };
}
