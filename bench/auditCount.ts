/**
 * `npm run bench`: how many audit records match (`GET /fhir/AuditEvent?_summary=count`, every
 * AuditEvent search's total) at BENCH_COUNT_RECORDS (default 1,000,000) records: a year of a
 * clinic's log (reads, searches, updates, sign-ins; some refused), appended through the log's batch
 * path, which keeps the counts by hour, action and outcome (src/audit/counts.ts). Each count is
 * measured from the counts and, as the baseline in the same run, by unpacking every matching
 * record's search columns (how the total was counted before). Target: under 100 ms at 1M records.
 *
 * DATABASE_URL for PostgreSQL (a schema of its own, dropped after), else an embedded database in a
 * scratch folder.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase } from '../src/db/database.js';
import { migrate } from '../src/db/migrations.js';
import { bindTo } from '../src/db/index.js';
import { auditMigrations } from '../src/audit/schema.js';
import { MerkleLog, type EntryColumns } from '../src/audit/log.js';
import { countMatching } from '../src/audit/counts.js';
import { searchFrom, type SearchFilter } from '../src/audit/searchColumns.js';
import { rng } from './synthetic.js';
import { writeSection } from './report.js';

const RECORDS = Number(process.env.BENCH_COUNT_RECORDS ?? 1_000_000);
const BATCH = 5000;
const RUNS = 30;
const BASELINE_RUNS = 3;
const YEAR_MS = 365 * 86_400_000;
const END = Date.parse('2026-12-01T00:00:00.000Z');
const START = END - YEAR_MS;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'carewall-bench-count-'));
const db = await openDatabase({ databaseUrl: process.env.DATABASE_URL, dataDir: dir, poolSize: 1 });
const kind = db.kind === 'postgres' ? 'postgres' : 'pglite';
const schema = `bench_count_${process.pid}`;
await db.exec(`create schema ${schema}; set search_path to ${schema}`);
try {
  await migrate(db, auditMigrations);
  const log = new MerkleLog(db);
  const random = rng(2026);
  // Actions as a clinic's log holds them: mostly chart reads, then searches, writes and sign-ins.
  const action = () => {
    const r = random();
    return r < 0.7 ? 'read' : r < 0.85 ? 'search' : r < 0.95 ? 'update' : 'login';
  };
  process.stderr.write(`[${kind}] appending ${RECORDS.toLocaleString('en')} records over a year\n`);
  const fill0 = performance.now();
  for (let k = 0; k < RECORDS; k += BATCH) {
    const columns: EntryColumns[] = [];
    for (let i = k; i < Math.min(RECORDS, k + BATCH); i++)
      columns.push({
        at: new Date(START + Math.floor((i / RECORDS) * YEAR_MS)).toISOString(),
        patient: `patient-${i % 10_000}`,
        account: `account-${i % 50}`,
        action: action(),
        outcome: random() < 0.02 ? 'denied' : 'success',
      });
    await log.appendBatch(
      columns.map((_, i) => Buffer.from(`record ${k + i}`)),
      columns,
    );
  }
  const fillSeconds = (performance.now() - fill0) / 1000;
  const hourRows = (await db.query<{ n: number }>('select count(*)::int as n from audit_count')).rows[0].n;

  const iso = (t: number) => new Date(t).toISOString();
  // Edges that cut hours (a privacy officer types dates and times; the counts' hours do not line up).
  const monthFrom = START + 120 * 86_400_000 + 1_234_567;
  const cases: Array<{ name: string; f: SearchFilter }> = [
    { name: 'the whole log', f: {} },
    { name: 'refused accesses in the whole year (outcome)', f: { outcome: 'denied' } },
    {
      name: 'chart reads in one month, edges inside hours (date and action)',
      f: { from: iso(monthFrom), to: iso(monthFrom + 30 * 86_400_000), actions: ['read'] },
    },
    { name: 'one day (date)', f: { from: iso(START + 200 * 86_400_000), to: iso(START + 201 * 86_400_000) } },
  ];
  const unpacked = async (f: SearchFilter) => {
    const params: unknown[] = [];
    return (await db.query<{ n: number }>(`select count(*)::int as n ${searchFrom(f, bindTo(params))}`, params)).rows[0].n;
  };
  const timed = async (runs: number, fn: () => Promise<number>) => {
    const ms: number[] = [];
    let value = 0;
    for (let i = 0; i < runs + 1; i++) {
      const t = performance.now();
      value = await fn();
      if (i > 0) ms.push(performance.now() - t); // the first run warms the cache
    }
    ms.sort((a, b) => a - b);
    return { value, p50: ms[Math.floor(ms.length / 2)], max: ms[ms.length - 1] };
  };
  const rows: string[] = [];
  let worst = 0;
  let worstMedian = 0;
  for (const c of cases) {
    const counted = await timed(RUNS, () => countMatching(db, c.f));
    const baseline = await timed(BASELINE_RUNS, () => unpacked(c.f));
    if (counted.value !== baseline.value) throw new Error(`${c.name}: the counts say ${counted.value}, the records ${baseline.value}`);
    worst = Math.max(worst, counted.max);
    worstMedian = Math.max(worstMedian, counted.p50);
    process.stderr.write(`  ${c.name}: ${counted.value} in ${counted.p50.toFixed(1)} ms (unpacking ${baseline.p50.toFixed(0)} ms)\n`);
    rows.push(
      `| ${c.name} | ${counted.value.toLocaleString('en')} | **${counted.p50.toFixed(1)}** / ${counted.max.toFixed(1)} | ${baseline.p50.toFixed(0)} | ${(baseline.p50 / counted.p50).toFixed(0)}× |`,
    );
  }
  const version = (await db.query<{ v: string }>("select current_setting('server_version') as v")).rows[0].v;
  writeSection(`## Audit log: counting matches (${kind})

Measured ${new Date().toISOString().slice(0, 10)} by \`npm run bench\` (bench/auditCount.ts) on ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown CPU'},
load average ${os.loadavg()[0].toFixed(1)} (the machine is shared), Node ${process.version}, ${kind === 'pglite' ? 'embedded PGlite' : 'PostgreSQL server on 127.0.0.1'} (PostgreSQL ${version}).
${RECORDS.toLocaleString('en')} records spread over a year (reads, searches, updates, sign-ins; 2% refused), appended through the log's
batch path in ${fillSeconds.toFixed(0)} s, which keeps ${hourRows.toLocaleString('en')} rows of counts by hour, action and outcome. Each count ${RUNS} times from
the counts (what \`_summary=count\` and every AuditEvent search's total use), and ${BASELINE_RUNS} times by unpacking every matching
record's search columns (how totals were counted before), in the same run; both give the same number.

| count | records | from the counts: p50 / max ms | unpacking: p50 ms | faster |
|---|---:|---:|---:|---:|
${rows.join('\n')}

Target: under 100 ms at 1M records: ${worstMedian < 100 ? 'met' : 'not met'} by every count's median (the slowest ${worstMedian.toFixed(1)} ms); the slowest single count of all took ${worst.toFixed(1)} ms on
this shared machine. Counts by patient or user are not
in the table: they unpack the rows their index finds, as their searches do (the searches in the audit log's own section).
`);
} finally {
  await db.exec(`drop schema ${schema} cascade`).catch(() => undefined);
  await db.close();
  fs.rmSync(dir, { recursive: true, force: true });
}
