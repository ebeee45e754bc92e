/**
 * A TinyClinic (monitorFixture.ts) inside a running test server, for the live monitor's tests: its
 * reference resources stored through the FHIR service as the system (ids kept), its accesses
 * appended to the audit log as the record service writes them, every time moved so that the
 * clinic's last day ends an hour ago (inside the live scan's window).
 */
import { encodeLeaf, type AuditRecord } from '../../src/audit/record.js';
import { searchColumnsOf } from '../../src/audit/searchColumns.js';
import { SYSTEM } from '../../src/shared/index.js';
import { DAY, START, type TinyClinic } from './monitorFixture.js';
import type { TestServer } from './harness.js';

type Json = Record<string, unknown>;
const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

function shifted(value: unknown, by: number): unknown {
  if (typeof value === 'string' && ISO_TIME.test(value)) return new Date(Date.parse(value) + by).toISOString();
  if (Array.isArray(value)) return value.map((v) => shifted(v, by));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shifted(v, by)]));
  return value;
}

const ref = (r: unknown) => String((r as { reference?: string } | undefined)?.reference ?? '').replace(/^[A-Za-z]+\//, '');

/** The reference resources of `clinic` (every type, the order links need); returns the time shift. */
export async function loadResources(s: TestServer, clinic: TinyClinic, now: number): Promise<number> {
  const by = now - 3_600_000 - (START + clinic.days * DAY);
  for (const type of ['Organization', 'Location', 'Practitioner', 'PractitionerRole', 'Patient', 'Encounter', 'Appointment', 'CareTeam', 'ServiceRequest']) {
    for (const r of clinic.files[type]) await addResource(s, type, shifted(r, by) as Json);
  }
  return by;
}

/** An access by a nurse as the record service writes it (a read, or a write with `create`). */
export function accessRecord(user: string, patient: string, time: number, action: 'read' | 'create' = 'read', ip = '10.1.1.10'): AuditRecord {
  return {
    time: new Date(time).toISOString(),
    action,
    outcome: 'success',
    user: { account: `acct-${user}`, username: user, practitioner: `Practitioner/${user}`, roles: ['nurse'] },
    patient,
    resource: { type: 'Patient', id: patient },
    client: { ip },
  };
}

/** Appends records to the audit log in time order, in batches. */
export async function appendRecords(s: TestServer, records: AuditRecord[]): Promise<void> {
  records.sort((a, b) => a.time.localeCompare(b.time));
  for (let i = 0; i < records.length; i += 500) {
    const batch = records.slice(i, i + 500);
    await s.cw.audit.log.appendBatch(
      batch.map((r) => encodeLeaf(r)),
      batch.map(searchColumnsOf),
    );
  }
}

/** Stores one more reference resource (its id kept) through the FHIR service as the system. */
export async function addResource(s: TestServer, type: string, resource: Json): Promise<void> {
  await s.cw.fhir.commit([await s.cw.fhir.prepareCreate(SYSTEM, resource, type, String(resource.id))]);
}

/** The clinic's AuditEvents from index `from` on, as Carewall's own audit records, shifted by `by`. */
export async function appendAccesses(s: TestServer, clinic: TinyClinic, by: number, from = 0): Promise<void> {
  const records = clinic.events.slice(from).map((e: Json) => {
    const agent = (e.agent as Json[])[0];
    const action = ((e.subtype as Json[])[0].code as string) === 'create' ? 'create' : 'read';
    const ip = String((agent.network as Json | undefined)?.address ?? '10.1.1.10');
    return accessRecord(ref(agent.who), ref((e.entity as Json[])[0].what), Date.parse(String(e.recorded)) + by, action, ip);
  });
  await appendRecords(s, records);
}
