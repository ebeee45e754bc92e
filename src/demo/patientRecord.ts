/**
 * One synthetic patient and their record: demographics, a care team, an episode of care for chronic
 * illness, one to three visits (each with appointment, encounter, vital signs, diagnoses,
 * prescriptions, lab work, procedures and a note) and perhaps an upcoming appointment.
 *
 * Pure data and deterministic for a given faker state and reference date: the faker calls happen in
 * a fixed order. Dates are placed so that a raw database copy cannot reveal a birth date by accident:
 * every clinical date (some are indexed in plaintext for range search) lies in the last 18 months,
 * and every patient is at least three years old.
 */
import type { Faker } from '@faker-js/faker';
import type { CareTeam, Condition, EpisodeOfCare, Patient, Resource } from '@medplum/fhirtypes';
import { staffWith, wardOf, type Clinic, type DepartmentKey, type WithId } from './clinic.js';
import { ALLERGIES, concept, CONDITIONS, ENCOUNTER_KINDS, LAB_TESTS, PROCEDURES, ROUTINE_LABS, SNOMED, type ConditionCode } from './codes.js';
import { buildAllergy, buildCondition, buildLabOrder, buildLabReport, buildMedicationRequest, buildProcedure } from './problems.js';
import { addDays, addMinutes, dateOnly, newId, ref, startOfDay, yearsBetween } from './util.js';
import { buildAppointment, buildEncounter, buildNote, buildVitals, measureVitals, noteText, type Baseline, type EncounterKind, type Visit } from './visits.js';

export const MRN_SYSTEM = 'urn:carewall:demo:mrn';
/** How far back the generated clinical history reaches. */
const HISTORY_DAYS = 540;
const MIN_AGE = 3;
const CARDIAC = new Set(['49436004', '42343007']);
const INFECTIOUS = new Set(['233604007', '68566005', '444814009']);

export interface PatientRecord {
  patient: WithId<Patient>;
  /** Everything, Patient first: the order in which it is written. */
  resources: WithId<Resource>[];
}

export function mrn(n: number): string {
  return `MRN-${String(n).padStart(6, '0')}`;
}

export function generatePatient(faker: Faker, clinic: Clinic, n: number, now: Date): PatientRecord {
  const sex = faker.person.sex() as 'female' | 'male';
  const given = [faker.person.firstName(sex), ...(faker.datatype.boolean({ probability: 0.4 }) ? [faker.person.middleName(sex)] : [])];
  const family = faker.person.lastName();
  const birth = startOfDay(faker.date.birthdate({ mode: 'age', min: MIN_AGE, max: 95, refDate: now }));
  const age = yearsBetween(birth, now);
  const primary = faker.helpers.arrayElement(staffWith(clinic, 'physician', 'internal'));
  const primaryNurse = faker.helpers.arrayElement(staffWith(clinic, 'nurse', 'internal'));

  const patient: WithId<Patient> = {
    resourceType: 'Patient',
    id: newId(),
    // A few restricted charts, chosen by number so that the rest of the demo stays the same: staff
    // members treated here (EMP) and a very restricted chart (V). Only direct carers see them.
    ...(n % 40 === 0 ? { meta: { security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'EMP' }] } } : {}),
    ...(n % 97 === 0 ? { meta: { security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'V' }] } } : {}),
    active: true,
    identifier: [
      {
        use: 'usual',
        type: concept('http://terminology.hl7.org/CodeSystem/v2-0203', 'MR', 'Medical record number'),
        system: MRN_SYSTEM,
        value: mrn(n),
        assigner: ref(clinic.organization, clinic.organization.name),
      },
    ],
    name: [{ use: 'official', family, given }],
    telecom: [{ system: 'phone', value: faker.phone.number({ style: 'national' }), use: faker.helpers.arrayElement(['home', 'mobile'] as const) }],
    gender: sex,
    birthDate: dateOnly(birth),
    address: [
      {
        use: 'home',
        type: 'physical',
        line: [faker.location.streetAddress()],
        city: faker.location.city(),
        state: faker.location.state({ abbreviated: true }),
        postalCode: faker.location.zipCode('#####'),
        country: 'US',
      },
    ],
    ...(age >= 18 ? { maritalStatus: faker.helpers.arrayElement(MARITAL) } : {}),
    communication: [{ language: concept('urn:ietf:bcp:47', 'en-US', 'English (United States)'), preferred: true }],
    generalPractitioner: [ref(primary.practitioner, primary.name)],
    managingOrganization: ref(clinic.organization, clinic.organization.name),
  };
  const subject = ref(patient);

  // What is wrong with them: chronic problems by age, perhaps one acute illness.
  const eligible = CONDITIONS.filter((c) => c.minAge <= age);
  const chronicCount =
    age < 18 ? (faker.datatype.boolean({ probability: 0.15 }) ? 1 : 0) : age < 50 ? faker.number.int({ min: 0, max: 2 }) : faker.number.int({ min: 1, max: 3 });
  const chronic = faker.helpers.arrayElements(
    eligible.filter((c) => c.chronic),
    chronicCount,
  );
  const acute =
    chronic.length < 3 && faker.datatype.boolean({ probability: 0.45 }) ? faker.helpers.arrayElement(eligible.filter((c) => !c.chronic)) : undefined;
  const cardiac = chronic.some((c) => CARDIAC.has(c.snomed));
  const baseline = baselineFor(
    faker,
    age,
    sex,
    chronic.some((c) => c.snomed === '59621000'),
  );

  // When they came: one to three visit days, oldest first; the last may be an admission still going on.
  const visitCount = faker.number.int({ min: 1, max: 3 });
  const days = Array.from({ length: visitCount }, () => startOfDay(faker.date.between({ from: addDays(now, -HISTORY_DAYS), to: addDays(now, -8) }))).sort(
    (a, b) => a.getTime() - b.getTime(),
  );
  const admittedNow = faker.datatype.boolean({ probability: 0.06 });
  const acuteAt = faker.number.int({ min: 0, max: visitCount - 1 });

  const careTeam: WithId<CareTeam> = {
    resourceType: 'CareTeam',
    id: newId(),
    status: 'active',
    category: [concept('http://loinc.org', 'LA28865-6', 'Longitudinal care-coordination focused care team')],
    name: 'Primary care team',
    subject,
    period: { start: dateOnly(days[0]) },
    participant: [
      {
        role: [concept(SNOMED, '446050000', 'Primary care physician')],
        member: ref(primary.practitioner, primary.name),
        onBehalfOf: ref(clinic.departments.internal),
      },
      {
        role: [concept(SNOMED, '224535009', 'Registered nurse')],
        member: ref(primaryNurse.practitioner, primaryNurse.name),
        onBehalfOf: ref(clinic.departments.internal),
      },
    ],
    managingOrganization: [ref(clinic.departments.internal, clinic.departments.internal.name)],
  };
  const episode: WithId<EpisodeOfCare> | undefined =
    chronic.length > 0
      ? {
          resourceType: 'EpisodeOfCare',
          id: newId(),
          status: 'active',
          type: [
            chronic.some((c) => c.snomed === '44054006')
              ? concept('http://terminology.hl7.org/CodeSystem/episodeofcare-type', 'diab', 'Post coordinated diabetes program')
              : { text: 'Chronic disease management' },
          ],
          patient: subject,
          managingOrganization: ref(clinic.departments.internal, clinic.departments.internal.name),
          period: { start: dateOnly(days[0]) },
          careManager: ref(primary.practitioner, primary.name),
          team: [ref(careTeam)],
        }
      : undefined;

  const resources: WithId<Resource>[] = [patient, careTeam, ...(episode ? [episode] : [])];
  const known: string[] = [];
  const teamMembers = new Set([primary.practitioner.id, primaryNurse.practitioner.id]);

  days.forEach((day, i) => {
    const last = i === visitCount - 1;
    const isAcute = acute !== undefined && i === acuteAt;
    const kind =
      last && admittedNow
        ? kindOf('IMP')
        : isAcute
          ? faker.helpers.arrayElement([kindOf('AMB', '185345009'), kindOf('EMER')])
          : faker.helpers.weightedArrayElement(ENCOUNTER_KINDS.map((k) => ({ weight: k.weight, value: k })));
    const department: DepartmentKey =
      kind.class.code === 'EMER'
        ? 'emergency'
        : kind.class.code === 'IMP'
          ? cardiac
            ? 'cardiology'
            : faker.helpers.arrayElement(['internal', 'surgery'] as const)
          : cardiac && i > 0
            ? 'cardiology'
            : 'internal';
    const ward = wardOf(clinic, department, kind.class.code === 'AMB' && department === 'internal' ? 'area' : 'wa');
    const physician = department === 'internal' && kind.class.code === 'AMB' ? primary : faker.helpers.arrayElement(staffWith(clinic, 'physician', department));
    const nurse = faker.helpers.arrayElement(staffWith(clinic, 'nurse', department));
    teamMembers.add(physician.practitioner.id);
    const { start, end } = timing(faker, kind, day, now, last && admittedNow);

    const appointment =
      kind.class.code === 'AMB'
        ? buildAppointment(
            subject,
            physician,
            ward,
            start,
            Math.round((end!.getTime() - start.getTime()) / 60_000),
            'fulfilled',
            kind.type.text!,
            APPOINTMENT_TYPE[kind.type.coding![0].code!] ?? 'ROUTINE',
          )
        : undefined;
    const partial = { kind, ward, physician, nurse, start, end };
    const visit: Visit = { ...partial, encounter: buildEncounter(subject, clinic, partial, appointment) };
    if (episode && kind.class.code === 'AMB') visit.encounter.episodeOfCare = [ref(episode)];
    const vitals = measureVitals(faker, baseline, isAcute && INFECTIOUS.has(acute!.snomed));

    // Chronic problems are recorded at the first visit; the acute one at its own.
    const diagnosed: Array<{ code: ConditionCode; condition: WithId<Condition> }> = [...(i === 0 ? chronic : []), ...(isAcute ? [acute!] : [])].map((code) => ({
      code,
      condition: buildCondition(faker, subject, visit, code, birth, now),
    }));
    if (diagnosed.length > 0) visit.encounter.diagnosis = diagnosed.map((d, rank) => ({ condition: ref(d.condition, d.code.display), rank: rank + 1 }));
    const allergies =
      i === 0
        ? faker.helpers.arrayElements(
            ALLERGIES,
            faker.helpers.weightedArrayElement([
              { weight: 15, value: 0 },
              { weight: 4, value: 1 },
              { weight: 1, value: 2 },
            ]),
          )
        : [];
    const prescriptions = diagnosed.map((d) =>
      buildMedicationRequest(subject, visit, faker.helpers.arrayElement(d.code.medications), d.condition, d.code.chronic, now),
    );

    const labCodes = new Map<string, WithId<Condition> | undefined>();
    for (const d of diagnosed) if (d.code.labs.length > 0) labCodes.set(d.code.labs[0], d.condition);
    if (kind.type.coding![0].code === '185349003' && faker.datatype.boolean({ probability: 0.5 }))
      labCodes.set(faker.helpers.arrayElement(ROUTINE_LABS), undefined);
    const orders = [...labCodes]
      .slice(0, 2)
      .map(([loinc, reason]) => buildLabOrder(subject, clinic, visit, loinc, end !== undefined && faker.datatype.boolean({ probability: 0.7 }), reason));
    const reports = orders
      .filter((o) => o.status === 'completed')
      .map((o) => buildLabReport(faker, subject, clinic, visit, o, faker.helpers.arrayElement(staffWith(clinic, 'lab'))));

    const procedureCode = procedureFor(faker, kind, department);
    const procedures = procedureCode ? [buildProcedure(subject, visit, procedureCode, diagnosed[0]?.condition)] : [];

    known.push(...diagnosed.filter((d) => d.code.chronic).map((d) => d.code.display));
    const text = noteText(faker, visit, {
      age,
      sex,
      vitals,
      problems: [...known, ...(isAcute ? [acute!.display] : [])],
      prescribed: prescriptions.map((p) => p.medicationCodeableConcept!.text!),
      ordered: orders.map((o) => LAB_TESTS[o.code!.coding![0].code!].display),
    });
    resources.push(
      ...(appointment ? [appointment] : []),
      visit.encounter,
      ...buildVitals(subject, visit, vitals),
      ...diagnosed.map((d) => d.condition),
      ...allergies.map((a) => buildAllergy(faker, subject, visit, a)),
      ...prescriptions,
      ...orders,
      ...reports,
      ...procedures,
      buildNote(subject, clinic, visit, text),
    );
  });

  // Specialists seen are added to the care team, so that they stay connected to the patient.
  for (const id of teamMembers) {
    if (id === primary.practitioner.id || id === primaryNurse.practitioner.id) continue;
    const member = clinic.staff.find((s) => s.practitioner.id === id)!;
    careTeam.participant!.push({
      role: [concept(SNOMED, '309343006', 'Physician')],
      member: ref(member.practitioner, member.name),
      onBehalfOf: ref(clinic.departments[member.department]),
    });
  }

  if (!admittedNow && faker.datatype.boolean({ probability: 0.35 })) {
    const when = addMinutes(addDays(now, faker.number.int({ min: 1, max: 60 })), faker.number.int({ min: 16, max: 32 }) * 30);
    const reason = chronic.length > 0 ? `Follow-up: ${faker.helpers.arrayElement(chronic).display.toLowerCase()}` : 'Annual check-up';
    resources.push(
      buildAppointment(subject, primary, wardOf(clinic, 'internal', 'area'), when, 20, 'booked', reason, chronic.length > 0 ? 'FOLLOWUP' : 'CHECKUP'),
    );
  }
  return { patient, resources };
}

const MARITAL = ['M', 'S', 'D', 'W'].map((code) =>
  concept('http://terminology.hl7.org/CodeSystem/v3-MaritalStatus', code, { M: 'Married', S: 'Never Married', D: 'Divorced', W: 'Widowed' }[code]!),
);

const APPOINTMENT_TYPE: Record<string, 'ROUTINE' | 'FOLLOWUP' | 'CHECKUP'> = { '185349003': 'CHECKUP', '390906007': 'FOLLOWUP', '185345009': 'ROUTINE' };

function kindOf(classCode: string, typeCode?: string): EncounterKind {
  return ENCOUNTER_KINDS.find((k) => k.class.code === classCode && (typeCode === undefined || k.type.coding![0].code === typeCode))!;
}

function baselineFor(faker: Faker, age: number, sex: 'female' | 'male', hypertensive: boolean): Baseline {
  const child = age < 18;
  return {
    weightKg: child
      ? 3 * age + 8 + faker.number.float({ min: -3, max: 3 })
      : sex === 'female'
        ? faker.number.float({ min: 52, max: 95 })
        : faker.number.float({ min: 62, max: 112 }),
    heartRate: child ? faker.number.int({ min: 78, max: 105 }) : faker.number.int({ min: 58, max: 86 }),
    systolic: (child ? faker.number.int({ min: 95, max: 112 }) : faker.number.int({ min: 108, max: 132 })) + (hypertensive ? 18 : 0),
    diastolic: (child ? faker.number.int({ min: 58, max: 70 }) : faker.number.int({ min: 68, max: 84 })) + (hypertensive ? 8 : 0),
  };
}

/** Clinic hours for appointments, any hour for emergencies, days for admissions. */
function timing(faker: Faker, kind: EncounterKind, day: Date, now: Date, ongoing: boolean): { start: Date; end?: Date } {
  if (ongoing) return { start: addMinutes(addDays(now, -faker.number.int({ min: 1, max: 5 })), faker.number.int({ min: 8 * 60, max: 18 * 60 })) };
  if (kind.class.code === 'EMER') {
    const start = addMinutes(day, faker.number.int({ min: 0, max: 23 * 60 }));
    return { start, end: addMinutes(start, faker.number.int({ min: 90, max: 360 })) };
  }
  if (kind.class.code === 'IMP') {
    const start = addMinutes(day, faker.number.int({ min: 8 * 60, max: 18 * 60 }));
    return { start, end: addMinutes(addDays(start, faker.number.int({ min: 2, max: 7 })), faker.number.int({ min: -120, max: 120 })) };
  }
  const start = addMinutes(day, faker.number.int({ min: 16, max: 32 }) * 30 + faker.helpers.arrayElement([0, 10, 20]));
  return { start, end: addMinutes(start, faker.helpers.arrayElement([20, 30, 40])) };
}

function procedureFor(faker: Faker, kind: EncounterKind, department: DepartmentKey): ReturnType<typeof concept> | undefined {
  const pick = (...codes: string[]) => faker.helpers.arrayElement(PROCEDURES.filter((p) => codes.includes(p.coding![0].code!)));
  if (kind.class.code === 'IMP' && department === 'surgery') return pick('80146002', '45036003');
  if (department === 'cardiology') return faker.datatype.boolean({ probability: 0.6 }) ? pick('29303009') : undefined;
  if (kind.class.code === 'EMER') return faker.datatype.boolean({ probability: 0.4 }) ? pick('399208008', '288086009', '76601001') : undefined;
  return faker.datatype.boolean({ probability: 0.08 }) ? pick('73761001', '45036003', '76601001') : undefined;
}
