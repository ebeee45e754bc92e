/**
 * The embedded database's statements: PGlite's own query() (six calls into the engine, parsed and
 * planned every time) against src/db/pgliteStatements.ts (prepared once, one call), on the same
 * data folder in the same run, rounds alternated. Three statements shaped like Carewall's: a read of
 * a sealed body by id, the same behind an access subquery, and an insert inside a transaction.
 * Writes its section of docs/benchmarks.md (PGLITE_BENCH_QUICK=1: fewer rounds, printed only).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { parseByteaHex, serializeByteaHex } from '../src/db/database.js';
import { PgliteStatements, type PgliteEngine } from '../src/db/pgliteStatements.js';
import { writeSection } from './report.js';

const QUICK = process.env.PGLITE_BENCH_QUICK === '1';
const ROUNDS = QUICK ? 2 : 5;
const N = QUICK ? 1000 : 3000;
const BYTEA = 17;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'carewall-pglite-bench-'));
const db = await PGlite.create(path.join(dir, 'pgdata'), { parsers: { [BYTEA]: parseByteaHex }, serializers: { [BYTEA]: serializeByteaHex } });
await db.exec(`
  create table resources (id text primary key, patient text not null, body bytea not null, version int not null, updated timestamptz not null default now());
  create index on resources (patient);
  create table links (practitioner text not null, patient text not null, primary key (practitioner, patient));
  insert into resources select 'r' || g, 'p' || (g % 500), decode(repeat('a1b2', 160), 'hex'), 1, now() from generate_series(1, 5000) g;
  insert into links select 'dr' || (g % 20), 'p' || g from generate_series(0, 499) g;
  create table events (id bigserial primary key, at timestamptz not null, leaf bytea not null);
`);
const statements = new PgliteStatements(db as unknown as PgliteEngine);
const binary = { serializers: { [BYTEA]: (v: unknown) => v } } as unknown as { serializers: Record<number, (v: unknown) => string> };

type Run = (i: number) => Promise<unknown>;
const read = 'select body, version, updated from resources where id = $1';
const gated = `select r.body, r.version from resources r where r.id = $1 and exists (select 1 from links l where l.practitioner = $2 and l.patient = r.patient)`;
const insert = 'insert into events (at, leaf) values ($1, $2) returning id';
const leaf = Buffer.alloc(300, 7);
const workloads: Array<{ name: string; old: Run; now: Run }> = [
  {
    name: 'read a sealed body by id',
    old: (i) => db.query(read, [`r${(i % 5000) + 1}`], binary),
    now: (i) => statements.query(read, [`r${(i % 5000) + 1}`], false),
  },
  {
    name: 'the same behind an access subquery',
    old: (i) => db.query(gated, [`r${(i % 5000) + 1}`, `dr${i % 20}`], binary),
    now: (i) => statements.query(gated, [`r${(i % 5000) + 1}`, `dr${i % 20}`], false),
  },
  {
    name: 'insert in a transaction (with its begin and commit)',
    old: (i) => db.transaction((tx) => tx.query(insert, [new Date(i), leaf], binary)),
    now: (i) => db.transaction(() => statements.query(insert, [new Date(i), leaf], true)),
  },
];

async function time(run: Run): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < N; i++) await run(i);
  return ((performance.now() - t0) / N) * 1000;
}

const rows: string[] = [];
for (const w of workloads) {
  await time(w.old); // warm both paths once
  await time(w.now);
  const old: number[] = [];
  const now: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    old.push(await time(w.old));
    now.push(await time(w.now));
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  rows.push(`| ${w.name} | ${med(old).toFixed(0)} | ${med(now).toFixed(0)} | ${(med(old) / med(now)).toFixed(1)}× |`);
  process.stderr.write(`${w.name}: query() ${old.map((x) => x.toFixed(0)).join(',')} us; prepared ${now.map((x) => x.toFixed(0)).join(',')} us\n`);
}
await db.close();
fs.rmSync(dir, { recursive: true, force: true });

const section = [
  "## The embedded database's statements: prepared once, one call each",
  '',
  `${os.cpus().length} cores (load average ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(
      ' / ',
    )}), Node ${process.version}, PGlite in a data folder on disk. Microseconds per statement, median of ${ROUNDS} alternated rounds of ${N}: PGlite's own \`query()\` (what src/db/database.ts used) against src/db/pgliteStatements.ts (\`npx tsx bench/pgliteStatements.ts\`).`,
  '',
  '| Statement | query() (us) | Prepared once, one call (us) | Faster |',
  '|---|---|---|---|',
  ...rows,
  '',
].join('\n');
if (QUICK) process.stdout.write(section);
else writeSection(section);
