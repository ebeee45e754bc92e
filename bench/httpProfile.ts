/**
 * `npm run bench:profile` (and part of `npm run bench`): issue 31's profiles. Where the server's CPU
 * goes for each of bench/http.ts's workloads (a read by id, a name search, a search of observations
 * by patient, a create), on PostgreSQL and on the embedded database: the bench server
 * (httpCarewall.ts, the same clinic as bench/http.ts) runs under `node --cpu-prof`, autocannon
 * loads it with BENCH_CONNECTIONS (default 10) connections for BENCH_SECONDS (default 10) per workload, and the main thread's
 * samples within each workload's window are attributed to categories (rules at `frameCategory`).
 *
 * One server per database, its profile cut into windows, rather than a server per workload or an
 * inspector session: V8 stamps samples with the monotonic clock (CLOCK_MONOTONIC, in µs), which is
 * the clock of process.hrtime in every process on the machine, so this process's hrtime at the
 * start and end of each load is the window in the server's profile (checked: the windows must lie
 * inside the profile). That loads the clinic twice instead of eight times (each load takes 20-40 s
 * of both cores of a shared machine), needs no change to the server, and keeps --cpu-prof's
 * profiles of worker threads, which an inspector session on the main thread would not see.
 *
 * BENCH_SECONDS (default 10), BENCH_PATIENTS (default 1000), DATABASE_URL (as in http.ts),
 * BENCH_PROFILE_KEEP (a folder to keep the .cpuprofile files in).
 *
 * Statements per request, on PostgreSQL only: counted in the server by countStatements.ts
 * (preloaded; each pg Client.query is one round trip). pg_stat_statements would need the extension
 * installed and counts every client of a shared server; PGlite's queries are not counted (its
 * transactions run queries through closures no preload reaches without a change to src/db).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PATIENTS } from './httpData.js';
import { POSTGRES, WORKLOADS, run, spawnServer, warm, type Run } from './http.js';
import { writeSection } from './report.js';

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
/** A folder to keep the profiles in, for a closer look; by default they are deleted. */
const KEEP = process.env.BENCH_PROFILE_KEEP;
const workloads = WORKLOADS.filter((w) => w.key !== 'code'); // creates last, as in http.ts

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const IDLE = 'idle (waiting for I/O)';
const C = {
  session: 'session check (src/identity)',
  access: 'access decision (src/access)',
  validation: 'records: validation (incl. @medplum/core)',
  search: 'records: search and blind indexes (incl. their HMACs)',
  records: 'records: other (store, service, bundles)',
  keys: 'encryption: bodies and data keys (src/keys)',
  audit: 'audit record and append (src/audit)',
  db: 'database client (src/db, pg: protocol, socket writes)',
  pglite: 'embedded database (PGlite, wasm)',
  json: 'JSON parse/serialise (strictJson, fast-json-stringify)',
  http: 'HTTP (fastify, node:http, routes)',
  log: 'logging (pino)',
  carewall: 'other Carewall code',
  library: 'other libraries',
  node: 'Node internals alone (promise jobs, async hooks, socket reads)',
  program: 'V8 and native code outside JS ((program))',
  gc: 'garbage collection',
};
const CATEGORIES = Object.values(C);

/** Carewall's own files (relative to src/), first match wins. */
const SOURCES: [RegExp, string][] = [
  [/^identity\/|^api\/session\.ts/, C.session],
  [/^access\//, C.access],
  [/^records\/(validate|strictValidation|requiredCodes|requestChecks|narrative)\.ts/, C.validation],
  [/^records\/(search\w*|include|identify)\.ts|^keys\/blindIndex\.ts/, C.search],
  [/^records\//, C.records],
  [/^keys\//, C.keys],
  [/^audit\//, C.audit],
  [/^db\//, C.db],
  [/^util\/strictJson\.ts/, C.json],
  [/^(http|api)\//, C.http],
  [/^log\.ts/, C.log],
];
/** Packages by name; pg*, postgres-* and @fastify/* by prefix below. */
const PACKAGES: Record<string, string> = {
  '@medplum/core': C.validation,
  '@electric-sql/pglite': C.pglite,
  'fast-json-stringify': C.json,
  'secure-json-parse': C.json,
  fastify: C.http,
  'find-my-way': C.http,
  avvio: C.http,
  ajv: C.http, // fastify's schema checks of requests
  'light-my-request': C.http,
  pino: C.log,
  'sonic-boom': C.log,
  'pino-std-serializers': C.log,
};

/**
 * The category of one frame, or undefined for a frame that is charged to its caller. The rules:
 *  - V8's pseudo-frames: (idle), (garbage collector), (program) are their own categories.
 *  - Native frames (no URL: writev, writeBuffer, utf8Write ...) and Node's own modules (node:net,
 *    node:internal/crypto, streams, buffers) are charged to the innermost Carewall or library frame
 *    under them: writev under pg's query submission is the database client's, an HMAC under
 *    src/keys/blindIndex.ts is the blind indexes', a hash under src/identity the session check's.
 *    Except node:http and node:_http_*, which are HTTP whoever called them, and V8's JSON builtins
 *    when they show as frames (mostly they do not: JSON.parse and JSON.stringify run inside their
 *    caller's frame and count as the caller's, so the JSON category is a lower bound).
 *  - A Carewall file by its folder (SOURCES), a package by its name (PACKAGES).
 *  - A stack with only native and Node frames (promise jobs, socket reads, timers) is Node's.
 */
function frameCategory({ functionName: name, url }: CallFrame): string | undefined {
  if (url === '') {
    if (name === '(idle)') return IDLE;
    if (name === '(garbage collector)') return C.gc;
    if (name === '(program)') return C.program;
    if (name === 'parse' || name === 'stringify') return C.json;
    return undefined;
  }
  if (url.startsWith('wasm://')) return C.pglite;
  if (url.startsWith('node:')) return /^node:_?http/.test(url) ? C.http : undefined;
  const pkg = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1];
  if (pkg) return PACKAGES[pkg] ?? (/^(pg|postgres-)/.test(pkg) ? C.db : pkg.startsWith('@fastify/') ? C.http : C.library);
  const src = /\/src\/(.+)$/.exec(url)?.[1];
  if (src) return SOURCES.find(([re]) => re.test(src))?.[1] ?? C.carewall;
  return C.library;
}

/**
 * A function's short name for the top-10 lists: name and file (under src/ or its package), with the
 * line for JavaScript (a .ts file's line is tsx's output's, not the source's). PGlite's wasm
 * functions are one entry: their names are numbers.
 */
function label({ functionName, url, lineNumber }: CallFrame): string {
  const name = functionName || '(anonymous)';
  if (url === '') return name.startsWith('(') ? name : `${name} (native)`;
  if (url.startsWith('wasm://')) return 'PGlite wasm (all its functions)';
  const file = url
    .replace(/^.*\/node_modules\//, '')
    .replace(/^.*\/src\//, '')
    .replace(/^file:\/\/.*\//, '');
  return file.endsWith('.ts') ? `${name} ${file}` : `${name} ${file}:${lineNumber + 1}`;
}

interface Window {
  /** µs sampled in the window, idle included. */
  total: number;
  idle: number;
  byCategory: Map<string, number>;
  /** µs with a node:internal/crypto frame on the stack (HMACs, hashes, ciphers), whoever called. */
  crypto: number;
  /** µs in the socket write syscalls themselves (writev, writeBuffer), whoever wrote. */
  socketWrites: number;
  self: Map<string, number>;
}

/** The samples of `profile` taken between `from` and `to` (µs, monotonic), attributed; `main`: the window must lie inside the profile. */
function analyse(profile: CpuProfile, from: number, to: number, main = true): Window {
  if (main && (from < profile.startTime || to > profile.endTime)) throw new Error('a load window lies outside the server profile: the clocks differ');
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const memo = new Map<number, { category: string; crypto: boolean }>();
  const attribute = (id: number) => {
    let known = memo.get(id);
    if (known) return known;
    let category: string | undefined;
    let crypto = false;
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)!.callFrame;
      crypto ||= frame.url.startsWith('node:internal/crypto');
      category ??= frameCategory(frame);
    }
    known = { category: category ?? C.node, crypto };
    memo.set(id, known);
    return known;
  };
  const w: Window = { total: 0, idle: 0, byCategory: new Map(), crypto: 0, socketWrites: 0, self: new Map() };
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i];
    if (t < from || t >= to) continue;
    // A sample stands for the time until the next one (as Chrome's DevTools count it).
    const dt = profile.timeDeltas[i + 1] ?? 0;
    const id = profile.samples[i];
    const { category, crypto } = attribute(id);
    w.total += dt;
    if (category === IDLE) {
      w.idle += dt;
      continue;
    }
    w.byCategory.set(category, (w.byCategory.get(category) ?? 0) + dt);
    const frame = byId.get(id)!.callFrame;
    if (crypto) w.crypto += dt;
    if (frame.url === '' && (frame.functionName === 'writev' || frame.functionName === 'writeBuffer')) w.socketWrites += dt;
    const name = label(frame);
    w.self.set(name, (w.self.get(name) ?? 0) + dt);
  }
  return w;
}

/** µs the worker threads' profiles (every file but the main thread's) were busy in the window. */
function workersBusy(workers: CpuProfile[], from: number, to: number): number {
  let busy = 0;
  for (const p of workers) {
    const w = analyse(p, from, to, false); // a worker may have started or ended within the window
    busy += w.total - w.idle;
  }
  return busy;
}

interface Measured {
  database: string;
  workload: string;
  key: string;
  /** Statements sent to PostgreSQL in the window (undefined on the embedded database). */
  statements?: number;
  run: Run;
  main: Window;
  workers: number;
}

/** Per server, its worker threads' profiles, for the report. */
const threads: string[] = [];
const nowUs = () => Number(process.hrtime.bigint() / 1000n);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The server's statement count so far: signals it (countStatements.ts) and waits for its next report. */
async function statementsSent(file: string): Promise<number> {
  const read = () => JSON.parse(fs.readFileSync(file, 'utf8')) as { pid: number; statements: number; reports: number };
  const before = read();
  process.kill(before.pid, 'SIGUSR2');
  for (let waited = 0; waited < 5000; waited += 10) {
    await sleep(10);
    try {
      const now = read();
      if (now.reports > before.reports) return now.statements;
    } catch {
      // caught between the server's truncating and writing the file: read again
    }
  }
  throw new Error('the server did not report its statement count');
}

async function profileOn(database: string, env: NodeJS.ProcessEnv): Promise<Measured[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'carewall-profile-'));
  const counts = env.DATABASE_URL ? path.join(dir, 'statements.json') : undefined;
  const args = ['--cpu-prof', `--cpu-prof-dir=${dir}`, ...(counts ? ['--import', path.join(ROOT, 'bench', 'countStatements.ts')] : [])];
  const t = await spawnServer(`Carewall ${database}`, path.join(ROOT, 'bench', 'httpCarewall.ts'), { ...env, STATEMENT_COUNT_FILE: counts }, false, args);
  await warm(t);
  const windows: { workload: string; key: string; run: Run; from: number; to: number; statements?: number }[] = [];
  for (const [k, w] of workloads.entries()) {
    await run(t, w, CONNECTIONS, 2000 + k, 1, 0); // warm-up, outside the window
    const before = counts ? await statementsSent(counts) : 0;
    const from = nowUs();
    const r = await run(t, w, CONNECTIONS, 3000 + k, SECONDS, 0);
    const to = nowUs();
    const statements = counts ? (await statementsSent(counts)) - before : undefined;
    windows.push({ workload: w.name, key: w.key, run: r, from, to, statements });
    process.stderr.write(`${database}, ${w.name}: ${r.perSec.toFixed(0)}/s${r.failed ? `, ${r.failed} failed` : ''}\n`);
  }
  await t.stop(); // node writes the profiles as the server exits
  // CPU.<date>.<time>.<pid>.<thread id>.<seq>.cpuprofile; thread 0 is the main thread.
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  const read = (f: string) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as CpuProfile;
  const mainFile = files.find((f) => f.split('.')[4] === '0');
  if (!mainFile) throw new Error(`no main-thread profile in ${dir}`);
  const main = read(mainFile);
  const workers = files.filter((f) => f !== mainFile).map(read);
  // Node 20 runs module.register() hooks (tsx's) on a thread of their own: a worker, but not Carewall's.
  const loaders = workers.filter((p) => p.nodes.some((n) => n.callFrame.url === 'node:internal/modules/esm/worker')).length;
  threads.push(
    `${database}: ${workers.length}${loaders ? ` (${loaders === workers.length ? 'only' : `${loaders} of them`} Node's module-loader thread, for tsx)` : ''}`,
  );
  if (KEEP) {
    const kept = path.join(KEEP, database.replace(/\W+/g, '-').replace(/^-/, ''));
    fs.mkdirSync(path.dirname(kept), { recursive: true });
    fs.cpSync(dir, kept, { recursive: true });
    process.stderr.write(`profiles kept in ${kept} (Chrome DevTools' Performance panel opens them)\n`);
  }
  fs.rmSync(dir, { recursive: true });
  return windows.map(({ workload, key, run: r, from, to, statements }) => ({
    database,
    workload,
    key,
    statements,
    run: r,
    main: analyse(main, from, to),
    workers: workersBusy(workers, from, to),
  }));
}

async function main() {
  const started = new Date();
  const loadBefore = os.loadavg();
  const embeddedEnv = { ...process.env };
  delete embeddedEnv.DATABASE_URL;
  // One server at a time: each gets both cores.
  const measured = [...(await profileOn('on PostgreSQL', { ...process.env, DATABASE_URL: POSTGRES })), ...(await profileOn('embedded', embeddedEnv))];
  writeSection(report(measured, started, loadBefore, os.loadavg()));
}

const pct = (part: number, whole: number) => (whole > 0 ? `${((100 * part) / whole).toFixed(1)}` : '');
const ms = (us: number, requests: number) => (us / 1000 / requests).toFixed(2);

function report(measured: Measured[], started: Date, loadBefore: number[], loadAfter: number[]): string {
  const column = (m: Measured) => `${m.key}, ${m.database === 'embedded' ? 'embedded' : 'PG'}`;
  const summary = measured.map((m) => {
    const busy = m.main.total - m.main.idle;
    const statements = m.statements === undefined ? '' : (m.statements / m.run.requests).toFixed(1);
    return `| ${m.workload}, ${m.database === 'embedded' ? 'embedded' : 'PostgreSQL'} | ${Math.round(m.run.perSec)}${m.run.failed ? ` (${m.run.failed} failed)` : ''} | ${ms(busy, m.run.requests)} | ${pct(m.main.idle, m.main.total)} % | ${ms(m.workers, m.run.requests)} | ${statements} |`;
  });
  const busyOf = (m: Measured) => m.main.total - m.main.idle;
  const used = CATEGORIES.filter((c) => measured.some((m) => (m.main.byCategory.get(c) ?? 0) > 0));
  const shares = [
    ...used.map((c) => `| ${c} | ${measured.map((m) => pct(m.main.byCategory.get(c) ?? 0, busyOf(m))).join(' | ')} |`),
    `| *of which in node:crypto calls (any caller)* | ${measured.map((m) => pct(m.main.crypto, busyOf(m))).join(' | ')} |`,
    `| *of which in socket write syscalls (writev, writeBuffer)* | ${measured.map((m) => pct(m.main.socketWrites, busyOf(m))).join(' | ')} |`,
  ];
  const top = measured.map((m) => {
    const fns = [...m.main.self].sort((a, b) => b[1] - a[1]).slice(0, 10);
    return `- ${column(m)}: ${fns.map(([name, us]) => `\`${name}\` ${pct(us, busyOf(m))}`).join(', ')}`;
  });
  const pgVersion = execFileSync('psql', [POSTGRES, '-Atc', 'show server_version'], { encoding: 'utf8' }).trim();
  return `## HTTP: where the server's CPU goes, per workload (issue 31)${CONNECTIONS === 10 ? '' : `, at ${CONNECTIONS} connections`}

Measured ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC by \`npm run bench:profile\` (bench/httpProfile.ts) on ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown CPU'},
Node ${process.version}, PostgreSQL ${pgVersion} on 127.0.0.1; load average ${loadBefore[0].toFixed(1)} before and ${loadAfter[0].toFixed(1)} after (the machine is shared).
The bench server of bench/http.ts (${PATIENTS.toLocaleString('en-US')} patients, every one read once first) under \`node --cpu-prof\` (1 ms samples),
one process per database; autocannon with ${CONNECTIONS} connections, 1 s of warm-up and then ${SECONDS} s per workload, each workload's
window cut from the profile by the monotonic clock. CPU per request is the main thread's non-idle time in the window over the
requests answered; worker threads (their own profiles: ${threads.join('; ')}) separately. The shares are of the main thread's non-idle time, each sample
charged by walking its stack from the leaf: native and Node frames to the innermost Carewall or library frame that called them
(a socket write under pg to the database client, an HMAC under the blind index code to the blind indexes), Carewall frames by folder,
packages by name (the rules are in bench/httpProfile.ts). JSON.parse and JSON.stringify mostly run inside their callers' frames, so
the JSON row is a lower bound. Statements per request: pg's Client.query calls in the server (bench/countStatements.ts), one
round trip each; not counted on the embedded database.

| workload, database | requests/s | main thread CPU ms/request | main thread idle | worker threads CPU ms/request | statements/request |
|---|---:|---:|---:|---:|---:|
${summary.join('\n')}

Share of the main thread's non-idle time, % (read: by id; name: \`Patient?family=\`; observations: \`Observation?patient=\`; PG: PostgreSQL):

| category | ${measured.map(column).join(' | ')} |
|---|${measured.map(() => '---:|').join('')}
${shares.join('\n')}

Top 10 functions by self time (% of the main thread's non-idle time):

${top.join('\n')}
`;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
