/**
 * Writes the demo clinic into an installation: the clinic's structure and staff first (one
 * transaction), then a user account per staff member, then each patient with their whole record in
 * one transaction of its own — fast (one commit per patient, not per resource) and atomic (a patient
 * is there with all of their record or not at all).
 *
 * Everything goes through the FHIR service's validation and authorization like any other write,
 * as the system caller; the demo writes nothing the API would refuse.
 */
import crypto from 'node:crypto';
import { seedPosture } from './posture.js';
import { en, Faker } from '@faker-js/faker';
import type { Resource } from '@medplum/fhirtypes';
import { SYSTEM } from '../shared/index.js';
import { seedEquipment } from './equipment.js';
import type { Carewall } from '../runtime.js';
import { generateClinic, type Clinic, type DemoLogin, type WithId } from './clinic.js';
import { generatePatient } from './patientRecord.js';
import { startOfDay } from './util.js';

export type { DemoLogin } from './clinic.js';

export interface SeedOptions {
  /** Synthetic patients to create; default 500. */
  patients?: number;
  /** Same seed (and reference date), same clinic: names, codes, values, dates. Default 2026. */
  seed?: number;
  onProgress?: (done: number, total: number) => void;
  /** The day the clinical history is relative to (its last 18 months, appointments to come); default today. */
  referenceDate?: Date;
}

export interface SeedResult {
  /** One per staff member, for the CLI to print. Demo passwords: public by design. */
  logins: DemoLogin[];
  patientCount: number;
}

export const DEFAULT_PATIENTS = 500;
export const DEFAULT_SEED = 2026;
/** Patients in the demo's Group. */
const COHORT_SIZE = 25;

/** A seeded faker: the only source of randomness for everything but resource ids. */
export function demoFaker(seed: number, referenceDate: Date): Faker {
  const faker = new Faker({ locale: [en] });
  faker.seed(seed);
  faker.setDefaultRefDate(referenceDate);
  return faker;
}

/** Call on an empty installation only (see `isClinicSeeded`): it adds, it does not reconcile. */
export async function seedDemoClinic(cw: Carewall, options: SeedOptions = {}): Promise<SeedResult> {
  const total = options.patients ?? DEFAULT_PATIENTS;
  const now = startOfDay(options.referenceDate ?? new Date());
  const faker = demoFaker(options.seed ?? DEFAULT_SEED, now);
  const clinic = generateClinic(faker);

  await write(cw, clinicResources(clinic));
  await seedEquipment(cw, clinic.wards.map((w) => w.location.name ?? '').filter(Boolean));
  const logins = await createAccounts(cw, clinic);
  await seedPosture(cw, options.referenceDate ?? new Date());

  options.onProgress?.(0, total);
  const cohort: string[] = [];
  for (let n = 1; n <= total; n++) {
    const resources = generatePatient(faker, clinic, n, now).resources;
    await write(cw, resources);
    const patient = resources.find((r) => r.resourceType === 'Patient');
    if (patient && cohort.length < COHORT_SIZE) cohort.push(patient.id);
    options.onProgress?.(n, total);
  }
  // A list of patients for Group-level Bulk Data export (Group/{id}/$export): each requester gets
  // the members they may see, so every clinician's export of it differs.
  await write(cw, [
    {
      resourceType: 'Group',
      id: crypto.randomUUID(),
      type: 'person',
      actual: true,
      name: 'Demo cohort: the first patients registered',
      member: cohort.map((id) => ({ entity: { reference: `Patient/${id}` } })),
    },
  ]);
  return { logins, patientCount: total };
}

/** True once any Organization exists: the demo clinic (or a real one) is already there. */
export async function isClinicSeeded(cw: Carewall): Promise<boolean> {
  const bundle = await cw.fhir.search(SYSTEM, 'Organization', { _count: ['1'] }, new URL('http://localhost/fhir/Organization'));
  return (bundle.total ?? 0) > 0;
}

export function clinicResources(clinic: Clinic): WithId<Resource>[] {
  return [
    clinic.organization,
    ...Object.values(clinic.departments),
    ...clinic.wards.map((w) => w.location),
    ...clinic.staff.flatMap((s) => [s.practitioner, s.practitionerRole]),
  ];
}

/** Validates and authorizes every resource, then writes them all in one transaction, in order. */
async function write(cw: Carewall, resources: WithId<Resource>[]): Promise<void> {
  await cw.fhir.commit(await Promise.all(resources.map((r) => cw.fhir.prepareCreate(SYSTEM, r, r.resourceType, r.id))));
}

async function createAccounts(cw: Carewall, clinic: Clinic): Promise<DemoLogin[]> {
  // In parallel: password hashing (argon2id) runs on libuv's thread pool. Results keep staff order.
  return Promise.all(
    clinic.staff.map(async ({ login }) => {
      const created = await cw.identity.createAccount({
        username: login.username,
        password: login.password,
        roles: login.roles,
        practitioner: login.practitioner,
      });
      return created.totpUri ? { ...login, totpUri: created.totpUri } : { ...login };
    }),
  );
}
