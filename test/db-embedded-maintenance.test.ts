/**
 * The embedded database is vacuumed and analysed by the server, as PostgreSQL's autovacuum keeps a
 * server's tables (src/db/embeddedMaintenance.ts): PGlite runs no autovacuum, and without it a
 * table whose rows are deleted or updated only grows on disk.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, mock, test } from 'node:test';
import { openDatabase, type Database } from '../src/db/database.js';
import {
  EMBEDDED_MAINTENANCE_EVERY_MS,
  EMBEDDED_MAINTENANCE_LONGEST_WAIT_MS,
  EMBEDDED_MAINTENANCE_LOOK_MS,
  EMBEDDED_QUIET_MS,
  maintainEmbedded,
  maintenanceDue,
  type Maintained,
} from '../src/db/embeddedMaintenance.js';

const dirs: string[] = [];
const scratch = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'carewall-maintenance-'));
  dirs.push(dir);
  return dir;
};
let db: Database;

before(async () => {
  db = await openDatabase({ dataDir: scratch() });
});
after(async () => {
  await db.close();
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

/** One round of a queue: eight rows in, the oldest eight out (what the audit log's pending rows do). */
async function churn(table: string, rounds: number): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    await db.query(`insert into ${table} (leaf) select decode(repeat('ab', 200), 'hex') from generate_series(1, 8)`);
    await db.query(`delete from ${table} where id in (select id from ${table} order by id limit 8)`);
  }
}
const size = async (table: string) => (await db.query<{ n: number }>(`select pg_relation_size($1)::float8 as n`, [table])).rows[0].n;
/** A table's dead rows and how often it was vacuumed and analysed, in `on` (the shared database by default). */
const stats = async (table: string, on: Database = db) =>
  (
    await on.query<{ dead: number; vacuums: number; analyses: number }>(
      `select n_dead_tup::int as dead, vacuum_count::int as vacuums, analyze_count::int as analyses from pg_stat_user_tables where relname = $1`,
      [table],
    )
  ).rows[0];

test("autovacuum's default thresholds: dead rows past 50 + 20 %, inserts past 1,000 + 20 %, changes past 50 + 10 % for analysis", () => {
  const t = (rows: number, dead: number, insertedSinceVacuum: number, changedSinceAnalyze: number) =>
    maintenanceDue({ table: 't', rows, dead, insertedSinceVacuum, changedSinceAnalyze });
  assert.deepEqual(t(0, 50, 0, 0), { vacuum: false, analyse: false });
  assert.deepEqual(t(0, 51, 0, 0), { vacuum: true, analyse: false });
  assert.deepEqual(t(1000, 250, 0, 0), { vacuum: false, analyse: false });
  assert.deepEqual(t(1000, 251, 0, 0), { vacuum: true, analyse: false });
  assert.deepEqual(t(1000, 0, 1201, 0), { vacuum: true, analyse: false });
  assert.deepEqual(t(1000, 0, 1200, 150), { vacuum: false, analyse: false });
  assert.deepEqual(t(1000, 0, 0, 151), { vacuum: false, analyse: true });
});

test('a queue table whose rows come and go stays small when maintained; unmaintained it grows with every row it ever held', async () => {
  await db.exec(
    'create table kept_queue (id bigserial primary key, leaf bytea not null); create table grown_queue (id bigserial primary key, leaf bytea not null)',
  );
  // The unmaintained one first, all at once: 24,000 rows through a queue of 8.
  await churn('grown_queue', 3000);
  const grown = await size('grown_queue');
  let keptAtMost = 0;
  for (let round = 0; round < 6; round++) {
    await churn('kept_queue', 500);
    keptAtMost = Math.max(keptAtMost, await size('kept_queue'));
    const done = await maintainEmbedded(db);
    assert.ok(done.vacuumed.includes('public.kept_queue'), `round ${round}: vacuumed ${done.vacuumed.join(', ')}`);
  }
  // The maintained queue ended its last round vacuumed: nothing dead left in it.
  assert.equal((await stats('kept_queue')).dead, 0);
  // The same 24,000 rows, vacuumed every 4,000: the space is used again, and the file is at most a
  // third of the unmaintained one's (about a sixth, less what a vacuum leaves in place).
  assert.ok(grown > 0 && keptAtMost < grown / 3, `maintained at most ${keptAtMost} bytes, unmaintained ${grown}`);
});

test('tables that need nothing are left alone: a second pass straight after the first does nothing', async () => {
  await maintainEmbedded(db);
  assert.deepEqual(await maintainEmbedded(db), { vacuumed: [], analysed: [], complete: true });
});

test('a pass stops before the next table when told to (a request came), and the next pass finds what is left', async () => {
  await db.exec('create table first_churned (id int); create table second_churned (id int)');
  for (const table of ['first_churned', 'second_churned']) {
    await db.query(`insert into ${table} select g from generate_series(1, 300) g`);
    await db.query(`delete from ${table}`);
  }
  let asked = 0;
  const stopped = await maintainEmbedded(db, () => ++asked === 1);
  assert.equal(stopped.complete, false);
  assert.deepEqual(stopped.vacuumed, ['public.first_churned']);
  assert.equal((await stats('second_churned')).vacuums, 0);
  const rest = await maintainEmbedded(db);
  assert.ok(rest.complete);
  assert.ok(rest.vacuumed.includes('public.second_churned') && !rest.vacuumed.includes('public.first_churned'), rest.vacuumed.join(', '));
});

/** What the housekeeper of a test's own database reported, and promises of what it reports next. */
interface Reports {
  passes: Maintained[];
  failures: unknown[];
  nextPass: () => Promise<Maintained>;
  nextFailure: () => Promise<unknown>;
}

/**
 * An embedded database of its own with the housekeeper's clock mocked (setInterval and Date), its
 * passes' ends and failures collected. Requests are the test's own statements: each marks the
 * engine busy.
 */
async function housekept(run: (own: Database, reports: Reports) => Promise<void>): Promise<void> {
  mock.timers.enable({ apis: ['setInterval', 'Date'] });
  const passes: Maintained[] = [];
  const failures: unknown[] = [];
  let passWaiter: ((m: Maintained) => void) | undefined;
  let failureWaiter: ((err: unknown) => void) | undefined;
  let own: Database | undefined;
  try {
    own = await openDatabase({
      dataDir: scratch(),
      onMaintained: (m) => {
        passes.push(m);
        passWaiter?.(m);
      },
      onMaintenanceFailed: (err) => {
        failures.push(err);
        failureWaiter?.(err);
      },
    });
    await run(own, {
      passes,
      failures,
      nextPass: () => new Promise<Maintained>((resolve) => (passWaiter = resolve)),
      nextFailure: () => new Promise<unknown>((resolve) => (failureWaiter = resolve)),
    });
  } finally {
    mock.timers.reset();
    await own?.close();
  }
}

/** A table `churned` whose 500 rows were all deleted: due for a vacuum. */
async function churnedTable(own: Database): Promise<void> {
  await own.exec('create table churned (id bigserial primary key, leaf bytea not null)');
  await own.query("insert into churned (leaf) select decode('ab', 'hex') from generate_series(1, 500)");
  await own.query('delete from churned');
}

/** A request every look of the housekeeper, just before it looks: the engine is never quiet then. */
async function busyFor(own: Database, ms: number): Promise<void> {
  for (let t = 0; t < ms; t += EMBEDDED_MAINTENANCE_LOOK_MS) {
    mock.timers.tick(EMBEDDED_MAINTENANCE_LOOK_MS - EMBEDDED_QUIET_MS / 2);
    await own.query('select 1');
    mock.timers.tick(EMBEDDED_QUIET_MS / 2);
  }
}

test('a due pass waits while requests keep the engine busy, and runs in the first quiet moment', { timeout: 60_000 }, async () => {
  await housekept(async (own, { passes, nextPass }) => {
    await churnedTable(own);
    // Twice as long as a pass takes to come due, busy all along: no pass.
    await busyFor(own, 2 * EMBEDDED_MAINTENANCE_EVERY_MS);
    assert.equal(passes.length, 0);
    assert.equal((await stats('churned', own)).vacuums, 0);
    // Quiet: the next look starts the pass.
    const pass = nextPass();
    mock.timers.tick(EMBEDDED_MAINTENANCE_LOOK_MS + EMBEDDED_QUIET_MS);
    assert.ok((await pass).vacuumed.includes('public.churned'));
    assert.equal((await stats('churned', own)).vacuums, 1);
  });
});

test('under load that never pauses, a due pass runs anyway once it has waited the longest wait', { timeout: 60_000 }, async () => {
  await housekept(async (own, { passes, nextPass }) => {
    await churnedTable(own);
    await busyFor(own, EMBEDDED_MAINTENANCE_EVERY_MS + EMBEDDED_MAINTENANCE_LONGEST_WAIT_MS - 2 * EMBEDDED_MAINTENANCE_LOOK_MS);
    assert.equal(passes.length, 0);
    const pass = nextPass();
    await busyFor(own, 2 * EMBEDDED_MAINTENANCE_LOOK_MS);
    assert.ok((await pass).vacuumed.includes('public.churned'));
  });
});

test('the open embedded database maintains itself a minute after opening, without anyone asking', { timeout: 60_000 }, async () => {
  await housekept(async (own, { passes, nextPass }) => {
    await churnedTable(own);
    assert.equal((await stats('churned', own)).vacuums, 0);
    mock.timers.tick(EMBEDDED_MAINTENANCE_EVERY_MS - EMBEDDED_MAINTENANCE_LOOK_MS);
    assert.equal(passes.length, 0);
    const pass = nextPass();
    mock.timers.tick(EMBEDDED_MAINTENANCE_LOOK_MS);
    assert.ok((await pass).vacuumed.includes('public.churned'));
    assert.equal((await stats('churned', own)).vacuums, 1);
  });
});

test('a pass that fails is reported with its SQLSTATE, and the next pass a minute later runs again', { timeout: 60_000 }, async () => {
  await housekept(async (own, { failures, nextPass, nextFailure }) => {
    // ANALYZE computes an expression index's expression on sampled rows: this one raises while the switch is on.
    await own.exec(`
      create table fail_switch (on_ boolean);
      create function refuse_when_switched(v int) returns int immutable language plpgsql as
        'begin if exists (select 1 from public.fail_switch) then raise exception ''switched'' using errcode = ''P0001''; end if; return v; end';
      create table probed (v int);
      create index probed_refused on probed (refuse_when_switched(v));
      insert into probed select g from generate_series(1, 200) g;
      insert into fail_switch values (true);`);
    const failure = nextFailure();
    mock.timers.tick(EMBEDDED_MAINTENANCE_EVERY_MS);
    await failure;
    assert.equal(failures.length, 1);
    assert.equal((failures[0] as { code?: string }).code, 'P0001');
    // The switch off: the next pass, a minute later, analyses the table.
    await own.exec('delete from fail_switch');
    const pass = nextPass();
    mock.timers.tick(EMBEDDED_MAINTENANCE_EVERY_MS);
    assert.ok((await pass).analysed.includes('public.probed'));
    assert.equal((await stats('probed', own)).analyses, 1);
    assert.equal(failures.length, 1);
  });
});
