/**
 * What validation costs per write (issue 30): Medplum's structural validation alone (the baseline,
 * what every write did before) against Carewall's whole check (structure, then required bindings,
 * real dates, reference targets, dom-3/obs-7/per-1 and the narrative), on the same records: the
 * demo clinic's, every kind Carewall keeps. CPU-only and repeatable; ratios against the baseline
 * in the same run.
 */
import os from 'node:os';
import { validateResource } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import { generateClinic } from '../src/demo/clinic.js';
import { generatePatient } from '../src/demo/patientRecord.js';
import { demoFaker } from '../src/demo/seed.js';
import { strictIssues } from '../src/records/strictValidation.js';
import { loadDefinitions, validateBody } from '../src/records/validate.js';
import { writeSection } from './report.js';

const SECONDS = Number(process.env.VALIDATION_BENCH_SECONDS ?? 5);
const loadAtStart = os.loadavg()[0];

const now = new Date('2026-06-01T00:00:00Z');
const faker = demoFaker(11, now);
const clinic = generateClinic(faker);
const records: Resource[] = [];
for (let n = 1; n <= 40; n++) records.push(...(generatePatient(faker, clinic, n, now).resources as Resource[]));
loadDefinitions();
for (const r of records) validateBody(r); // the corpus is valid under both, and everything is loaded

const ROUNDS = 5;
function perSecond(fn: (r: Resource) => void, seconds: number): number {
  const end = performance.now() + seconds * 1000;
  let n = 0;
  while (performance.now() < end) for (let k = 0; k < 10; k++, n++) fn(records[n % records.length]);
  return n / seconds;
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// Alternated rounds, the median of each: a shared machine's load falls on both alike.
const ways = {
  structural: (r: Resource) => void validateResource(r),
  strict: (r: Resource) => void strictIssues(r),
  whole: (r: Resource) => void validateBody(r),
};
for (const fn of Object.values(ways)) perSecond(fn, 0.5); // warm-up
const rounds: Record<keyof typeof ways, number[]> = { structural: [], strict: [], whole: [] };
for (let i = 0; i < ROUNDS; i++) for (const [k, fn] of Object.entries(ways)) rounds[k as keyof typeof ways].push(perSecond(fn, SECONDS / ROUNDS));
const structural = median(rounds.structural);
const strict = median(rounds.strict);
const whole = median(rounds.whole);
const bytes = Math.round(records.reduce((n, r) => n + JSON.stringify(r).length, 0) / records.length);
const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
const section = `## FHIR validation: the cost of the strict checks per write

Measured ${new Date().toISOString().slice(0, 10)} by \`npm run bench\` (bench/validation.ts) on ${os.cpus().length} × ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB,
Node ${process.version}${loadAtStart >= 0.5 ? `; the machine was shared (load average ${loadAtStart.toFixed(2)} when the run began)` : ''}. ${records.length} records of the demo clinic (${bytes} bytes of JSON on
average: patients, encounters, observations, conditions...), validated one at a time, ${ROUNDS} alternated rounds of ${SECONDS / ROUNDS} s each way (the median), one core.

| what | records/s | µs per record | ratio to structural validation |
|---|---:|---:|---:|
| baseline: Medplum's structural validation alone | ${structural.toFixed(0)} | ${(1e6 / structural).toFixed(1)} | 1.000 |
| the strict checks alone: required bindings, real dates, reference targets, dom-3, obs-7, per-1, narrative | ${strict.toFixed(0)} | ${(1e6 / strict).toFixed(1)} | ${(strict / structural).toFixed(3)} |
| Carewall's validation, both | ${whole.toFixed(0)} | ${(1e6 / whole).toFixed(1)} | **${(whole / structural).toFixed(3)}** |

The strict checks walk each record once more along the same type schemas; against a write's whole
cost (encryption, indexes, the audit record, the database's commit: hundreds of microseconds to
milliseconds, section "Import") they are small.
`;
process.stdout.write(section);
writeSection(section);
