/**
 * The posture scorecard on a large clinic: POSTURE_BENCH_PATIENTS patients (100,000: imported as a
 * clinic would), POSTURE_BENCH_STAFF staff accounts with their practitioners (2,000) and
 * POSTURE_BENCH_AUDIT audit records (1,000,000 chart reads; a year of a mid-sized clinic's reads is
 * of that order). The whole scorecard measured (facts gathered from every capability, checks,
 * scores, the snapshot and its audit record) against the baseline of its largest single part, in
 * the same run: listing the accounts and reading each one's practitioner.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { importFiles } from '../src/bulk/index.js';
import { SYSTEM } from '../src/shared/index.js';
import { startTestServer, tempDir } from '../test/helpers/harness.js';
import { writeSection } from './report.js';
import { rng, syntheticPatient } from './synthetic.js';

const PATIENTS = Number(process.env.POSTURE_BENCH_PATIENTS ?? 100_000);
const STAFF = Number(process.env.POSTURE_BENCH_STAFF ?? 2_000);
const AUDIT = Number(process.env.POSTURE_BENCH_AUDIT ?? 1_000_000);
const ROLES = ['physician', 'nurse', 'receptionist', 'billing', 'lab'] as const;

const s = await startTestServer({ audit: { intervalSeconds: 0 } });
const cw = s.cw;
const kind = s.databaseUrl ? 'postgres' : 'pglite';
try {
  const log = (text: string) => process.stderr.write(`[posture bench, ${kind}] ${text}\n`);
  const dir = tempDir('carewall-bench-posture-');
  const random = rng(27);
  log(`importing ${PATIENTS.toLocaleString('en')} patients`);
  for (let start = 0; start < PATIENTS; start += 20_000) {
    const file = path.join(dir, `Patient-${start}.ndjson`);
    const rows = Array.from({ length: Math.min(20_000, PATIENTS - start) }, (_, i) => ({
      ...syntheticPatient(random, start + i),
      id: `bench-pat-${start + i}`,
    }));
    fs.writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    await importFiles(cw, [file]);
  }
  log(`creating ${STAFF.toLocaleString('en')} staff accounts with their practitioners`);
  for (let i = 0; i < STAFF; i++) {
    const practitioner = await cw.fhir.create(SYSTEM, 'Practitioner', { resourceType: 'Practitioner', active: i % 97 !== 0, name: [{ family: `Staff${i}` }] });
    await cw.identity.createAccount({
      username: `staff-${i}`,
      password: `bench password ${i} long enough`,
      roles: [ROLES[i % ROLES.length]],
      practitioner: `Practitioner/${practitioner.id}`,
    });
  }
  log(`appending ${AUDIT.toLocaleString('en')} audit records`);
  let next = 0;
  const appender = async () => {
    while (next < AUDIT) {
      const n = next++;
      await cw.audit.record({
        action: 'read',
        outcome: 'success',
        user: { account: `bench-account-${n % STAFF}`, username: `staff-${n % STAFF}`, roles: ['physician'] },
        requestId: `req-${n}`,
        patient: `bench-pat-${n % PATIENTS}`,
        resource: { type: 'Observation', id: crypto.randomUUID(), version: '1' },
        purposeOfUse: 'TREAT',
        explanation: { reason: 'care relationship' },
      });
    }
  };
  await Promise.all(Array.from({ length: 64 }, appender));

  const runs = 3;
  const loadAtStart = os.loadavg()[0];
  const timeOf = async (f: () => Promise<unknown>) => {
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      await f();
      times.push(performance.now() - t0);
    }
    return times.sort((a, b) => a - b)[1];
  };
  const baseline = await timeOf(async () => {
    for (const a of await cw.identity.listAccounts()) if (a.practitioner) await cw.fhir.read(SYSTEM, 'Practitioner', a.practitioner.split('/')[1]);
  });
  let day = 0;
  const scorecard = await timeOf(() => cw.posture.measure(new Date(Date.UTC(2026, 11, 5 + day++))));
  const card = await cw.posture.scorecard(SYSTEM);
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const section = `## Posture: the scorecard on a clinic of ${PATIENTS.toLocaleString('en')} patients (${kind})

Measured ${new Date().toISOString().slice(0, 10)} by \`npm run bench\` (bench/posture.ts) on ${os.cpus().length} × ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB,
Node ${process.version}${loadAtStart >= 0.5 ? `; the machine was shared (load average ${loadAtStart.toFixed(2)} when the timing began: the ratio is the figure to read)` : ''}. ${PATIENTS.toLocaleString('en')} patients (imported), ${STAFF.toLocaleString('en')} staff accounts each with a practitioner (one in 97
no longer active), ${AUDIT.toLocaleString('en')} audit records. The median of ${runs} runs.

| what | time | ratio |
|---|---:|---:|
| baseline: the accounts listed and each one's practitioner read | ${(baseline / 1000).toFixed(2)} s | 1.00 |
| the whole scorecard: facts from every capability, ${card.practices.length} practices scored, the snapshot and its audit record | ${(scorecard / 1000).toFixed(2)} s | ${(scorecard / baseline).toFixed(2)} |

The scorecard reads each account's practitioner (to find staff who left), and counts the last 30 days' chart openings
in the audit log from its search columns (all ${AUDIT.toLocaleString('en')} records here, appended just now: a clinic's month is a twelfth of its
year); the rest (grants and cases, sessions, the last verification, the equipment fleet, the awareness figures) is small. The server measures once a day and on demand; \`GET /api/posture\` answers from the last
snapshot when it is under a day old. Headline on this clinic: ${card.summary.text.split(';')[0]}.
`;
  process.stdout.write(section);
  writeSection(section);
} finally {
  await s.close();
}
