/**
 * What happens at a visit: the Encounter itself, the Appointment that led to it, the vital signs a
 * nurse charts and the note the physician writes. Each builder takes the facts already decided by
 * the patient generator, so that notes agree with the measured values and coded diagnoses.
 */
import type { Faker } from '@faker-js/faker';
import type { Appointment, DocumentReference, Encounter, Observation, Patient, Reference } from '@medplum/fhirtypes';
import type { Clinic, StaffMember, Ward, WithId } from './clinic.js';
import { concept, DOCUMENT_TYPES, ENCOUNTER_KINDS, LOINC, UCUM, VITALS } from './codes.js';
import { addMinutes, base64, dateTime, newId, ref, round1 } from './util.js';

export type EncounterKind = (typeof ENCOUNTER_KINDS)[number];

export interface Visit {
  encounter: WithId<Encounter>;
  kind: EncounterKind;
  ward: Ward;
  physician: StaffMember;
  nurse: StaffMember;
  start: Date;
  /** Absent while the patient is still here (an in-progress admission). */
  end?: Date;
}

/** Per-patient baselines, so that one patient's measurements are consistent from visit to visit. */
export interface Baseline {
  weightKg: number;
  heartRate: number;
  systolic: number;
  diastolic: number;
}

export interface VitalSigns {
  weightKg: number;
  heartRate: number;
  systolic: number;
  diastolic: number;
  temperature: number;
}

const PARTICIPATION = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType';
const VITAL_CATEGORY = [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs', display: 'Vital Signs' }] }];

export function buildEncounter(
  patient: Reference<Patient>,
  clinic: Clinic,
  visit: Omit<Visit, 'encounter'>,
  appointment?: WithId<Appointment>,
): WithId<Encounter> {
  const department = clinic.departments[visit.ward.department];
  return {
    resourceType: 'Encounter',
    id: newId(),
    status: visit.end ? 'finished' : 'in-progress',
    class: visit.kind.class,
    type: [visit.kind.type],
    subject: patient,
    participant: [
      {
        type: [{ coding: [{ system: PARTICIPATION, code: 'ATND', display: 'attender' }] }],
        individual: ref(visit.physician.practitioner, visit.physician.name),
      },
      { type: [{ coding: [{ system: PARTICIPATION, code: 'PART', display: 'Participation' }] }], individual: ref(visit.nurse.practitioner, visit.nurse.name) },
    ],
    ...(appointment ? { appointment: [ref(appointment)] } : {}),
    period: visit.end ? { start: dateTime(visit.start), end: dateTime(visit.end) } : { start: dateTime(visit.start) },
    location: [{ location: ref(visit.ward.location, visit.ward.location.name), status: visit.end ? 'completed' : 'active' }],
    serviceProvider: ref(department, department.name),
    ...(visit.kind.class.code === 'IMP'
      ? { hospitalization: { admitSource: concept('http://terminology.hl7.org/CodeSystem/admit-source', 'gp', 'General Practitioner referral') } }
      : {}),
  };
}

/** An appointment with a physician: fulfilled when it has happened, booked when it is to come. */
export function buildAppointment(
  patient: Reference<Patient>,
  physician: StaffMember,
  ward: Ward,
  start: Date,
  minutes: number,
  status: 'booked' | 'fulfilled',
  description: string,
  kind: 'ROUTINE' | 'FOLLOWUP' | 'CHECKUP',
): WithId<Appointment> {
  return {
    resourceType: 'Appointment',
    id: newId(),
    status,
    appointmentType: concept(
      'http://terminology.hl7.org/CodeSystem/v2-0276',
      kind,
      { ROUTINE: 'Routine appointment', FOLLOWUP: 'A follow up visit', CHECKUP: 'A routine check-up' }[kind],
    ),
    description,
    start: dateTime(start),
    end: dateTime(addMinutes(start, minutes)),
    minutesDuration: minutes,
    participant: [
      { actor: patient, required: 'required', status: 'accepted' },
      { actor: ref(physician.practitioner, physician.name), required: 'required', status: 'accepted' },
      { actor: ref(ward.location, ward.location.name), required: 'information-only', status: 'accepted' },
    ],
  };
}

export function measureVitals(faker: Faker, baseline: Baseline, fever: boolean): VitalSigns {
  return {
    weightKg: round1(baseline.weightKg + faker.number.float({ min: -1.5, max: 1.5 })),
    heartRate: Math.round(baseline.heartRate + faker.number.int({ min: -6, max: 6 }) + (fever ? 15 : 0)),
    systolic: Math.round(baseline.systolic + faker.number.int({ min: -8, max: 8 })),
    diastolic: Math.round(baseline.diastolic + faker.number.int({ min: -5, max: 5 })),
    temperature: round1(fever ? faker.number.float({ min: 37.8, max: 39.4 }) : faker.number.float({ min: 36.3, max: 37.2 })),
  };
}

/** Weight, heart rate, blood pressure (as a panel with two components) and temperature. */
export function buildVitals(patient: Reference<Patient>, visit: Visit, v: VitalSigns): WithId<Observation>[] {
  const base = (code: { code: string; display: string }): WithId<Observation> => ({
    resourceType: 'Observation',
    id: newId(),
    status: 'final',
    category: VITAL_CATEGORY,
    code: concept(LOINC, code.code, code.display),
    subject: patient,
    encounter: ref(visit.encounter),
    effectiveDateTime: dateTime(addMinutes(visit.start, 10)),
    performer: [ref(visit.nurse.practitioner)],
  });
  const quantity = (value: number, unit: string) => ({ value, unit, system: UCUM, code: unit });
  return [
    { ...base(VITALS.weight), valueQuantity: quantity(v.weightKg, VITALS.weight.unit) },
    { ...base(VITALS.heartRate), valueQuantity: quantity(v.heartRate, VITALS.heartRate.unit) },
    {
      ...base(VITALS.bloodPressure),
      component: [
        { code: concept(LOINC, VITALS.systolic.code, VITALS.systolic.display), valueQuantity: quantity(v.systolic, VITALS.systolic.unit) },
        { code: concept(LOINC, VITALS.diastolic.code, VITALS.diastolic.display), valueQuantity: quantity(v.diastolic, VITALS.diastolic.unit) },
      ],
    },
    { ...base(VITALS.temperature), valueQuantity: quantity(v.temperature, VITALS.temperature.unit) },
  ];
}

export interface NoteFacts {
  age: number;
  sex: 'female' | 'male';
  vitals: VitalSigns;
  /** Displays of the conditions known or found at this visit. */
  problems: string[];
  /** Displays of the medications prescribed at this visit. */
  prescribed: string[];
  /** Displays of the tests ordered at this visit. */
  ordered: string[];
}

/** The note a physician writes after a visit, as plain text. */
export function noteText(faker: Faker, visit: Visit, f: NoteFacts): string {
  const who = `${f.age}-year-old ${f.age < 18 ? (f.sex === 'female' ? 'girl' : 'boy') : f.sex === 'female' ? 'woman' : 'man'}`;
  const lines = [
    `${visit.kind.type.text} in ${visit.ward.location.name}.`,
    `${who[0].toUpperCase()}${who.slice(1)}${f.problems.length > 0 ? ` with ${f.problems.map((p) => p.toLowerCase()).join(', ')}` : ', no known chronic conditions'}.`,
    `Vital signs: BP ${f.vitals.systolic}/${f.vitals.diastolic} mmHg, HR ${f.vitals.heartRate}/min, temperature ${f.vitals.temperature} C, weight ${f.vitals.weightKg} kg.`,
    `Assessment: ${faker.helpers.arrayElement(assessments(f))}`,
  ];
  const plan = [...f.prescribed.map((m) => `start ${m}`), ...f.ordered.map((t) => `order ${t}`)];
  lines.push(
    `Plan: ${plan.length > 0 ? plan.join('; ') : 'no change to current treatment'}; ${faker.helpers.arrayElement(['review in 3 months', 'review in 6 weeks', 'return if symptoms worsen', 'annual review'])}.`,
  );
  lines.push(`Signed: ${visit.physician.name}`);
  return lines.join('\n');
}

function assessments(f: NoteFacts): string[] {
  const out: string[] = [];
  if (f.vitals.temperature >= 37.8) out.push('febrile, likely infectious cause.', 'fever; examination consistent with the working diagnosis.');
  if (f.vitals.systolic >= 140) out.push('blood pressure above target.', 'elevated blood pressure, adherence discussed.');
  if (out.length === 0) out.push('stable, no acute concerns.', 'clinically well; condition controlled.', 'improving since last visit.');
  return out;
}

/** A clinical note as a DocumentReference with the text inline (base64 attachment data). */
export function buildNote(patient: Reference<Patient>, clinic: Clinic, visit: Visit, text: string): WithId<DocumentReference> {
  const type =
    visit.kind.class.code === 'IMP' && visit.end
      ? DOCUMENT_TYPES.discharge
      : visit.kind.class.code === 'EMER'
        ? DOCUMENT_TYPES.emergency
        : DOCUMENT_TYPES.progress;
  const written = visit.end ?? addMinutes(visit.start, 45);
  return {
    resourceType: 'DocumentReference',
    id: newId(),
    status: 'current',
    docStatus: 'final',
    type,
    category: [concept('http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category', 'clinical-note', 'Clinical Note')],
    subject: patient,
    date: dateTime(written),
    author: [ref(visit.physician.practitioner, visit.physician.name)],
    custodian: ref(clinic.organization, clinic.organization.name),
    content: [{ attachment: { contentType: 'text/plain', language: 'en', data: base64(text), title: type.text, creation: dateTime(written) } }],
    context: { encounter: [ref(visit.encounter)], period: visit.encounter.period },
  };
}
