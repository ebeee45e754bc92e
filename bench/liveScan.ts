/**
 * `npm run bench`: does the live insider-misuse monitor's scan slow the requests served meanwhile
 * (issue 31, item 5)? A physician's reads through the real HTTP server, at 10 connections, with the
 * live scan running back to back (each scan reads the new audit records and the 14-day window, the
 * records it needs, then detects in its worker thread) against the same reads with no scan, in
 * alternated rounds of the same run. The ratio is the measure; the absolute figures are this machine's.
 *
 * BENCH_SECONDS per round (default 6), BENCH_ROUNDS (default 3), BENCH_HISTORY accesses recorded
 * before the rounds (default 20,000), DATABASE_URL for PostgreSQL.
 */
import os from 'node:os';
import { startTestServer } from '../test/helpers/harness.js';
import { SYSTEM } from '../src/shared/index.js';
import { measure, type Measurement } from './measure.js';
import { randomPick, rng, syntheticObservation, syntheticPatient } from './synthetic.js';
import { writeSection } from './report.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const HISTORY = Number(process.env.BENCH_HISTORY ?? 20_000);

const server = await startTestServer({});
const kind = server.databaseUrl ? 'postgres' : 'pglite';
const token = await server.login(['physician']);
const gp = { reference: server.practitionerOf(token) };
const data = rng(17);
const ids: string[] = [];
for (let i = 0; i < 300; i++) {
  const pw = await server.cw.fhir.prepareCreate(SYSTEM, { ...syntheticPatient(data, i), generalPractitioner: [gp] }, 'Patient');
  const obs = await server.cw.fhir.prepareCreate(SYSTEM, syntheticObservation(data, pw.id), 'Observation');
  await server.cw.fhir.commit([pw, obs]);
  ids.push(pw.id);
}
const read = (r: () => number) => `/fhir/Patient/${randomPick(r, ids)}`;
// A history for the scan's window: the physician's own reads, recorded as every read is.
await measure(server.url, token, read, { seconds: 1, concurrency: 10 }); // warm-up
let recorded = 0;
while (recorded < HISTORY) {
  const m = await measure(server.url, token, read, { seconds: 2, concurrency: 10 });
  recorded += Math.round(m.opsPerSec * 2);
}
await server.cw.monitor.scanNow(); // the first scan reads the whole history once

/** Scans back to back until told to stop; how many ran. */
function scanning(): { stop: () => Promise<number> } {
  let go = true;
  let scans = 0;
  const loop = (async () => {
    while (go) {
      await server.cw.monitor.scanNow();
      scans++;
    }
  })();
  return {
    stop: async () => {
      go = false;
      await loop;
      return scans;
    },
  };
}

const quiet: Measurement[] = [];
const busy: Measurement[] = [];
let scans = 0;
for (let round = 0; round < ROUNDS; round++) {
  quiet.push(await measure(server.url, token, read, { seconds: SECONDS, concurrency: 10 }));
  const s = scanning();
  busy.push(await measure(server.url, token, read, { seconds: SECONDS, concurrency: 10 }));
  scans += await s.stop();
  process.stderr.write(
    `[${kind}] round ${round + 1}: no scan ${quiet[round].opsPerSec.toFixed(0)}/s p99 ${quiet[round].p99.toFixed(0)} ms; scanning ${busy[round].opsPerSec.toFixed(0)}/s p99 ${busy[round].p99.toFixed(0)} ms\n`,
  );
}
await server.close();

const median = (ms: Measurement[], f: (m: Measurement) => number) => ms.map(f).sort((a, b) => a - b)[Math.floor(ms.length / 2)];
const cell = (f: (m: Measurement) => number, digits: number) =>
  `${median(quiet, f).toFixed(digits)} | ${median(busy, f).toFixed(digits)} | **${(median(busy, f) / median(quiet, f)).toFixed(2)}**`;
writeSection(`## Requests while the live monitor scans (${kind})

Measured ${new Date().toISOString().slice(0, 10)} with \`npx tsx bench/liveScan.ts\`: a physician reading their patients by id through the
HTTP server at 10 connections, ${SECONDS} s per round, ${ROUNDS} alternated rounds, with the live monitor's scan running back to back
(${scans} scans in the scanning rounds, each over a window of about ${recorded.toLocaleString('en')} recorded accesses and the new ones)
against no scan. ${os.cpus().length} cores, load average ${os
  .loadavg()
  .map((x) => x.toFixed(1))
  .join(' / ')} at the end. Medians over the rounds.

| | no scan | scanning | scanning / no scan |
|---|---:|---:|---:|
| reads per second | ${cell((m) => m.opsPerSec, 0)} |
| p50 ms | ${cell((m) => m.p50, 1)} |
| p99 ms | ${cell((m) => m.p99, 1)} |

The scan's detection runs in a worker thread; its reads of the audit log and of the records it needs are
this process's database work, and share the database with the requests.
`);
