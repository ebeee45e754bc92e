/** Small, valid FHIR resources for tests. Names are unusual so that scans for them are meaningful. */

let treating: string | undefined;

/**
 * Patients made by `patient()` from now on name this practitioner ('Practitioner/<id>') as their
 * general practitioner: a care relationship, so the tests of record behaviour can see what they write.
 */
export function treatedBy(practitioner: string | undefined): void {
  treating = practitioner;
}

export function patient(family = 'Quennell', given = 'Ottoline', extra: Record<string, unknown> = {}) {
  return {
    resourceType: 'Patient',
    ...(treating ? { generalPractitioner: [{ reference: treating }] } : {}),
    identifier: [{ system: 'urn:carewall:test:mrn', value: `MRN-${Math.random().toString(36).slice(2, 10)}` }],
    name: [{ family, given: [given] }],
    gender: 'female',
    birthDate: '1961-04-23',
    ...extra,
  };
}

export function observation(patientId: string, loinc = '8867-4', value = 72, effective = '2024-03-01T10:00:00Z') {
  return {
    resourceType: 'Observation',
    status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code: loinc }] },
    subject: { reference: `Patient/${patientId}` },
    effectiveDateTime: effective,
    valueQuantity: { value, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
  };
}

export function encounter(patientId: string, start = '2024-02-01T08:00:00Z', end?: string) {
  return {
    resourceType: 'Encounter',
    status: end ? 'finished' : 'in-progress',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
    subject: { reference: `Patient/${patientId}` },
    period: end ? { start, end } : { start },
  };
}
