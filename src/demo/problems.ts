/**
 * The clinical record entries a visit produces: diagnoses (Condition), allergies, prescriptions,
 * lab orders and their reports, procedures. Codes come from the curated tables in codes.ts.
 */
import type { Faker } from '@faker-js/faker';
import type { AllergyIntolerance, Condition, DiagnosticReport, MedicationRequest, Patient, Procedure, Reference, ServiceRequest } from '@medplum/fhirtypes';
import type { Clinic, StaffMember, WithId } from './clinic.js';
import { concept, ICD10, LAB_TESTS, LOINC, MEDICATIONS, REACTIONS, RXNORM, sensitivityMeta, SNOMED, type AllergyCode, type ConditionCode } from './codes.js';
import { addDays, addMinutes, dateOnly, dateTime, newId, ref } from './util.js';
import type { Visit } from './visits.js';

const CONDITION_CLINICAL = 'http://terminology.hl7.org/CodeSystem/condition-clinical';
const CONDITION_VERIFICATION = 'http://terminology.hl7.org/CodeSystem/condition-ver-status';
const CONDITION_CATEGORY = 'http://terminology.hl7.org/CodeSystem/condition-category';

/**
 * A diagnosis made at a visit. Chronic ones go on the problem list and stay active with an onset
 * years back; acute ones are encounter diagnoses, resolved a couple of weeks later if that is past.
 */
export function buildCondition(faker: Faker, patient: Reference<Patient>, visit: Visit, code: ConditionCode, birth: Date, now: Date): WithId<Condition> {
  // Chronic onset: some time in the last 15 years, but not before the age the condition starts at.
  const latest = addDays(visit.start, -7);
  const fifteenYears = addDays(visit.start, -365 * 15);
  const earliest = new Date(Math.min(Math.max(addDays(birth, 365 * code.minAge).getTime(), fifteenYears.getTime()), addDays(latest, -1).getTime()));
  const onset = code.chronic ? faker.date.between({ from: earliest, to: latest }) : addDays(visit.start, -faker.number.int({ min: 1, max: 5 }));
  const abated = code.chronic ? undefined : addDays(visit.start, faker.number.int({ min: 7, max: 21 }));
  const resolved = abated !== undefined && abated < now;
  return {
    resourceType: 'Condition',
    id: newId(),
    ...sensitivityMeta(code.sensitivity),
    clinicalStatus: concept(CONDITION_CLINICAL, resolved ? 'resolved' : 'active', resolved ? 'Resolved' : 'Active'),
    verificationStatus: concept(CONDITION_VERIFICATION, 'confirmed', 'Confirmed'),
    category: [
      code.chronic
        ? concept(CONDITION_CATEGORY, 'problem-list-item', 'Problem List Item')
        : concept(CONDITION_CATEGORY, 'encounter-diagnosis', 'Encounter Diagnosis'),
    ],
    code: {
      coding: [
        { system: SNOMED, code: code.snomed, display: code.display },
        { system: ICD10, code: code.icd10 },
      ],
      text: code.display,
    },
    subject: patient,
    encounter: ref(visit.encounter),
    onsetDateTime: dateOnly(onset < birth ? birth : onset),
    ...(resolved ? { abatementDateTime: dateOnly(abated!) } : {}),
    recordedDate: dateTime(addMinutes(visit.start, 20)),
    recorder: ref(visit.physician.practitioner),
    asserter: ref(visit.physician.practitioner),
  };
}

export function buildAllergy(faker: Faker, patient: Reference<Patient>, visit: Visit, allergy: AllergyCode): WithId<AllergyIntolerance> {
  const severe = faker.datatype.boolean({ probability: 0.15 });
  return {
    resourceType: 'AllergyIntolerance',
    id: newId(),
    clinicalStatus: concept('http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', 'active', 'Active'),
    verificationStatus: concept('http://terminology.hl7.org/CodeSystem/allergyintolerance-verification', 'confirmed', 'Confirmed'),
    type: 'allergy',
    category: [allergy.category],
    criticality: severe ? 'high' : 'low',
    code: concept(SNOMED, allergy.snomed, allergy.display),
    patient,
    encounter: ref(visit.encounter),
    recordedDate: dateTime(addMinutes(visit.start, 15)),
    recorder: ref(visit.physician.practitioner),
    reaction: [
      {
        manifestation: [severe ? REACTIONS[REACTIONS.length - 1] : faker.helpers.arrayElement(REACTIONS.slice(0, -1))],
        severity: severe ? 'severe' : faker.helpers.arrayElement(['mild', 'moderate'] as const),
      },
    ],
  };
}

/** A prescription: long-term ones stay active, a short course for an acute problem is completed. */
export function buildMedicationRequest(
  patient: Reference<Patient>,
  visit: Visit,
  rxnorm: string,
  reason: WithId<Condition>,
  longTerm: boolean,
  now: Date,
): WithId<MedicationRequest> {
  const med = MEDICATIONS[rxnorm];
  const finished = !longTerm && addDays(visit.start, 14) < now;
  return {
    resourceType: 'MedicationRequest',
    id: newId(),
    // A prescription for a sensitive condition is as sensitive as the diagnosis.
    ...(reason.meta?.security ? { meta: { security: reason.meta.security } } : {}),
    status: finished ? 'completed' : 'active',
    intent: 'order',
    category: [
      concept('http://terminology.hl7.org/CodeSystem/medicationrequest-category', longTerm ? 'community' : 'outpatient', longTerm ? 'Community' : 'Outpatient'),
    ],
    medicationCodeableConcept: concept(RXNORM, med.rxnorm, med.display),
    subject: patient,
    encounter: ref(visit.encounter),
    authoredOn: dateTime(addMinutes(visit.start, 25)),
    requester: ref(visit.physician.practitioner, visit.physician.name),
    reasonReference: [ref(reason)],
    courseOfTherapyType: concept(
      'http://terminology.hl7.org/CodeSystem/medicationrequest-course-of-therapy',
      longTerm ? 'continuous' : 'acute',
      longTerm ? 'Continuous long term therapy' : 'Short course (acute) therapy',
    ),
    dosageInstruction: [{ sequence: 1, text: med.dosage }],
  };
}

/** A lab order; the laboratory department is the performer. */
export function buildLabOrder(
  patient: Reference<Patient>,
  clinic: Clinic,
  visit: Visit,
  loinc: string,
  done: boolean,
  reason?: WithId<Condition>,
): WithId<ServiceRequest> {
  return {
    resourceType: 'ServiceRequest',
    id: newId(),
    status: done ? 'completed' : 'active',
    intent: 'order',
    category: [concept(SNOMED, '108252007', 'Laboratory procedure')],
    code: concept(LOINC, loinc, LAB_TESTS[loinc].display),
    subject: patient,
    encounter: ref(visit.encounter),
    authoredOn: dateTime(addMinutes(visit.start, 30)),
    requester: ref(visit.physician.practitioner, visit.physician.name),
    performer: [ref(clinic.departments.laboratory, clinic.departments.laboratory.name)],
    ...(reason ? { reasonReference: [ref(reason)] } : {}),
  };
}

export function buildLabReport(
  faker: Faker,
  patient: Reference<Patient>,
  clinic: Clinic,
  visit: Visit,
  order: WithId<ServiceRequest>,
  technician: StaffMember,
): WithId<DiagnosticReport> {
  const loinc = order.code!.coding![0].code!;
  const collected = addMinutes(visit.start, 45);
  return {
    resourceType: 'DiagnosticReport',
    id: newId(),
    basedOn: [ref(order)],
    status: 'final',
    category: [concept('http://terminology.hl7.org/CodeSystem/v2-0074', 'LAB', 'Laboratory')],
    code: concept(LOINC, loinc, LAB_TESTS[loinc].display),
    subject: patient,
    encounter: ref(visit.encounter),
    effectiveDateTime: dateTime(collected),
    issued: dateTime(addMinutes(collected, faker.number.int({ min: 60, max: 300 }))),
    performer: [ref(clinic.departments.laboratory, clinic.departments.laboratory.name)],
    resultsInterpreter: [ref(technician.practitioner, technician.name)],
    conclusion: faker.helpers.arrayElement(LAB_TESTS[loinc].conclusions),
  };
}

export function buildProcedure(patient: Reference<Patient>, visit: Visit, code: ReturnType<typeof concept>, reason?: WithId<Condition>): WithId<Procedure> {
  return {
    resourceType: 'Procedure',
    id: newId(),
    status: 'completed',
    code,
    subject: patient,
    encounter: ref(visit.encounter),
    performedDateTime: dateTime(addMinutes(visit.start, 60)),
    performer: [{ actor: ref(visit.physician.practitioner, visit.physician.name) }],
    location: ref(visit.ward.location, visit.ward.location.name),
    ...(reason ? { reasonReference: [ref(reason)] } : {}),
  };
}
