/**
 * Database.readThenWrite: one transaction that reads, computes and writes, its statements sent in
 * two round trips on PostgreSQL (the BEGIN with the reads, the write with the COMMIT), one after
 * another on the embedded database. The audit log's append batches run through it: it must commit
 * all or nothing and leave the connection fit for the next caller whatever failed.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type Database } from '../src/db/database.js';
import { openTestDatabase } from './helpers/harness.js';

let db: Database;
let close: (() => Promise<void>) | undefined;

before(async () => {
  ({ db, close } = await openTestDatabase());
  await db.exec('create table rtw_counter (id int primary key, n int not null); create table rtw_log (n int not null)');
  await db.query('insert into rtw_counter values (1, 0)');
});

after(async () => {
  await close?.();
});

const counter = async () => (await db.query<{ n: number }>('select n from rtw_counter where id = 1')).rows[0].n;
const logged = async () => (await db.query<{ n: number }>('select n from rtw_log order by n')).rows.map((r) => r.n);

/** Reads the counter, writes it plus one and logs the old value: what an append batch does with the tree's head. */
const increment = (extra?: (tx: import('../src/db/database.js').Queryable) => Promise<void>, statement?: string) =>
  db.readThenWrite(undefined, [{ sql: 'select n from rtw_counter where id = $1', params: [1] }], async ([read], tx) => {
    const n = Number(read.rows[0].n);
    await extra?.(tx);
    return {
      statement: {
        sql: statement ?? 'with logged as (insert into rtw_log (n) values ($1)) update rtw_counter set n = $2 where id = 1',
        params: [n, n + 1],
      },
      result: n,
    };
  });

test('the reads reach the computation, and its write commits: ten in a row count from the last', async () => {
  const before = await counter();
  const seen: number[] = [];
  for (let i = 0; i < 10; i++) seen.push(await increment());
  assert.deepEqual(
    seen,
    Array.from({ length: 10 }, (_, i) => before + i),
  );
  assert.equal(await counter(), before + 10);
});

test('the opening statement runs first, in the same transaction as the reads', async () => {
  const setting = await db.readThenWrite(
    "select set_config('carewall.rtw', 'opened', true)",
    [{ sql: "select current_setting('carewall.rtw', true) as v" }],
    async ([read]) => ({ result: read.rows[0].v }),
  );
  assert.equal(setting, 'opened');
  // Local to that transaction: gone after it.
  assert.notEqual((await db.query<{ v: string | null }>("select current_setting('carewall.rtw', true) as v")).rows[0].v, 'opened');
});

test('a write that fails commits nothing, not even what the computation wrote meanwhile; the next caller goes on', async () => {
  const before = { n: await counter(), log: await logged() };
  await assert.rejects(
    increment(
      (tx) => tx.query('insert into rtw_log (n) values ($1)', [-1]).then(() => undefined),
      // Violates the primary key's not-null: the write fails on the server.
      'with logged as (insert into rtw_log (n) values ($1)) update rtw_counter set id = null where id = 1 and n = $2 - 1',
    ),
    (err: Error & { code?: string }) => err.code === '23502',
  );
  assert.equal(await counter(), before.n);
  assert.deepEqual(await logged(), before.log);
  assert.equal(await increment(), before.n);
  assert.equal(await counter(), before.n + 1);
});

test('a read that fails ends it before the computation; a computation that throws writes nothing', async () => {
  const before = { n: await counter(), log: await logged() };
  let computed = false;
  await assert.rejects(
    db.readThenWrite(undefined, [{ sql: 'select 1 / (n - n) from rtw_counter' }], async () => {
      computed = true;
      return { result: 0 };
    }),
    (err: Error & { code?: string }) => err.code === '22012',
  );
  assert.equal(computed, false);
  await assert.rejects(
    increment(async (tx) => {
      await tx.query('insert into rtw_log (n) values ($1)', [-2]);
      throw new Error('refused by the computation');
    }),
    /refused by the computation/,
  );
  assert.equal(await counter(), before.n);
  assert.deepEqual(await logged(), before.log);
  assert.equal(await increment(), before.n);
});

test('a failing opening fails the whole of it, and writes nothing', async () => {
  const n = await counter();
  await assert.rejects(
    db.readThenWrite('select 1 / 0', [{ sql: 'select n from rtw_counter where id = $1', params: [1] }], async () => ({
      statement: { sql: 'update rtw_counter set n = n + 100 where id = 1' },
      result: 0,
    })),
    (err: Error & { code?: string }) => err.code === '22012',
  );
  assert.equal(await counter(), n);
  assert.equal(await increment(), n);
});
