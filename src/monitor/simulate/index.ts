/**
 * `carewall monitor simulate`: a synthetic hospital in the monitor's input format (FHIR R4 NDJSON
 * as a Bulk Data export writes it), with injected incidents and their truth. The same seed and
 * sizes give the same bytes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { NdjsonWriter } from '../ndjson.js';
import { appointment, careTeam, encounter, location, organization, patient, practitioner, practitionerRoles, serviceRequest } from './fhir.js';
import { DEFAULT_CONVENTIONS, drawConventions, unlinkedWork, type Conventions } from './conventions.js';
import { buildHospital, DAY } from './hospital.js';
import { planIncidents } from './incidents.js';
import { Rng } from './random.js';
import { Sim } from './sim.js';

export interface SimulateOptions {
  seed: number;
  users: number;
  patients: number;
  days: number;
  out: string;
  /** The first simulated day (UTC); a Monday by default. */
  start?: string;
  /** The hospital's conventions, or a draw number for drawConventions; the original hospital by default. */
  conventions?: Conventions | number;
}

export interface SimulateSummary {
  events: number;
  incidents: number;
  byScenario: Record<string, number>;
  files: Record<string, number>;
}

export async function simulate(opts: SimulateOptions): Promise<SimulateSummary> {
  if (opts.users < 20) throw new Error('a hospital needs at least 20 users');
  if (opts.patients < opts.users) throw new Error('give at least as many patients as users');
  if (opts.days < 7) throw new Error('simulate at least 7 days');
  const start = Date.parse(`${opts.start ?? '2025-03-03'}T00:00:00Z`);
  if (Number.isNaN(start)) throw new Error('start must be a date (YYYY-MM-DD)');
  fs.mkdirSync(opts.out, { recursive: true });
  const rng = new Rng(opts.seed * 2654435761 + 12345);
  const conv = typeof opts.conventions === 'number' ? drawConventions(opts.conventions) : (opts.conventions ?? DEFAULT_CONVENTIONS);
  const h = buildHospital(rng, { users: opts.users, patients: opts.patients, days: opts.days, start, seed: opts.seed, conv });
  const sim = new Sim(h, rng);
  // Incidents first: they set the end dates of leavers, which the appointment book must respect.
  planIncidents(sim);
  sim.planAppointments();
  for (let d = 0; d < h.days; d++) sim.onDay(d, () => unlinkedWork(sim, conv, d));

  const files: Record<string, number> = {};
  const audit = new NdjsonWriter(path.join(opts.out, 'AuditEvent.ndjson'));
  for (let d = 0; d < h.days; d++) {
    for (const e of sim.day(d)) {
      const wait = audit.write(e);
      if (wait) await wait;
    }
  }
  await audit.close();
  files.AuditEvent = audit.count;

  const now = start + h.days * DAY;
  const write = async (type: string, items: Iterable<unknown>) => {
    const w = new NdjsonWriter(path.join(opts.out, `${type}.ndjson`));
    for (const item of items) {
      const wait = w.write(item);
      if (wait) await wait;
    }
    await w.close();
    files[type] = w.count;
  };
  await write('Organization', h.depts.map(organization));
  await write('Location', h.depts.flatMap((d) => [...d.wards, ...(d.clinic ? [d.clinic] : [])]).map(location));
  await write('Practitioner', h.staff.map(practitioner));
  await write(
    'PractitionerRole',
    h.staff.flatMap((s) => practitionerRoles(h, s)),
  );
  await write('Patient', h.patients.map(patient));
  await write(
    'Encounter',
    sim.encounters.filter((e) => e.start < now).map((e) => encounter(e, now)),
  );
  await write('Appointment', sim.appointments.filter((a) => a.created < now).map(appointment));
  await write('CareTeam', sim.careTeams.map(careTeam));
  await write('ServiceRequest', sim.serviceRequests.filter((r) => r.authored < now).map(serviceRequest));
  await write('truth', sim.truth);
  const byScenario: Record<string, number> = {};
  for (const t of sim.truth) byScenario[t.scenario] = (byScenario[t.scenario] ?? 0) + 1;
  return { events: files.AuditEvent, incidents: sim.truth.length, byScenario, files };
}
