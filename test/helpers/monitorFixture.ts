/**
 * Tiny hand-built hospitals for the monitor's detector tests: two wards of nurses doing their
 * ordinary, explained work for a couple of weeks (the baseline), to which a test adds the accesses
 * it is about. Written as the FHIR NDJSON a Bulk Data export gives.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Alert } from '../../src/monitor/catalog.js';
import { scan } from '../../src/monitor/scan/index.js';

export const DAY = 86_400_000;
export const START = Date.parse('2025-03-03T00:00:00Z');
export const at = (day: number, hour: number, minute = 0) => START + day * DAY + hour * 3_600_000 + minute * 60_000;

type Json = Record<string, unknown>;

export interface Person {
  family: string;
  given: string;
  birthDate?: string;
  line?: string;
  city?: string;
  postalCode?: string;
  phone?: string;
}

function personFields(p: Person): Json {
  return {
    name: [{ family: p.family, given: [p.given] }],
    ...(p.birthDate ? { birthDate: p.birthDate } : {}),
    ...(p.line ? { address: [{ line: [p.line], city: p.city ?? 'Springfield', postalCode: p.postalCode ?? '10001' }] } : {}),
    ...(p.phone ? { telecom: [{ system: 'phone', value: p.phone }] } : {}),
  };
}

export class TinyClinic {
  readonly files: Record<string, Json[]> = {
    Organization: [],
    Location: [],
    Practitioner: [],
    PractitionerRole: [],
    Patient: [],
    Encounter: [],
    Appointment: [],
    CareTeam: [],
    ServiceRequest: [],
  };
  readonly events: Json[] = [];
  private n = 0;
  /** Nurses of the two wards, and the inpatients each ward has throughout. */
  readonly wards: Record<'cardio' | 'surgery', { nurses: string[]; patients: string[]; hosts: string[] }> = {
    cardio: { nurses: [], patients: [], hosts: ['10.1.1.10', '10.1.1.11'] },
    surgery: { nurses: [], patients: [], hosts: ['10.2.1.10', '10.2.1.11'] },
  };

  constructor(readonly days = 14) {
    for (const [org, name] of [
      ['cardio', 'Cardiology'],
      ['surgery', 'Surgery'],
    ] as const) {
      this.files.Organization.push({ resourceType: 'Organization', id: `org-${org}`, name });
      this.files.Location.push({
        resourceType: 'Location',
        id: `ward-${org}`,
        name: `${name} ward`,
        managingOrganization: { reference: `Organization/org-${org}` },
      });
      for (let i = 1; i <= 8; i++) {
        const id = `${org}-nurse-${i}`;
        this.staff(
          id,
          {
            family: `Nurse${org}${i}`,
            given: 'Pat',
            birthDate: `198${i}-0${i}-1${i}`,
            line: `${i} Nurse${org}${i} Road`,
            phone: `+1-555-01${org === 'cardio' ? 1 : 2}-00${i}`,
          },
          { role: 'nurse', org, ward: true },
        );
        this.wards[org].nurses.push(id);
      }
      for (let i = 1; i <= 24; i++) {
        const id = `${org}-pt-${String(i).padStart(3, '0')}`;
        this.patient(id, {
          family: `Resident${org}${i}`,
          given: 'Sam',
          birthDate: `19${50 + i}-02-03`,
          line: `${100 + i} Long ${org} Street`,
          city: `${org}ville`,
          phone: `+1-555-2${org === 'cardio' ? 1 : 2}${String(i).padStart(2, '0')}-000`,
        });
        this.encounter(id, org, START - DAY, START + days * DAY);
        this.wards[org].patients.push(id);
      }
    }
    // Ordinary work: every nurse, every day, a few of the ward's patients, each with a write.
    for (let d = 0; d < days; d++) {
      for (const org of ['cardio', 'surgery'] as const) {
        const w = this.wards[org];
        w.nurses.forEach((nurse, i) => {
          for (let k = 0; k < 6; k++) {
            const patient = w.patients[(d * 7 + i * 3 + k * 5) % w.patients.length];
            const t = at(d, 8 + k, (i * 7) % 60);
            this.access(nurse, patient, t, { address: w.hosts[i % 2] });
            this.access(nurse, patient, t + 60_000, { subtype: 'create', address: w.hosts[i % 2] });
          }
        });
      }
    }
  }

  staff(
    id: string,
    p: Person,
    role: { role: string; org: 'cardio' | 'surgery' | string; ward?: boolean; start?: string; end?: string; active?: boolean },
  ): string {
    this.files.Practitioner.push({ resourceType: 'Practitioner', id, ...personFields(p) });
    this.files.PractitionerRole.push({
      resourceType: 'PractitionerRole',
      id: `role-${id}`,
      active: role.active ?? true,
      period: { start: role.start ?? '2020-01-01', ...(role.end ? { end: role.end } : {}) },
      practitioner: { reference: `Practitioner/${id}` },
      organization: { reference: `Organization/org-${role.org}` },
      code: [{ coding: [{ system: 'urn:test:role', code: role.role }] }],
      ...(role.ward ? { location: [{ reference: `Location/ward-${role.org}` }] } : {}),
    });
    return id;
  }

  patient(id: string, p: Person, labels: string[] = []): string {
    this.files.Patient.push({
      resourceType: 'Patient',
      id,
      ...(labels.length ? { meta: { security: labels.map((code) => ({ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code })) } } : {}),
      ...personFields(p),
    });
    return id;
  }

  encounter(patient: string, org: string, start: number, end: number, participants: string[] = []): void {
    this.files.Encounter.push({
      resourceType: 'Encounter',
      id: `enc-${++this.n}`,
      status: 'in-progress',
      class: { code: 'IMP' },
      subject: { reference: `Patient/${patient}` },
      participant: participants.map((p) => ({ individual: { reference: `Practitioner/${p}` } })),
      period: { start: new Date(start).toISOString(), end: new Date(end).toISOString() },
      location: [{ location: { reference: `Location/ward-${org}` } }],
      serviceProvider: { reference: `Organization/org-${org}` },
    });
  }

  access(user: string, patients: string | string[], t: number, opts: { subtype?: string; address?: string; emergency?: boolean } = {}): void {
    const subtype = opts.subtype ?? 'read';
    const purpose = opts.emergency ? [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'ETREAT' }] }] : undefined;
    this.events.push({
      resourceType: 'AuditEvent',
      id: `ae-${++this.n}`,
      type: { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: subtype === 'export' || subtype === 'print' ? '110106' : 'rest' },
      subtype: [{ code: subtype }],
      recorded: new Date(t).toISOString(),
      ...(purpose ? { purposeOfEvent: purpose } : {}),
      agent: [{ who: { reference: `Practitioner/${user}` }, requestor: true, network: { address: opts.address ?? '10.1.1.10' } }],
      entity: (Array.isArray(patients) ? patients : [patients]).map((p) => ({ what: { reference: `Patient/${p}` } })),
    });
  }

  /** Writes the folder (events in time order) and returns its path. */
  write(dir = fs.mkdtempSync(path.join(os.tmpdir(), 'carewall-monitor-'))): string {
    for (const [type, list] of Object.entries(this.files))
      fs.writeFileSync(path.join(dir, `${type}.ndjson`), list.map((r) => JSON.stringify(r)).join('\n') + (list.length ? '\n' : ''));
    const sorted = [...this.events].sort((a, b) => String(a.recorded).localeCompare(String(b.recorded)));
    fs.writeFileSync(path.join(dir, 'AuditEvent.ndjson'), sorted.map((r) => JSON.stringify(r)).join('\n') + '\n');
    return dir;
  }
}

/** The alerts a scan of the clinic's folder gives (the folder is removed afterwards). */
export async function alertsOf(clinic: TinyClinic): Promise<Alert[]> {
  const dir = clinic.write();
  try {
    return (await scan(dir)).alerts;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export const forUser = (alerts: Alert[], user: string) => alerts.filter((a) => a.user === `Practitioner/${user}`);
