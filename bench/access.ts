/**
 * `npm run bench` (second part): what the care-relationship rules cost.
 *  1. One access decision, p50/p99, for a physician related to 2,000 patients in a clinic of
 *     100,000 (their care teams, encounters, appointments, restrictions and consents in the access
 *     tables, derived by the same code as every write), for related (allowed) and unrelated
 *     (refused) patients.
 *  2. HTTP reads of those 2,000 patients' records by that physician, with the rules on against the
 *     foundation's rule (every authenticated user may read everything) on the same server and data,
 *     interleaved. Writes its section of docs/benchmarks.md.
 *
 * BENCH_CLINIC_PATIENTS (default 100000), BENCH_RELATED (2000), BENCH_SECONDS (12),
 * BENCH_CONCURRENCY (8), DATABASE_URL for PostgreSQL.
 */
import os from 'node:os';
import type { Resource } from '@medplum/fhirtypes';
import { SYSTEM, type Who } from '../src/shared/index.js';
import { AccessPolicy, type AccessDecision } from '../src/access/policy.js';
import { projectNewInBulk, type WrittenVersion } from '../src/access/projection.js';
import { reviewQueueSink } from '../src/access/reviewQueue.js';
import { startTestServer } from '../test/helpers/harness.js';
import { measure, type Measurement } from './measure.js';
import { randomPick, rng } from './synthetic.js';
import { writeSection } from './report.js';

const CLINIC = Number(process.env.BENCH_CLINIC_PATIENTS ?? 100_000);
const RELATED = Number(process.env.BENCH_RELATED ?? 2000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 12);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const COLLEAGUES = 200;
const DECISIONS = 4000;

/** The foundation's rule (before issue #3): any authenticated user reads everything. Bench only. */
class FoundationRule extends AccessPolicy {
  override predicate(): string {
    return 'true';
  }
  override readContext(): undefined {
    return undefined;
  }
  override async pinnedPredicate(): Promise<undefined> {
    return undefined;
  }
  override async decideMany(_who: Who | undefined, _a: unknown, _m: unknown, targets: unknown[]): Promise<AccessDecision[]> {
    return targets.map(() => ({ allowed: true, reason: 'foundation rule' }));
  }
}

async function main() {
  const server = await startTestServer();
  const cw = server.cw;
  const token = await server.login(['physician'], 'dr-bench');
  const me = server.practitionerOf(token);
  const who: Who = { accountId: 'bench', username: 'dr-bench', roles: ['physician'], practitioner: me };
  const random = rng(3);
  const colleague = () => ({ reference: `Practitioner/bench-${Math.floor(random() * COLLEAGUES)}` });
  const day = 86_400_000;

  // The clinic's relationships: every patient has a care team (the physician is on it for the first
  // RELATED), one or two encounters, maybe a booked appointment; 2% are restricted, 1% have a consent.
  const started = Date.now();
  let batch: WrittenVersion[] = [];
  const flush = async () => {
    await cw.db.transaction((tx) => projectNewInBulk(tx, batch));
    batch = [];
  };
  const now = new Date();
  for (let n = RELATED; n < CLINIC; n++) {
    const id = `bench-p-${n}`;
    const subject = { reference: `Patient/${id}` };
    const resources: Resource[] = [
      { resourceType: 'Patient', id, ...(n % 50 === 0 ? { meta: { security: [{ code: 'V' }] } } : {}), generalPractitioner: [colleague()] },
      { resourceType: 'CareTeam', id: `ct-${n}`, status: 'active', subject, participant: [{ member: colleague() }, { member: colleague() }] },
      {
        resourceType: 'Encounter',
        id: `e-${n}`,
        status: 'finished',
        class: { code: 'AMB' },
        subject,
        participant: [{ individual: colleague() }],
        period: { start: new Date(now.getTime() - random() * 400 * day).toISOString(), end: new Date(now.getTime() - random() * 300 * day).toISOString() },
      },
    ];
    if (n % 3 === 0)
      resources.push({
        resourceType: 'Appointment',
        id: `a-${n}`,
        status: 'booked',
        start: new Date(now.getTime() + random() * 60 * day).toISOString(),
        participant: [
          { actor: subject, status: 'accepted' },
          { actor: colleague(), status: 'accepted' },
        ],
      });
    if (n % 100 === 0)
      resources.push({
        resourceType: 'Consent',
        id: `c-${n}`,
        status: 'active',
        scope: { coding: [{ code: 'patient-privacy' }] },
        patient: subject,
        provision: { type: 'deny', actor: [{ role: {}, reference: colleague() }] },
      } as Resource);
    for (const r of resources) batch.push({ resourceType: r.resourceType, id: (r as { id: string }).id, lastUpdated: now, deleted: false, resource: r });
    if (batch.length >= 8000) await flush();
  }
  await flush();

  // The physician's own patients, with stored (encrypted) records, through the FHIR service.
  const related: string[] = [];
  const observations: string[] = [];
  for (let n = 0; n < RELATED; n++) {
    const patient = await cw.fhir.prepareCreate(
      SYSTEM,
      { resourceType: 'Patient', name: [{ family: `Bench${n}` }], generalPractitioner: [{ reference: me }] },
      'Patient',
    );
    const subject = { reference: `Patient/${patient.id}` };
    const team = await cw.fhir.prepareCreate(
      SYSTEM,
      { resourceType: 'CareTeam', status: 'active', subject, participant: [{ member: { reference: me } }, { member: colleague() }] },
      'CareTeam',
    );
    const obs = await cw.fhir.prepareCreate(
      SYSTEM,
      {
        resourceType: 'Observation',
        status: 'final',
        code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
        subject,
        valueQuantity: { value: 60 + (n % 40) },
      },
      'Observation',
    );
    await cw.fhir.commit([patient, team, obs]);
    related.push(patient.id);
    observations.push(obs.id);
  }
  // Fresh statistics, as autovacuum would have gathered them on a server that grew to this size.
  await cw.db.exec('analyze');
  const rows = (await cw.db.query<{ n: number }>('select count(*)::int as n from access_relationship')).rows[0].n;
  process.stderr.write(`${cw.db.kind}: ${CLINIC} patients, ${rows} relationships loaded in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);

  // 1. Decisions, one at a time as a request makes them.
  // Uncached: the process's context cache emptied before each decision (a first look at a chart);
  // cached: the same decisions again once the cache holds them (the rest of a chart).
  const timeDecisions = async (patients: string[], expect: boolean, cached: boolean) => {
    const times: number[] = [];
    for (let i = 0; i < DECISIONS; i++) {
      const patientId = patients[i % patients.length];
      if (!cached) cw.access.contexts.clear();
      const t0 = performance.now();
      const d = await cw.access.decide(who, 'read', 'read', { resourceType: 'Observation', id: `o-${i}`, patientId, labels: [] });
      times.push(performance.now() - t0);
      if (d.allowed !== expect) throw new Error(`decision for ${patientId} was ${d.allowed}, expected ${expect}`);
    }
    times.sort((a, b) => a - b);
    return { p50: times[Math.floor(times.length / 2)], p99: times[Math.floor(times.length * 0.99)] };
  };
  const unrelated = Array.from({ length: 2000 }, (_, i) => `bench-p-${RELATED + 1 + ((i * 37) % (CLINIC - RELATED - 1))}`);
  for (let waited = 0; !cw.access.contexts.live; waited += 50) {
    if (waited > 3000) throw new Error('the decision cache is not live: its notification channel does not answer');
    await new Promise((r) => setTimeout(r, 50));
  }
  await timeDecisions(related.slice(0, 200), true, false); // warm-up
  const allowed = await timeDecisions(related, true, false);
  const refused = await timeDecisions(unrelated, false, false);
  for (const patientId of [...related, ...unrelated]) await cw.access.decide(who, 'read', 'read', { resourceType: 'Observation', patientId, labels: [] });
  const allowedCached = await timeDecisions(related, true, true);
  const refusedCached = await timeDecisions(unrelated, false, true);
  const fmt = (x: { p50: number; p99: number }) => `${x.p50.toFixed(3)}/${x.p99.toFixed(3)}`;
  process.stderr.write(
    `decision p50/p99 uncached: related ${fmt(allowed)} ms, unrelated ${fmt(refused)} ms; cached: ${fmt(allowedCached)}, ${fmt(refusedCached)} ms\n`,
  );

  // 2. Reads through HTTP: rules on against the foundation rule, same server, interleaved.
  const rules = cw.fhir.access;
  // Every access is recorded in the audit log whichever rule decides it (issue #4): the baseline
  // records its decisions too (and files them for review), so that the comparison is of the rules alone.
  const foundation = new FoundationRule(cw.db, () => cw.keyring.blindIndex, cw.settings.access, { audit: cw.audit.onAccess, review: reviewQueueSink(cw.db) });
  const use = (policy: AccessPolicy) => Object.defineProperty(cw.fhir, 'access', { value: policy, configurable: true, writable: true });
  const workloads = [
    { name: 'read Observation by id', path: (r: () => number) => `/fhir/Observation/${randomPick(r, observations)}` },
    { name: 'read Patient by id', path: (r: () => number) => `/fhir/Patient/${randomPick(r, related)}` },
    { name: 'search Observation?patient=<id>', path: (r: () => number) => `/fhir/Observation?patient=${randomPick(r, related)}` },
  ];
  const results: Array<{ name: string; base: Measurement; on: Measurement }> = [];
  for (const w of workloads) {
    const runs: Record<'base' | 'on', Measurement[]> = { base: [], on: [] };
    for (let round = 0; round < 3; round++) {
      use(foundation);
      runs.base.push(await measure(server.url, token, w.path, { seconds: SECONDS / 3, concurrency: CONCURRENCY }));
      use(rules);
      runs.on.push(await measure(server.url, token, w.path, { seconds: SECONDS / 3, concurrency: CONCURRENCY }));
    }
    const avg = (ms: Measurement[]): Measurement => ({
      opsPerSec: ms.reduce((a, m) => a + m.opsPerSec, 0) / ms.length,
      p50: ms.reduce((a, m) => a + m.p50, 0) / ms.length,
      p99: ms.reduce((a, m) => a + m.p99, 0) / ms.length,
      errors: ms.reduce((a, m) => a + m.errors, 0),
    });
    results.push({ name: w.name, base: avg(runs.base), on: avg(runs.on) });
    process.stderr.write(`${w.name}: foundation ${avg(runs.base).opsPerSec.toFixed(0)}/s, rules on ${avg(runs.on).opsPerSec.toFixed(0)}/s\n`);
  }
  const kind = cw.db.kind;
  const version = (await cw.db.query<{ v: string }>(`select current_setting('server_version') as v`)).rows[0].v;
  await server.close();
  writeReport(kind, version, rows, { allowed, refused, allowedCached, refusedCached }, results);
}

function writeReport(
  kind: string,
  version: string,
  relationships: number,
  d: Record<'allowed' | 'refused' | 'allowedCached' | 'refusedCached', { p50: number; p99: number }>,
  results: Array<{ name: string; base: Measurement; on: Measurement }>,
) {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const table = results
    .map(
      (r) =>
        `| ${r.name} | ${r.base.opsPerSec.toFixed(0)} | ${r.on.opsPerSec.toFixed(0)} | **${(r.on.opsPerSec / r.base.opsPerSec).toFixed(2)}** | ${r.base.p50.toFixed(1)} / ${r.base.p99.toFixed(1)} | ${r.on.p50.toFixed(1)} / ${r.on.p99.toFixed(1)} | ${r.base.errors + r.on.errors} |`,
    )
    .join('\n');
  const section = `## Access rules: decision cost and reads against the foundation rule (${kind})

Measured ${new Date().toISOString().slice(0, 10)} by \`npm run bench\` on ${os.cpus().length} × ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB,
Node ${process.version}. Database: ${kind === 'pglite' ? 'embedded PGlite' : 'PostgreSQL server on 127.0.0.1'} (PostgreSQL ${version}).
A clinic of ${CLINIC.toLocaleString('en')} patients (${relationships.toLocaleString('en')} relationship rows: care teams, encounters, appointments, general
practitioners; 2% very restricted, 1% with a consent), derived by the same code as every write; a physician related to
${RELATED.toLocaleString('en')} of them, whose records are stored encrypted.

**One decision** (\`AccessPolicy.decide\`), ${DECISIONS} in a row, p50 / p99:

| | related patient (allowed) | unrelated patient (refused) |
|---|---:|---:|
| uncached: one call of \`access_context()\`, then the rules in code | **${d.allowed.p50.toFixed(3)}** / ${d.allowed.p99.toFixed(3)} ms | **${d.refused.p50.toFixed(3)}** / ${d.refused.p99.toFixed(3)} ms |
| cached: the context from the process's cache (src/access/contextCache.ts) | **${d.allowedCached.p50.toFixed(3)}** / ${d.allowedCached.p99.toFixed(3)} ms | **${d.refusedCached.p50.toFixed(3)}** / ${d.refusedCached.p99.toFixed(3)} ms |

**Reads** over HTTP, ${CONCURRENCY} concurrent clients, ${SECONDS} s per cell in three interleaved rounds; the baseline is the same
server with the foundation's rule (every authenticated user reads everything), each access recorded in the audit log under
either rule. A read with the rules on fetches the row, then
decides with the caller's context for that patient (cached after the first look); a search by patient adds that
patient's rule (reduced to a condition on labels) to its SQL, a search across patients the general set predicate.

| workload | foundation req/s | rules on req/s | ratio | foundation p50 / p99 ms | rules on p50 / p99 ms | errors |
|---|---:|---:|---:|---:|---:|---:|
${table}
`;
  writeSection(section);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
