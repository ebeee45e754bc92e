/**
 * Past one machine (issue 33): reads/s and writes/s through 1, 2 and 4 Carewall processes on one
 * primary (PgBouncer in front, a synchronous streaming replica behind, searches from the replica),
 * the replica's lag under the write load, and how long a failover keeps writes from being
 * acknowledged. The cluster is scripts/cluster's; the processes, PostgreSQL, PgBouncer and this
 * load generator share the machine's cores, so on 2 cores the figures say what the layout costs,
 * not how it scales (docs/scale-out.md). Rounds alternate between 1, 2 and 4 processes.
 *
 * Needs root (scripts/cluster creates PostgreSQL clusters); skipped with a message otherwise.
 * BENCH_CLUSTER_SECONDS per point (default 6), BENCH_CLUSTER_CONCURRENCY (default 16).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { loadSettings } from '../src/config.js';
import { createLogger } from '../src/log.js';
import { openCarewall } from '../src/runtime.js';
import { SYSTEM } from '../src/shared/index.js';
import { currentOtp, PASSWORD } from '../test/helpers/harness.js';
import { writeSection } from './report.js';
import { rng } from './synthetic.js';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..');
const CLUSTER = path.join(ROOT, 'scripts/cluster');
const DIR = process.env.CLUSTER_DIR ?? '/tmp/carewall-cluster';
const SECONDS = Number(process.env.BENCH_CLUSTER_SECONDS ?? 6);
const CONCURRENCY = Number(process.env.BENCH_CLUSTER_CONCURRENCY ?? 16);
const PATIENTS = 200;
const ROUNDS = 2;

interface Point {
  opsPerSec: number;
  p50: number;
  p99: number;
  errors: number;
}

/** A closed loop of `CONCURRENCY` clients over `bases` in turn for `seconds`. */
async function load(
  bases: string[],
  token: string,
  request: (random: () => number) => { method: string; path: string; body?: unknown },
  seconds = SECONDS,
): Promise<Point> {
  const random = rng(11);
  const latencies: number[] = [];
  let errors = 0;
  let turn = 0;
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json' };
  const end = performance.now() + seconds * 1000;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < end) {
        const r = request(random);
        const base = bases[turn++ % bases.length];
        const t0 = performance.now();
        const res = await fetch(base + r.path, { method: r.method, headers, body: r.body === undefined ? undefined : JSON.stringify(r.body) });
        await res.arrayBuffer();
        if (!res.ok) errors++;
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return { opsPerSec: latencies.length / elapsed, p50: at(0.5), p99: at(0.99), errors };
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    process.stderr.write('bench/cluster: skipped, scripts/cluster needs root (it creates PostgreSQL clusters)\n');
    return;
  }
  await run('bash', [CLUSTER, 'down'], { cwd: ROOT });
  await run('bash', [CLUSTER, 'up', '--processes', '4'], { cwd: ROOT, maxBuffer: 1 << 24 });
  try {
    const cluster = JSON.parse(fs.readFileSync(path.join(DIR, 'cluster.json'), 'utf8')) as {
      balancer: string;
      processes: Array<{ url: string; dataDir: string }>;
      primary: string;
      bouncer: string;
      bouncerSession: string;
      replica: string;
    };
    const env = {
      DATABASE_URL: cluster.bouncer,
      DATABASE_LISTEN_URL: cluster.bouncerSession,
      DATABASE_POOLER: 'transaction',
      DATABASE_REPLICA_URL: cluster.replica,
    };
    const cw = await openCarewall(loadSettings(cluster.processes[0].dataDir, env), createLogger('silent'));
    const doctor = await cw.fhir.create(SYSTEM, 'Practitioner', { resourceType: 'Practitioner', name: [{ family: 'Benchmark' }] });
    const account = await cw.identity.createAccount({
      username: 'bench-doctor',
      password: PASSWORD,
      roles: ['physician'],
      practitioner: `Practitioner/${doctor.id}`,
    });
    const patients: string[] = [];
    const observations: string[] = [];
    for (let i = 0; i < PATIENTS; i++) {
      const p = await cw.fhir.create(SYSTEM, 'Patient', {
        resourceType: 'Patient',
        name: [{ family: `Bench${i}`, given: ['Kim'] }],
        generalPractitioner: [{ reference: `Practitioner/${doctor.id}` }],
      });
      patients.push(p.id);
      const o = await cw.fhir.create(SYSTEM, 'Observation', {
        resourceType: 'Observation',
        status: 'final',
        code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
        subject: { reference: `Patient/${p.id}` },
        valueQuantity: { value: 70, unit: '/min' },
      });
      observations.push(o.id);
    }
    const session = await fetch(`${cluster.balancer}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'bench-doctor', password: PASSWORD, otp: account.totpUri ? currentOtp(account.totpUri) : undefined }),
    });
    const token = ((await session.json()) as { token: string }).token;
    const pick = (random: () => number, list: string[]) => list[Math.floor(random() * list.length)];
    const read = (random: () => number) => ({ method: 'GET', path: `/fhir/Observation/${pick(random, observations)}` });
    const search = (random: () => number) => ({ method: 'GET', path: `/fhir/Observation?patient=${pick(random, patients)}` });
    const write = (random: () => number) => ({
      method: 'POST',
      path: '/fhir/Observation',
      body: {
        resourceType: 'Observation',
        status: 'final',
        code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
        subject: { reference: `Patient/${pick(random, patients)}` },
        valueQuantity: { value: 60 + Math.floor(random() * 40), unit: '/min' },
      },
    });

    const primary = new pg.Client({ connectionString: cluster.primary });
    await primary.connect();
    const lags: number[] = [];
    const results = new Map<string, Point[]>();
    const note = (key: string, p: Point) => results.set(key, [...(results.get(key) ?? []), p]);
    for (let round = 0; round < ROUNDS; round++) {
      for (const n of round % 2 === 0 ? [1, 2, 4] : [4, 2, 1]) {
        const bases = cluster.processes.slice(0, n).map((p) => p.url);
        note(`read ${n}`, await load(bases, token, read));
        note(`search ${n}`, await load(bases, token, search));
        let sampling = true;
        const sampler = (async () => {
          while (sampling) {
            const r = await primary.query<{ ms: number | null }>('select max(extract(epoch from replay_lag) * 1000)::float8 as ms from pg_stat_replication');
            if (n === 4 && r.rows[0].ms !== null) lags.push(r.rows[0].ms);
            await new Promise((res) => setTimeout(res, 200)); // the sampling interval
          }
        })();
        const logBefore = (await cw.audit.log.head()).size;
        const t0 = performance.now();
        note(`write ${n}`, await load(bases, token, write));
        // Every write appends its records through the one sequencer, whichever process takes it.
        note(`audit ${n}`, { opsPerSec: ((await cw.audit.log.head()).size - logBefore) / ((performance.now() - t0) / 1000), p50: 0, p99: 0, errors: 0 });
        sampling = false;
        await sampler;
      }
    }
    await primary.end();
    await cw.close();

    // The failover: writes through the balancer, the primary killed a few seconds in.
    const acknowledged: number[] = [];
    let failoverStarted = 0;
    let failoverDone = 0;
    const failover = (async () => {
      await new Promise((res) => setTimeout(res, 3000)); // let the write load settle first
      failoverStarted = performance.now();
      await run('bash', [CLUSTER, 'failover'], { cwd: ROOT });
      failoverDone = performance.now();
    })();
    const random = rng(5);
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json' };
    const end = performance.now() + 20_000;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (performance.now() < end) {
          const r = write(random);
          const res = await fetch(cluster.balancer + r.path, { method: 'POST', headers, body: JSON.stringify(r.body) });
          await res.arrayBuffer();
          if (res.status === 201) acknowledged.push(performance.now());
          else await new Promise((res2) => setTimeout(res2, 50)); // a client's back-off
        }
      }),
    );
    await failover;
    acknowledged.sort((a, b) => a - b);
    // The outage: the longest stretch without an acknowledged write, from the failover's start until
    // writes are acknowledged again after it finished (writes already under way may still land first).
    const resumed = acknowledged.find((t) => t > failoverDone) ?? Number.NaN;
    const window = [failoverStarted, ...acknowledged.filter((t) => t > failoverStarted && t < resumed), resumed];
    let outage = 0;
    for (let i = 1; i < window.length; i++) outage = Math.max(outage, window[i] - window[i - 1]);
    const { stdout } = await run('node', [path.join(ROOT, 'dist/cli/main.js'), 'audit', 'verify', '--data-dir', cluster.processes[0].dataDir, '--json'], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      maxBuffer: 1 << 24,
    });
    const verified = JSON.parse(stdout) as { ok: boolean; size: number };

    const best = (key: string) => (results.get(key) ?? []).reduce((a, b) => (b.opsPerSec > a.opsPerSec ? b : a));
    const row = (what: string) => {
      const [one, two, four] = [1, 2, 4].map((n) => best(`${what} ${n}`));
      const cell = (p: Point) => `${p.opsPerSec.toFixed(0)} (p99 ${p.p99.toFixed(0)} ms${p.errors ? `, ${p.errors} errors` : ''})`;
      return `| ${what} | ${cell(one)} | ${cell(two)} (${(two.opsPerSec / one.opsPerSec).toFixed(2)}×) | ${cell(four)} (${(four.opsPerSec / one.opsPerSec).toFixed(2)}×) |`;
    };
    lags.sort((a, b) => a - b);
    const median = lags.length ? lags[Math.floor(lags.length / 2)] : Number.NaN;
    const section = `## Past one machine: 1, 2 and 4 Carewall processes on one primary

Measured ${new Date().toISOString().slice(0, 10)} on ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown'}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB:
\`scripts/cluster up --processes 4\` (PostgreSQL ${'15'} primary with a synchronous streaming replica, PgBouncer in
transaction mode, searches from the replica), ${PATIENTS} patients of one physician, ${CONCURRENCY} clients in a closed
loop for ${SECONDS} s per point sent to the first 1, 2 or 4 processes in turn, best of ${ROUNDS} alternated rounds. Everything
(the processes, both PostgreSQL servers, PgBouncer and this load generator) shares the same cores: the ratios say
what more processes cost or gain on one machine, not how the layout scales across machines.

| requests/s | 1 process | 2 processes | 4 processes |
|---|---|---|---|
${row('read')}
${row('search')}
${row('write')}
| audit records appended/s during the writes | ${[1, 2, 4].map((n) => best(`audit ${n}`).opsPerSec.toFixed(0)).join(' | ')} |

- Replica lag (\`pg_stat_replication.replay_lag\`) under the write load through 4 processes: median
  ${median.toFixed(1)} ms, largest ${(lags.at(-1) ?? Number.NaN).toFixed(1)} ms (${lags.length} samples).
- Failover (the primary stopped with \`-m immediate\`, the replica promoted, PgBouncer re-pointed; 8 writers
  through HAProxy): no write acknowledged for ${(outage / 1000).toFixed(2)} s at most; the script itself took
  ${((failoverDone - failoverStarted) / 1000).toFixed(2)} s; ${acknowledged.length} writes acknowledged in the 20 s.
- The audit log after all of it (up to 4 processes appending through one sequencer lock, a failover in
  between): ${verified.size} records; \`carewall audit verify\` recomputes the tree from every record and checks
  every signed checkpoint against it: ${verified.ok ? 'passes' : 'FAILS'}, so every record is in the one tree.
`;
    process.stdout.write(section);
    writeSection(section);
  } finally {
    await run('bash', [CLUSTER, 'down'], { cwd: ROOT });
  }
}

await main();
