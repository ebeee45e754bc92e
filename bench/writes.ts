/**
 * `npm run bench`: FHIR creates through the real HTTP server (a physician creating patients they
 * treat: validation, the access decision, encryption, blind indexes, the care-relationship rows and
 * the audit record, each in one transaction) at 10 and 50 connections, against reads of a Patient by
 * id by the same physician at the same concurrency in the same run (the read is the baseline: the
 * same server, login, access check and audit append, without the write). Alternated rounds.
 *
 * BENCH_SECONDS per round (default 6), BENCH_ROUNDS (default 3), DATABASE_URL for PostgreSQL.
 */
import os from 'node:os';
import { startTestServer } from '../test/helpers/harness.js';
import { measure, type Measurement } from './measure.js';
import { syntheticPatient, randomPick, rng } from './synthetic.js';
import { writeSection } from './report.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

const server = await startTestServer({});
const kind = server.databaseUrl ? 'postgres' : 'pglite';
const token = await server.login(['physician']);
const gp = { reference: server.practitionerOf(token) };
const data = rng(31);
const patientIds: string[] = [];
for (let i = 0; i < 200; i++) {
  const res = await fetch(`${server.url}/fhir/Patient`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json' },
    body: JSON.stringify({ ...syntheticPatient(data, i), generalPractitioner: [gp] }),
  });
  if (res.status !== 201) throw new Error(`setup create: ${res.status}`);
  patientIds.push(((await res.json()) as { id: string }).id);
}

let n = 1000;
const workloads = {
  create: () => ({ method: 'POST', path: '/fhir/Patient', body: { ...syntheticPatient(data, n++), generalPractitioner: [gp] } }),
  read: (r: () => number) => `/fhir/Patient/${randomPick(r, patientIds)}`,
};
const results: Record<string, Measurement[]> = {};
for (let round = 0; round < ROUNDS; round++)
  for (const concurrency of [10, 50])
    for (const [name, next] of Object.entries(workloads)) {
      const m = await measure(server.url, token, next, { seconds: SECONDS, concurrency });
      if (m.errors > 0) throw new Error(`${name} at ${concurrency}: ${m.errors} errors`);
      (results[`${name}@${concurrency}`] ??= []).push(m);
      process.stderr.write(`[${kind}] round ${round + 1} ${name} at ${concurrency}: ${m.opsPerSec.toFixed(0)}/s, p99 ${m.p99.toFixed(0)} ms\n`);
    }
await server.close();

const median = (ms: Measurement[], f: (m: Measurement) => number) => ms.map(f).sort((a, b) => a - b)[Math.floor(ms.length / 2)];
const row = (concurrency: number) => {
  const c = results[`create@${concurrency}`];
  const r = results[`read@${concurrency}`];
  const creates = median(c, (m) => m.opsPerSec);
  const reads = median(r, (m) => m.opsPerSec);
  return `| ${concurrency} | **${creates.toFixed(0)}** | ${median(c, (m) => m.p50).toFixed(1)} / ${median(c, (m) => m.p99).toFixed(0)} | ${reads.toFixed(0)} | ${(creates / reads).toFixed(2)} |`;
};
writeSection(`## FHIR creates (${kind})

Measured ${new Date().toISOString().slice(0, 10)} by \`npm run bench\` (bench/writes.ts) on ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown CPU'}, load average
${os.loadavg()[0].toFixed(1)} (the machine is shared), Node ${process.version}, ${kind === 'pglite' ? 'embedded PGlite' : 'PostgreSQL server on 127.0.0.1'}. A physician creates
patients they treat over HTTP (validation, access decision, encryption, blind indexes, care-relationship rows and the audit
record in one transaction), ${ROUNDS} rounds of ${SECONDS} s alternated with reads of a Patient by id by the same physician; medians.

| connections | creates/s | create p50 / p99 ms | reads/s alongside | creates per read |
|---|---:|---:|---:|---:|
${row(10)}
${row(50)}

A write stages its audit record in its own transaction (so the version and its record commit together) and the next
group-commit batch moves it into the log's tree, under the sequencer lock, before the write answers (src/audit/log.ts).
Before 5c8d830 the record was appended inside the write, and the lock was held from that append to the write's commit:
7-8 of 10 connections waited on it. Against that code, alternated on 2026-12-06 (load 1-2, autocannon, 10 s a point):
PostgreSQL 143 → 245 creates/s at 10 connections, 165 → 309 at 50; embedded 102 → 122 and 114 → 135. Earlier (bc086d2:
the lock held for the whole write, 22 round trips a Patient create; 13 after): 50 connections 58-65 → 112-138.
`);
