/**
 * `npm run bench` (fourth part): `carewall import` of NDJSON files, as a migration from an old
 * system brings them (patients, their physicians as Practitioners, encounters and observations,
 * ids given and referring to each other), against creating the same kind of resources one at a
 * time through the API path (FhirService.create) in the same run.
 *
 * BENCH_IMPORT_PATIENTS (default 5,000; 6 resources each), DATABASE_URL for PostgreSQL.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SYSTEM } from '../src/shared/index.js';
import { importFiles } from '../src/bulk/index.js';
import { startTestServer, tempDir } from '../test/helpers/harness.js';
import { rng, syntheticObservation, syntheticPatient } from './synthetic.js';
import { writeSection } from './report.js';

const PATIENTS = Number(process.env.BENCH_IMPORT_PATIENTS ?? 5000);
const BASELINE = 1000;

async function main() {
  const server = await startTestServer({ audit: { intervalSeconds: 5 } });
  const cw = server.cw;
  const kind = server.databaseUrl ? 'postgres' : 'pglite';
  const version = (await cw.db.query<{ v: string }>("select current_setting('server_version') as v")).rows[0].v;
  const dir = tempDir('carewall-bench-import-');
  const random = rng(7);
  const lines = (name: string, rows: object[]) => {
    fs.writeFileSync(path.join(dir, name), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    return path.join(dir, name);
  };
  const practitioners = Array.from({ length: 50 }, (_, i) => ({ resourceType: 'Practitioner', id: `bench-pr-${i}`, name: [{ family: `Doctor${i}` }] }));
  const patients = Array.from({ length: PATIENTS }, (_, i) => ({
    ...syntheticPatient(random, i),
    id: `bench-pat-${i}`,
    generalPractitioner: [{ reference: `Practitioner/bench-pr-${i % 50}` }],
  }));
  const encounters = patients.map((p, i) => ({
    resourceType: 'Encounter',
    id: `bench-enc-${i}`,
    status: 'finished',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
    subject: { reference: `Patient/${p.id}` },
    participant: [{ individual: { reference: `Practitioner/bench-pr-${(i * 7) % 50}` } }],
    period: { start: '2025-05-01T09:00:00Z', end: '2025-05-01T09:20:00Z' },
  }));
  const observations = patients.flatMap((p, i) => Array.from({ length: 4 }, (_, k) => ({ ...syntheticObservation(random, p.id), id: `bench-obs-${i}-${k}` })));
  // Files in the order an export lists them; the observations come before nothing depends on order.
  const files = [
    lines('Observation.ndjson', observations),
    lines('Encounter.ndjson', encounters),
    lines('Practitioner.ndjson', practitioners),
    lines('Patient.ndjson', patients),
  ];
  const resources = observations.length + encounters.length + practitioners.length + patients.length;
  const megabytes = files.reduce((a, f) => a + fs.statSync(f).size, 0) / 1e6;

  process.stderr.write(`[${kind}] importing ${resources.toLocaleString('en')} resources (${megabytes.toFixed(0)} MB of NDJSON)\n`);
  const t0 = performance.now();
  const summary = await importFiles(cw, files);
  const importSeconds = (performance.now() - t0) / 1000;
  if (summary.resources !== resources) throw new Error(`imported ${summary.resources}, expected ${resources}`);
  const importRate = resources / importSeconds;

  // The API path: the same kind of resources, one create (one transaction, one audit record) each.
  const b0 = performance.now();
  for (let i = 0; i < BASELINE / 5; i++) {
    const patient = await cw.fhir.create(SYSTEM, 'Patient', {
      ...syntheticPatient(random, PATIENTS + i),
      generalPractitioner: [{ reference: 'Practitioner/bench-pr-0' }],
    });
    for (let k = 0; k < 4; k++) await cw.fhir.create(SYSTEM, 'Observation', syntheticObservation(random, patient.id));
  }
  const apiRate = BASELINE / ((performance.now() - b0) / 1000);
  process.stderr.write(`  import ${importRate.toFixed(0)} resources/s; one create at a time ${apiRate.toFixed(0)}/s\n`);
  await server.close();
  fs.rmSync(dir, { recursive: true, force: true });

  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  writeSection(`## Import (${kind})

Measured ${new Date().toISOString().slice(0, 10)} by \`npm run bench\` on ${os.cpus().length} × ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB,
Node ${process.version}. Database: ${kind === 'pglite' ? 'embedded PGlite' : 'PostgreSQL server on 127.0.0.1'} (PostgreSQL ${version}).

\`importFiles\` (what \`carewall import\` runs) of four NDJSON files, ${megabytes.toFixed(0)} MB: ${PATIENTS.toLocaleString('en')} patients, 50 practitioners,
an encounter and four observations per patient, every resource validated, encrypted, indexed and projected into the
access rules, in one transaction with one audit record. Against it, the same kind of resources created one at a time
through the API's write path (${BASELINE.toLocaleString('en')} creates, each its own transaction and audit record).

| | resources | seconds | resources/s |
|---|---:|---:|---:|
| **import** | ${resources.toLocaleString('en')} | ${importSeconds.toFixed(1)} | **${importRate.toFixed(0)}** |
| one create at a time | ${BASELINE.toLocaleString('en')} | ${(BASELINE / apiRate).toFixed(1)} | ${apiRate.toFixed(0)} |
| **ratio** | | | **${(importRate / apiRate).toFixed(1)}×** |

Target: at least 5,000 resources/s on the PostgreSQL server (${kind === 'postgres' ? (importRate >= 5000 ? 'met' : 'not met') : 'this is the embedded database'}).
`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
