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
    for (const r of clinic.files[type]) {
      const write = await s.cw.fhir.prepareCreate(SYSTEM, shifted(r, by), type, String(r.id));
      await s.cw.fhir.commit([write]);
    }
  }
  return by;
}

/** The clinic's AuditEvents from index `from` on, as Carewall's own audit records, shifted by `by`. */
export async function appendAccesses(s: TestServer, clinic: TinyClinic, by: number, from = 0): Promise<void> {
  const records: AuditRecord[] = clinic.events.slice(from).map((e: Json) => {
    const agent = (e.agent as Json[])[0];
    const user = ref(agent.who);
    const patient = ref((e.entity as Json[])[0].what);
    const subtype = ((e.subtype as Json[])[0].code as string) === 'create' ? 'create' : 'read';
    return {
      time: new Date(Date.parse(String(e.recorded)) + by).toISOString(),
      action: subtype,
      outcome: 'success',
      user: { account: `acct-${user}`, username: user, practitioner: `Practitioner/${user}`, roles: ['nurse'] },
      patient,
      resource: { type: 'Patient', id: patient },
      client: { ip: String((agent.network as Json | undefined)?.address ?? '10.1.1.10') },
    };
  });
  records.sort((a, b) => a.time.localeCompare(b.time));
  for (let i = 0; i < records.length; i += 500) {
    const batch = records.slice(i, i + 500);
    await s.cw.audit.log.appendBatch(
      batch.map((r) => encodeLeaf(r)),
      batch.map(searchColumnsOf),
    );
  }
}
