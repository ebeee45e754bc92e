/**
 * `npm run bench:http` (and part of `npm run bench`): issue 31's table. Carewall on the embedded
 * database and on PostgreSQL, the plain baseline (httpPlain.ts: a row by id over Fastify and pg)
 * and, when MEDPLUM_URL and MEDPLUM_TOKEN are given, a Medplum server, each loaded with the same
 * clinic (httpData.ts: 1,000 patients, 5,000 observations, a physician related to every patient),
 * measured over HTTP by autocannon from this process while each server runs in its own. Per
 * workload and connection count the servers take turns, round after round (the first to go moves
 * along each round, and every other round goes in the opposite order), so that drift on a shared
 * machine falls on all of them alike. Before each turn the machine must be quiet again (quiet()):
 * a server goes on working a little after its load (its collector, the embedded database's
 * checkpoint, PostgreSQL's autovacuum after creates), and with a fixed order that fell on the same
 * next server every round (two copies of the same code measured 1.23 to 1 that way).
 *
 * autocannon rather than bench/measure.ts: measure.ts's fetch costs the client more CPU per
 * request than the plain baseline's server spends answering (on two cores it would measure the
 * client), and autocannon is what the issue's figures were taken with.
 *
 * Knobs: BENCH_SECONDS per round (default 5), BENCH_ROUNDS (default 3), BENCH_CONNECTIONS
 * (default 10,50), BENCH_PATIENTS (default 1000), BENCH_WORKLOADS (a comma-separated subset of
 * read,name,observations,create, or code: a search by code across patients, not in the default run), DATABASE_URL (the PostgreSQL server for Carewall and the baseline;
 * default postgres://postgres@127.0.0.1:5432/postgres), MEDPLUM_URL and MEDPLUM_TOKEN, and
 * BENCH_BEFORE (another work tree of Carewall with bench/httpCarewall.ts in it: its two servers are
 * measured beside these, for a before/after).
 */
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { writeSection } from './report.js';
import { PATIENTS, OBSERVATIONS_PER_PATIENT, type Loaded } from './httpData.js';
import { loadMedplum } from './httpMedplum.js';
import { syntheticPatient, randomPick, rng } from './synthetic.js';

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = (process.env.BENCH_CONNECTIONS ?? '10,50').split(',').map(Number);
export const POSTGRES = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const BEFORE = process.env.BENCH_BEFORE;

export interface Target extends Loaded {
  name: string;
  base: string;
  token: string;
  practitioner: string;
  readOnly?: boolean;
  stop: () => Promise<void>;
}

/** A server of its own process, ready once it prints its JSON line; nodeArgs go after tsx (so that they may --import TypeScript) and before the script: httpProfile.ts's --cpu-prof and statement counter. */
export async function spawnServer(name: string, script: string, env: NodeJS.ProcessEnv, readOnly = false, nodeArgs: string[] = []): Promise<Target> {
  const started = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', ...nodeArgs, script], {
    cwd: path.dirname(path.dirname(script)),
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  process.on('exit', () => child.kill('SIGKILL')); // a failed run leaves no server behind
  const line = await new Promise<string>((resolve, reject) => {
    readline.createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`${name} exited (${code}) before serving`)));
  });
  process.stderr.write(`${name}: ${PATIENTS} patients loaded in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
  const stop = () =>
    new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  return { name, readOnly, stop, ...(JSON.parse(line) as Omit<Target, 'name' | 'stop'>) };
}

/** The machine's CPU time so far, busy and in all, in clock ticks (/proc/stat's first line; steal is neither). */
function cpuTicks(): { busy: number; all: number } | undefined {
  try {
    const [user, nice, system, idle, iowait, irq, softirq] = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const busy = user + nice + system + irq + softirq;
    return { busy, all: busy + idle + iowait };
  } catch {
    return undefined; // not Linux: no wait
  }
}

/**
 * Waits until the machine is quiet: at most a tenth of its time busy over 200 ms, for at most 10 s
 * (a neighbour on a shared machine may never let it be).
 */
export async function quiet(): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const a = cpuTicks();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const b = cpuTicks();
    if (!a || !b || b.all === a.all || (b.busy - a.busy) / (b.all - a.all) <= 0.1) return;
  }
}

export interface Workload {
  key: string;
  name: string;
  request: (t: Target, random: () => number) => { method: 'GET' | 'POST'; path: string; body?: string };
}

let created = 0;
export const WORKLOADS: Workload[] = [
  { key: 'read', name: 'read Patient by id', request: (t, r) => ({ method: 'GET', path: `/Patient/${randomPick(r, t.patientIds)}` }) },
  // A clinician looking up one of their own patients by family name (all of them are the physician's).
  { key: 'name', name: 'search Patient by name', request: (t, r) => ({ method: 'GET', path: `/Patient?family=${randomPick(r, t.families)}` }) },
  {
    key: 'observations',
    name: 'search Observation by patient',
    request: (t, r) => ({ method: 'GET', path: `/Observation?patient=${randomPick(r, t.patientIds)}` }),
  },
  // Only when named in BENCH_WORKLOADS: a search across patients that finds many rows (a third of the observations).
  {
    key: 'code',
    name: 'search Observation by code',
    request: (_t, r) => ({ method: 'GET', path: `/Observation?code=http://loinc.org|${randomPick(r, ['8867-4', '29463-7', '8310-5'])}` }),
  },
  // Last: the new patients would change the searches' data.
  {
    key: 'create',
    name: 'create Patient',
    request: (t, r) => ({
      method: 'POST',
      path: '/Patient',
      body: JSON.stringify({ ...syntheticPatient(r, 1_000_000 + ++created), generalPractitioner: [{ reference: t.practitioner }] }),
    }),
  },
];
const chosen = process.env.BENCH_WORKLOADS?.split(',');
const workloads = WORKLOADS.filter((w) => (chosen ? chosen.includes(w.key) : w.key !== 'code'));

export interface Run {
  perSec: number;
  /** Requests answered in the measured window (after the warm-up). */
  requests: number;
  p99: number;
  failed: number;
}

/** One measurement: `warmup` seconds (0: none) and then `seconds` measured. */
export async function run(t: Target, w: Workload, connections: number, seed: number, seconds = SECONDS, warmup = 1): Promise<Run> {
  const base = new URL(t.base);
  const random = rng(seed);
  const headers = { authorization: `Bearer ${t.token}`, 'content-type': 'application/fhir+json', accept: 'application/fhir+json' };
  // warm-up is autocannon 9's (its types are still 7's).
  const options: autocannon.Options & { warmup?: { connections: number; duration: number } } = {
    url: base.origin,
    connections,
    duration: seconds,
    ...(warmup > 0 ? { warmup: { connections, duration: warmup } } : {}),
    requests: [
      {
        setupRequest: (req) => {
          const next = w.request(t, random);
          return { ...req, method: next.method, path: base.pathname + next.path, body: next.body, headers };
        },
      },
    ],
  };
  const result = await autocannon(options);
  return {
    perSec: result.requests.total / result.duration,
    requests: result.requests.total,
    p99: result.latency.p99,
    failed: result.non2xx + result.errors + result.timeouts,
  };
}

/** Reads every patient once, ten at a time. */
export async function warm(t: Target): Promise<void> {
  const queue = [...t.patientIds];
  const headers = { authorization: `Bearer ${t.token}`, accept: 'application/fhir+json' };
  await Promise.all(
    Array.from({ length: 10 }, async () => {
      for (let id = queue.pop(); id !== undefined; id = queue.pop()) {
        const res = await fetch(`${t.base}/Patient/${id}`, { headers });
        if (!res.ok) throw new Error(`${t.name}: warming up, ${res.status}`);
        await res.arrayBuffer();
      }
    }),
  );
}

async function main() {
  const started = new Date();
  const loadBefore = os.loadavg();
  const pgEnv = { ...process.env, DATABASE_URL: POSTGRES };
  const embeddedEnv = { ...process.env };
  delete embeddedEnv.DATABASE_URL;
  const carewall = path.join(ROOT, 'bench', 'httpCarewall.ts');
  // Loaded one after another: one heavy process at a time.
  const targets: Target[] = [];
  targets.push(await spawnServer('Carewall on PostgreSQL', carewall, pgEnv));
  targets.push(await spawnServer('Carewall embedded', carewall, embeddedEnv));
  if (BEFORE) {
    const script = path.join(BEFORE, 'bench', 'httpCarewall.ts');
    targets.push(await spawnServer('before, on PostgreSQL', script, pgEnv));
    targets.push(await spawnServer('before, embedded', script, embeddedEnv));
  }
  if (process.env.MEDPLUM_URL && process.env.MEDPLUM_TOKEN) {
    const m = await loadMedplum(process.env.MEDPLUM_URL, process.env.MEDPLUM_TOKEN);
    targets.push({ name: 'Medplum', stop: async () => {}, ...m });
  }
  if (workloads.some((w) => w.key === 'read')) targets.push(await spawnServer('plain row by id', path.join(ROOT, 'bench', 'httpPlain.ts'), pgEnv, true));

  // A clinic in its steady state: every patient looked at once (decision contexts and data keys cached), as a first round would leave it.
  for (const t of targets) await warm(t);
  const results = new Map<string, Run[]>();
  for (const w of workloads)
    for (const connections of CONNECTIONS) {
      const taking = targets.filter((t) => !t.readOnly || w.key === 'read');
      for (let round = 0; round < ROUNDS; round++) {
        const rotated = taking.map((_, k) => taking[(k + round) % taking.length]);
        const order = round % 2 === 0 ? rotated : rotated.reverse();
        for (const [k, t] of order.entries()) {
          await quiet();
          const r = await run(t, w, connections, 1000 * round + k);
          (
            results.get(`${t.name}|${w.key}|${connections}`) ?? results.set(`${t.name}|${w.key}|${connections}`, []).get(`${t.name}|${w.key}|${connections}`)!
          ).push(r);
          process.stderr.write(
            `round ${round + 1} ${w.name} at ${connections}: ${t.name} ${r.perSec.toFixed(0)}/s, p99 ${r.p99} ms${r.failed ? `, ${r.failed} failed` : ''}\n`,
          );
        }
      }
    }
  const loadAfter = os.loadavg();
  for (const t of targets) await t.stop();
  writeSection(report(targets, results, started, loadBefore, loadAfter));
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

function report(targets: Target[], results: Map<string, Run[]>, started: Date, loadBefore: number[], loadAfter: number[]): string {
  const cell = (t: Target, w: Workload, c: number) => {
    const rs = results.get(`${t.name}|${w.key}|${c}`);
    if (!rs) return '';
    const rates = rs.map((r) => r.perSec);
    const failed = rs.reduce((s, r) => s + r.failed, 0);
    return `**${fmt(median(rates))}** (${fmt(Math.min(...rates))}–${fmt(Math.max(...rates))}), p99 ${median(rs.map((r) => r.p99))} ms${failed ? `, ${failed} failed` : ''}`;
  };
  const rate = (name: string, w: Workload, c: number) => {
    const rs = results.get(`${name}|${w.key}|${c}`);
    return rs ? median(rs.map((r) => r.perSec)) : undefined;
  };
  const ratio = (a?: number, b?: number) => (a !== undefined && b !== undefined ? (a / b).toFixed(2) : '');
  const rows = workloads.flatMap((w) =>
    CONNECTIONS.map((c) => {
      const pg = rate('Carewall on PostgreSQL', w, c);
      const ratios = [ratio(rate('Carewall embedded', w, c), pg), ratio(pg, rate('plain row by id', w, c))];
      if (BEFORE) ratios.push(ratio(pg, rate('before, on PostgreSQL', w, c)), ratio(rate('Carewall embedded', w, c), rate('before, embedded', w, c)));
      return `| ${w.name} | ${c} | ${targets.map((t) => cell(t, w, c)).join(' | ')} | ${ratios.join(' | ')} |`;
    }),
  );
  const ratioHeads = ['embedded / PostgreSQL', 'PostgreSQL / plain (reads)', ...(BEFORE ? ['PostgreSQL after / before', 'embedded after / before'] : [])];
  const head = `| workload | connections | ${targets.map((t) => t.name).join(' | ')} | ${ratioHeads.join(' | ')} |\n|---|---:|${targets.map(() => '---:|').join('')}${ratioHeads.map(() => '---:|').join('')}`;
  const pgVersion = execFileSync('psql', [POSTGRES, '-Atc', 'show server_version'], { encoding: 'utf8' }).trim();
  const title = BEFORE ? `## HTTP: before and after (against ${describe(BEFORE)})` : '## HTTP: Carewall against its peers (issue 31)';
  return `${title}

Measured ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC by \`npm run bench:http\` (bench/http.ts) on ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown CPU'},
Node ${process.version}, PostgreSQL ${pgVersion} on 127.0.0.1; load average ${loadBefore[0].toFixed(1)} before the runs and ${loadAfter[0].toFixed(1)} after (the machine is shared).
Each server in its own process, loaded with the same ${fmt(PATIENTS)} patients and ${fmt(PATIENTS * OBSERVATIONS_PER_PATIENT)} observations, a physician related to
every patient (their general practitioner) making every request; autocannon 9 from the bench's own process over loopback,
every patient read once before the first round, ${ROUNDS} rounds of ${SECONDS} s (after 1 s of warm-up) per cell, the servers taking turns (every other round in the opposite order, each turn once the machine is quiet again); requests/s as the median round (the
rounds' range in brackets) and the median round's p99. Name searches are \`Patient?family=<a patient's family name>\`;
searches by patient \`Observation?patient=<id>\`; creates carry the physician as general practitioner. The plain baseline
(bench/httpPlain.ts) answers a stored row by id through Fastify and pg from the same PostgreSQL server: no login,
encryption, access rule or audit. ${targets.some((t) => t.name === 'Medplum') ? 'Medplum: the server at MEDPLUM_URL, loaded through its FHIR API.' : 'No Medplum column: no Medplum server here (it is not an npm package and this machine reaches nothing else); with MEDPLUM_URL (its FHIR base) and MEDPLUM_TOKEN set, the bench loads the same clinic into it through its FHIR API and measures it alongside.'}

${head}
${rows.join('\n')}
`;
}

/** The commit a work tree is at, for the title of a before/after. */
function describe(tree: string): string {
  return execFileSync('git', ['-C', tree, 'log', '-1', '--format=%h'], { encoding: 'utf8' }).trim();
}

// Only when run, not when httpProfile.ts imports the pieces above.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url))
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
