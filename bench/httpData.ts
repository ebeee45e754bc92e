/**
 * The clinic every server of bench/http.ts is loaded with: the same patients and observations
 * (a seeded generator) in Carewall, the plain baseline and a Medplum server.
 */
import { syntheticObservation, syntheticPatient, rng } from './synthetic.js';

export const PATIENTS = Number(process.env.BENCH_PATIENTS ?? 1000);
export const OBSERVATIONS_PER_PATIENT = 5;

/** What a loaded server tells the load generator. */
export interface Loaded {
  patientIds: string[];
  /** Each patient's family name, in the order of patientIds. */
  families: string[];
}

/** The patients, each with its general practitioner, and their observations once the patient's id is known. */
export function* clinic(practitioner: string) {
  const random = rng(42);
  for (let i = 0; i < PATIENTS; i++) {
    const patient = { ...syntheticPatient(random, i), generalPractitioner: [{ reference: practitioner }] };
    // Drawn now, whatever the server does with them, so that every server gets the same data.
    const drawn = Array.from({ length: OBSERVATIONS_PER_PATIENT }, () => syntheticObservation(random, 'PATIENT'));
    const observations = (patientId: string) => drawn.map((o) => ({ ...o, subject: { reference: `Patient/${patientId}` } }));
    yield { patient, observations };
  }
}
