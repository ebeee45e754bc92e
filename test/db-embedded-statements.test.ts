/**
 * The embedded database's statements, prepared once and sent in one call (src/db/pgliteStatements.ts),
 * give what PGlite's own query() gives, stay right when a table changes under them, and wait for an
 * open transaction as query() does. Always on the embedded engine (what this file tests is its
 * driver), whatever DATABASE_URL says.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PGlite } from '@electric-sql/pglite';
import { parseByteaHex, serializeByteaHex } from '../src/db/database.js';
import { PgliteStatements, type PgliteEngine, type PlanTimer } from '../src/db/pgliteStatements.js';

const BYTEA = 17;
let db: PGlite;
let statements: PgliteStatements;
const q = (sql: string, params: unknown[] = []) => statements.query(sql, params, false);

before(async () => {
  db = await PGlite.create({ parsers: { [BYTEA]: parseByteaHex }, serializers: { [BYTEA]: serializeByteaHex } });
  statements = new PgliteStatements(db as unknown as PgliteEngine);
  await db.exec(`create table probe (id int primary key, body bytea, at timestamptz, doc jsonb, tags text[], n bigint, note text);`);
});
after(() => db.close());

test("rows and values are what PGlite's own query() gives: bytes, times, JSON, arrays, numbers, nulls", async () => {
  const at = new Date('2026-12-06T10:11:12.345Z');
  await q('insert into probe (id, body, at, doc, tags, n, note) values ($1, $2, $3, $4, $5, $6, $7)', [
    1,
    Buffer.from([0, 92, 39, 255]),
    at,
    { name: 'Parker', é: ['日本'] },
    ['a', 'b,c', 'd"e'],
    '9007199254740993',
    null,
  ]);
  const sql = 'select id, body, at, doc, tags, n, note from probe where id = $1';
  const mine = (await q(sql, [1])).rows;
  const theirs = (await db.query(sql, [1])).rows;
  assert.deepEqual(mine, theirs);
  assert.deepEqual(mine[0].body, Buffer.from([0, 92, 39, 255]));
  assert.equal((mine[0].at as Date).toISOString(), at.toISOString());
  assert.deepEqual(mine[0].tags, ['a', 'b,c', 'd"e']);
  assert.equal(mine[0].note, null);
});

test('counts: rows changed by an insert, update or delete, rows returned by a select', async () => {
  assert.equal((await q('insert into probe (id) select g from generate_series(100, 104) g')).rowCount, 5);
  assert.equal((await q('update probe set note = $1 where id >= $2', ['x', 100])).rowCount, 5);
  assert.equal((await q('select id from probe where id >= $1', [102])).rowCount, 3);
  assert.equal((await q('delete from probe where id >= $1', [103])).rowCount, 2);
});

test('a failed statement throws its code and changes nothing; the same statement and others work after it', async () => {
  const insert = 'insert into probe (id, note) values ($1, $2)';
  await q(insert, [200, 'first']);
  await assert.rejects(q(insert, [200, 'again']), (err: { code?: string }) => err.code === '23505');
  assert.deepEqual((await q('select note from probe where id = $1', [200])).rows, [{ note: 'first' }]);
  await q(insert, [201, 'next']);
  await assert.rejects(q('select no_such_column from probe'), (err: { code?: string }) => err.code === '42703');
  assert.equal((await q('select count(*)::int as n from probe where id in (200, 201)')).rows[0].n, 2);
});

test('a table that changed shape under a prepared statement: the statement is prepared again and sees the new shape', async () => {
  await db.exec('create table shaped (id int primary key, a text)');
  await q('insert into shaped values ($1, $2)', [1, 'one']);
  assert.deepEqual((await q('select * from shaped')).rows, [{ id: 1, a: 'one' }]);
  await db.exec("alter table shaped add column b text not null default 'new'");
  assert.deepEqual((await q('select * from shaped')).rows, [{ id: 1, a: 'one', b: 'new' }]);
});

test('more statement texts than the cache holds: each still runs, and the first again after the others', async () => {
  for (let i = 0; i < 450; i++) assert.equal((await q(`select $1::int + ${i} as v`, [1])).rows[0].v, i + 1);
  assert.equal((await q('select $1::int + 0 as v', [41])).rows[0].v, 41);
});

test('a statement outside a transaction waits for the open one, as query() does: it sees the whole transaction, committed', async () => {
  await db.exec('create table waits (id int primary key)');
  let outside: Promise<unknown> | undefined;
  await db.transaction(async () => {
    await statements.query('insert into waits values ($1)', [1], true);
    // The embedded engine has one session: a statement let in now would see this transaction half done.
    outside = q('select count(*)::int as n from waits');
    await statements.query('insert into waits values ($1)', [2], true);
  });
  assert.deepEqual(((await outside) as { rows: unknown[] }).rows, [{ n: 2 }]);
});

test('a statement inside a transaction that fails rolls the transaction back', async () => {
  await db.exec('create table rolled (id int primary key)');
  await assert.rejects(
    db.transaction(async () => {
      await statements.query('insert into rolled values ($1)', [1], true);
      await statements.query('insert into rolled values ($1)', [1], true);
    }),
    (err: { code?: string }) => err.code === '23505',
  );
  assert.equal((await q('select count(*)::int as n from rolled')).rows[0].n, 0);
});

describe("each statement is timed with PostgreSQL's own plan choice and with its generic plan, and keeps the faster", () => {
  /** A statement that says which plan mode it ran under (the mode is set around the execution). */
  const MODE = "select current_setting('plan_cache_mode') as mode, $1::int as n";
  /** A timer that reports each run as taking `ms(generic, run)` milliseconds, and counts the runs. */
  const timer = (ms: (generic: boolean, run: number) => number): PlanTimer => {
    let runs = 0;
    return async (run, generic) => ({ result: await run(), ms: ms(generic, runs++) });
  };
  const modes = async (s: PgliteStatements, n: number) => {
    const seen: string[] = [];
    for (let i = 0; i < n; i++) seen.push(String((await s.query(MODE, [i], false)).rows[0].mode));
    return seen;
  };
  const AUTO = 'auto';
  const GENERIC = 'force_generic_plan';

  test('a generic plan clearly faster (half the time) is kept after the trial: 5 runs unmeasured, 5 timed each way, then generic', async () => {
    const s = new PgliteStatements(
      db as unknown as PgliteEngine,
      timer((generic) => (generic ? 1 : 2)),
    );
    assert.deepEqual(await modes(s, 20), [...Array(10).fill(AUTO), ...Array(5).fill(GENERIC), ...Array(5).fill(GENERIC)]);
    // Around each execution only: the session's own setting is untouched for every other statement.
    assert.equal((await db.query<{ m: string }>("select current_setting('plan_cache_mode') as m")).rows[0].m, AUTO);
    // A statement that runs with its generic plan answers as PGlite's own query() does.
    const SELECT = 'select id, note from probe where id = any($1::int[]) order by id';
    for (let i = 0; i < 20; i++) await s.query(SELECT, [[1, 200]], false);
    assert.deepEqual((await s.query(SELECT, [[1, 200, 201]], false)).rows, (await db.query(SELECT, [[1, 200, 201]])).rows);
    assert.equal((await db.query(SELECT, [[1, 200, 201]])).rows.length, 3);
  });

  test('a generic plan no faster, or only a little (0.8 of the time), is not kept', async () => {
    for (const share of [1, 0.8]) {
      const s = new PgliteStatements(
        db as unknown as PgliteEngine,
        timer((generic) => (generic ? share * 10 : 10)),
      );
      assert.deepEqual(await modes(s, 20), [...Array(10).fill(AUTO), ...Array(5).fill(GENERIC), ...Array(5).fill(AUTO)], `share ${share}`);
    }
  });

  test('three generic runs far slower (three times) end the trial without its other runs', async () => {
    const s = new PgliteStatements(
      db as unknown as PgliteEngine,
      timer((generic) => (generic ? 30 : 10)),
    );
    assert.deepEqual(await modes(s, 16), [...Array(10).fill(AUTO), ...Array(3).fill(GENERIC), ...Array(3).fill(AUTO)]);
  });

  test('a slow run now and then (a pause that is not the plan) decides nothing: in the trial, or while the generic plan is kept', async () => {
    // Timings 0-4 as PostgreSQL chooses (2 ms), 5-9 generic (1 ms but two at 30), then kept generic runs, 1 ms but two in a row and one more at 30.
    const slow = new Set([6, 8, 12, 13, 16]);
    const s = new PgliteStatements(
      db as unknown as PgliteEngine,
      timer((generic, run) => (generic ? (slow.has(run) ? 30 : 1) : 2)),
    );
    assert.deepEqual(await modes(s, 30), [...Array(10).fill(AUTO), ...Array(20).fill(GENERIC)]);
  });

  test("three runs in a row with the kept generic plan far slower than PostgreSQL's own choice was: its own choice from the next run, and a new trial", async () => {
    // Generic runs take 1 ms until the timer's 16th timing (a table grew), 30 ms from then; PostgreSQL's own choice 2 ms.
    const s = new PgliteStatements(
      db as unknown as PgliteEngine,
      timer((generic, run) => (generic ? (run < 15 ? 1 : 30) : 2)),
    );
    assert.deepEqual(await modes(s, 36), [
      ...Array(10).fill(AUTO), // 5 unmeasured, 5 timed as PostgreSQL chooses
      ...Array(5).fill(GENERIC), // 5 timed generic: kept
      ...Array(8).fill(GENERIC), // kept, each timed; the sixth to eighth take 30 ms
      ...Array(5).fill(AUTO), // a new trial at once: as PostgreSQL chooses...
      ...Array(3).fill(GENERIC), // ...and its first three generic runs, far slower, end it
      ...Array(5).fill(AUTO),
    ]);
  });

  test('in a transaction that fails, the plan mode is undone with it; the next statements run as PostgreSQL chooses', async () => {
    const s = new PgliteStatements(
      db as unknown as PgliteEngine,
      timer((generic) => (generic ? 1 : 2)),
    );
    await modes(s, 15);
    await db.exec('create table planned (id int primary key)');
    await assert.rejects(
      db.transaction(async () => {
        await s.query(MODE, [1], true);
        await s.query('insert into planned values ($1)', [1], true);
        await s.query('insert into planned values ($1)', [1], true);
      }),
      (err: { code?: string }) => err.code === '23505',
    );
    assert.equal((await db.query<{ m: string }>("select current_setting('plan_cache_mode') as m")).rows[0].m, AUTO);
    assert.equal((await s.query(MODE, [2], false)).rows[0].mode, GENERIC);
  });
});
