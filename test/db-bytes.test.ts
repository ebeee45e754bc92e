/**
 * Binary values reach either engine byte for byte: one bytea parameter (sent as the bytes
 * themselves to the embedded database) and many values packed into one (db/packedBytes.ts), which
 * the audit log's appends use for leaves, bundles and tiles.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { toBuffer, type Database } from '../src/db/database.js';
import { bindPacked } from '../src/db/packedBytes.js';
import { bindTo } from '../src/db/sqlParams.js';
import { openTestDatabase } from './helpers/harness.js';
import { Seeded, testSeed } from './helpers/seeded.js';

let db: Database;
let close: (() => Promise<void>) | undefined;

before(async () => {
  // A copy of the migrated installation's database (an embedded one is then not created anew), a table of its own in it.
  ({ db, close } = await openTestDatabase());
  await db.query('create table bytes_probe (k int primary key, v bytea not null)');
});

after(async () => {
  await close?.();
});

// Every byte value, the ones text formats escape (NUL, backslash, quote) among them, an empty value,
// and 70 kB of seeded noise (a failure replays with CAREWALL_TEST_SEED, see helpers/seeded.ts).
const allBytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
const samples = [allBytes, Buffer.from('\\x00"\\\\', 'latin1'), Buffer.alloc(0), new Seeded(testSeed(70)).bytes(70_000), Buffer.from('{"é":"日本"}')];

test('a bytea parameter is stored exactly, and a non-binary value for it is refused', async () => {
  for (const [k, v] of samples.entries()) await db.query('insert into bytes_probe (k, v) values ($1, $2)', [k, v]);
  const rows = (await db.query<{ k: number; v: unknown }>('select k, v from bytes_probe order by k')).rows;
  assert.deepEqual(
    rows.map((r) => toBuffer(r.v).toString('hex')),
    samples.map((s) => s.toString('hex')),
  );
  // A view into a larger buffer is stored as the view, not the buffer behind it.
  await db.query('insert into bytes_probe (k, v) values (100, $1)', [allBytes.subarray(10, 20)]);
  assert.deepEqual(toBuffer((await db.query<{ v: unknown }>('select v from bytes_probe where k = 100')).rows[0].v), allBytes.subarray(10, 20));
  if (db.kind === 'pglite') await assert.rejects(db.query('insert into bytes_probe (k, v) values (101, $1)', ['not bytes']), /bytea/);
});

test('values packed into one parameter come out of substring unchanged and in order', async () => {
  await db.query('delete from bytes_probe');
  const params: unknown[] = [];
  const packed = bindPacked(bindTo(params), samples);
  await db.query(`insert into bytes_probe (k, v) select k, ${packed.value} from unnest(${packed.unnest}) with ordinality as x(s, l, k)`, params);
  const rows = (await db.query<{ k: number; v: unknown }>('select k, v from bytes_probe order by k')).rows;
  assert.deepEqual(
    rows.map((r) => Number(r.k)),
    [1, 2, 3, 4, 5],
  );
  assert.deepEqual(
    rows.map((r) => toBuffer(r.v).toString('hex')),
    samples.map((s) => s.toString('hex')),
  );
});

test("a transaction's opening statement runs first and inside it: rolled back with it, and when it fails nothing after it runs", async () => {
  await assert.rejects(
    db.transaction(async (tx) => {
      const seen = await tx.query<{ k: number }>('select k from bytes_probe where k = 301');
      assert.equal(seen.rows.length, 1, 'the opening ran before the transaction body');
      throw new Error('changed my mind');
    }, "insert into bytes_probe (k, v) values (301, '\\x00')"),
    /changed my mind/,
  );
  let ran = false;
  await assert.rejects(
    db.transaction(async () => {
      ran = true;
    }, 'select * from no_such_table'),
  );
  assert.equal(ran, false);
  assert.equal((await db.query('select k from bytes_probe where k = 301')).rows.length, 0);
});
