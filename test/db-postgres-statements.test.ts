/**
 * On PostgreSQL every statement with parameters is prepared under a name, once per connection
 * (src/db/postgres.ts). A table that another process changes under such a statement (a migration
 * during a rolling upgrade) must not leave it failing on that connection for good.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { openDatabase, type Database } from '../src/db/database.js';
import { freshDatabase, tempDir } from './helpers/harness.js';

const REASON = 'named statements are the PostgreSQL driver’s (the embedded database has its own: db-embedded-statements.test.ts); set DATABASE_URL';
let db: Database | undefined;
let fresh: Awaited<ReturnType<typeof freshDatabase>>;
let other: pg.Client | undefined;

before(async () => {
  fresh = await freshDatabase();
  if (!fresh) return;
  // One connection, so that the statement is prepared where it runs again.
  db = await openDatabase({ databaseUrl: fresh.url, dataDir: tempDir(), poolSize: 1 });
  other = new pg.Client({ connectionString: fresh.url });
  await other.connect();
});
after(async () => {
  await other?.end();
  await db?.close();
  await fresh?.drop();
});

test('a table changed by another connection under a prepared statement: the statement runs again and sees the new shape', async (t) => {
  if (!db || !other) return t.skip(REASON);
  await db.exec("create table shaped (id int primary key, a text); insert into shaped values (1, 'one')");
  const read = 'select * from shaped where id = $1';
  assert.deepEqual((await db.query(read, [1])).rows, [{ id: 1, a: 'one' }]);
  await other.query("alter table shaped add column b text not null default 'new'");
  assert.deepEqual((await db.query(read, [1])).rows, [{ id: 1, a: 'one', b: 'new' }]);
});

test('the same inside a transaction: the transaction fails, and the next statement works', async (t) => {
  if (!db || !other) return t.skip(REASON);
  await db.exec("create table shaped2 (id int primary key, a text); insert into shaped2 values (1, 'one')");
  const read = 'select * from shaped2 where id = $1';
  await db.query(read, [1]);
  await other.query('alter table shaped2 add column c int not null default 7');
  await assert.rejects(
    db.transaction((tx) => tx.query(read, [1])),
    (err: { code?: string }) => err.code === '0A000',
  );
  assert.deepEqual((await db.query(read, [1])).rows, [{ id: 1, a: 'one', c: 7 }]);
  assert.deepEqual(await db.transaction(async (tx) => (await tx.query(read, [1])).rows), [{ id: 1, a: 'one', c: 7 }]);
});
