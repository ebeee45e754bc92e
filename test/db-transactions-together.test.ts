/**
 * Many transactions and reads at once, as a busy server sends them. On the embedded database the
 * engine runs on a thread of its own (src/db/embedded.ts): transactions take turns there, a BEGIN is
 * waited for without the server's event loop, and reads from outside a transaction queue beside
 * them. None may be lost, see another's half-done work, or wait forever; on PostgreSQL the same
 * holds through its row locks.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type Database, type Queryable } from '../src/db/database.js';
import { openTestDatabase } from './helpers/harness.js';

let db: Database;
let close: (() => Promise<void>) | undefined;

before(async () => {
  ({ db, close } = await openTestDatabase());
  await db.exec('create table together_counter (id int primary key, n int not null, half int not null)');
  await db.query('insert into together_counter values (1, 0, 0)');
});

after(async () => {
  await close?.();
});

const bump = (tx: Queryable) => async () => {
  const n = (await tx.query<{ n: number }>('select n from together_counter where id = 1 for update')).rows[0].n;
  // Work of the server's own between statements (a hash, a key from the vault), as a request does.
  await new Promise((resolve) => setImmediate(resolve));
  // Two writes: a reader outside the transaction must see both or neither.
  await tx.query('update together_counter set half = $1 where id = 1', [n + 1]);
  await tx.query('update together_counter set n = $1 where id = 1', [n + 1]);
};

test('forty transactions at once, one in four failing after its writes, with reads between them: every other one counted once, no read sees half of one', async () => {
  const outcomes = Array.from({ length: 40 }, (_, i) =>
    db.transaction(async (tx) => {
      await bump(tx)();
      if (i % 4 === 3) throw new Error(`transaction ${i} gives up`);
      return i;
    }),
  );
  const reads = Array.from({ length: 40 }, () => db.query<{ n: number; half: number }>('select n, half from together_counter where id = 1'));
  const settled = await Promise.allSettled(outcomes);
  assert.equal(settled.filter((s) => s.status === 'fulfilled').length, 30);
  for (const [i, s] of settled.entries()) if (s.status === 'rejected') assert.match(String(s.reason), new RegExp(`transaction ${i} gives up`));
  for (const r of await Promise.all(reads)) {
    const { n, half } = r.rows[0];
    assert.equal(half, n, 'a read saw one write of a transaction without the other');
    assert.ok(n >= 0 && n <= 30);
  }
  assert.deepEqual((await db.query('select n, half from together_counter where id = 1')).rows, [{ n: 30, half: 30 }]);
});

test('a statement that fails inside a transaction fails it with its SQLSTATE, and the next transactions go on', async () => {
  const failed = db.transaction(async (tx) => {
    await tx.query('insert into together_counter values (1, 0, 0)');
  });
  const next = db.transaction(async (tx) => {
    await bump(tx)();
  });
  await assert.rejects(failed, (err: { code?: string }) => err.code === '23505');
  await next;
  assert.deepEqual((await db.query('select n from together_counter where id = 1')).rows, [{ n: 31 }]);
});
