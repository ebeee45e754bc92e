/**
 * Upgrading a log kept in the version-3 layout (leaf bytes in one row per record, a tile for every
 * tree level) to bundles, tiles of every eighth level and search columns a row per 256 records:
 * every record, search column and proof survives, and the upgraded log verifies and keeps growing.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { openDatabase, type Database } from '../src/db/database.js';
import { migrate } from '../src/db/migrations.js';
import { auditMigrations } from '../src/audit/schema.js';
import { MerkleLog } from '../src/audit/log.js';
import { Frontier } from '../src/audit/frontier.js';
import { leafHash, rootFromLeafHashes, verifyConsistency, verifyInclusion } from '../src/audit/merkle.js';
import { TileWrites } from '../src/audit/tiles.js';
import { generateSignerKey } from '../src/audit/note.js';
import { verifyLog } from '../src/audit/verify.js';
import { countMatching } from '../src/audit/counts.js';
import { copyTemplate } from './helpers/installationTemplate.js';

let db: Database;
let dir: string;
const schema = `audit_migration_${process.pid}`;

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'carewall-audit-migration-'));
  // The embedded database: a copy of the migrated installation's, not one made from nothing (PGlite's initdb, seconds).
  if (!process.env.DATABASE_URL) await copyTemplate(dir);
  db = await openDatabase({ databaseUrl: process.env.DATABASE_URL, dataDir: dir, poolSize: 1 });
  // A schema of its own (on the shared server; beside the copied installation's tables), dropped afterwards.
  await db.exec(`create schema ${schema}; set search_path to ${schema}`);
});
after(async () => {
  await db.exec(`drop schema ${schema} cascade`);
  await db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a version-3 log of 600 records moves into 2 bundles and a tail of 88, verifies, and grows', async () => {
  await migrate(db, auditMigrations.slice(0, 3));
  const leaves = Array.from({ length: 600 }, (_, i) => Buffer.from(`{"record":${i},"pad":"${'x'.repeat(i % 97)}"}`));
  const f = new Frontier();
  const writes = new TileWrites();
  for (const leaf of leaves) f.append(leafHash(leaf), (level, index, hash) => writes.add(level, index, hash));
  await db.transaction(async (tx) => {
    await tx.query(
      `insert into audit_leaf (leaf_index, leaf, at, patient_id, action, outcome)
       select i, l, now(), 'patient-' || (i % 7), 'read', 'success' from unnest($1::bigint[], $2::bytea[]) as u(i, l)`,
      [leaves.map((_, i) => i), leaves],
    );
    await writes.write(tx);
    await tx.query('insert into audit_tree (id, size, root) values (1, $1, $2)', [600, f.root()]);
  });

  const levelsBefore = (await db.query<{ level: number }>('select distinct level from audit_tile order by level')).rows.map((r) => r.level);
  assert.deepEqual(levelsBefore, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(await migrate(db, auditMigrations), ['audit:4', 'audit:5', 'audit:6', 'audit:7', 'audit:8', 'audit:9', 'audit:10', 'audit:11']);
  // Only every eighth level is kept; proofs through the levels between still verify.
  assert.deepEqual(
    (await db.query<{ level: number }>('select distinct level from audit_tile order by level')).rows.map((r) => r.level),
    [0, 8],
  );
  const counts = await db.query<{ bundles: number; tail: number; entries: number }>(
    'select (select count(*)::int from audit_bundle) as bundles, (select count(*)::int from audit_tail) as tail, (select count(*)::int from audit_entry_batch g, unnest(g.patients) p where p is not null) as entries',
  );
  assert.deepEqual(counts.rows[0], { bundles: 2, tail: 88, entries: 600 });
  // The search columns moved into rows of 256 consecutive records (one account here), each still found at its own index.
  assert.deepEqual(
    (await db.query<{ first_index: number }>('select first_index from audit_entry_batch order by first_index')).rows.map((r) => Number(r.first_index)),
    [0, 256, 512],
  );
  const ofPatient3 = await db.query<{ i: number }>(
    `select u.i::int as i from audit_entry_batch g, unnest(g.idxs, g.patients) as u(i, p) where g.keys @> array['ppatient-3'] and u.p = 'patient-3' order by 1`,
  );
  assert.deepEqual(
    ofPatient3.rows.map((r) => r.i),
    leaves.map((_, i) => i).filter((i) => i % 7 === 3),
  );
  // The maintained counts start from the migrated records: a count needs no unpacking from the first day.
  assert.equal(await countMatching(db, {}), 600);
  assert.equal(await countMatching(db, { actions: ['read'], outcome: 'success' }), 600);
  assert.equal(await countMatching(db, { actions: ['update'] }), 0);
  const log = new MerkleLog(db);
  assert.deepEqual(
    (await log.leaves(0, 600)).map((l) => l.leaf.toString()),
    leaves.map((l) => l.toString()),
  );
  const some = await log.leavesAt([0, 255, 256, 511, 512, 599]);
  for (const i of [0, 255, 256, 511, 512, 599]) assert.equal(some.get(i)?.toString(), leaves[i].toString());

  const root600 = f.root();
  for (const i of [0, 131, 255, 256, 511, 599])
    assert.ok(verifyInclusion(i, 600, leafHash(leaves[i]), await log.inclusionProof(i, 600), root600), `inclusion of ${i}`);
  const root300 = rootFromLeafHashes(leaves.slice(0, 300).map(leafHash));
  assert.ok(verifyConsistency(300, 600, await log.consistencyProof(300, 600), root300, root600));

  const vkey = generateSignerKey('carewall.test/audit').verifier;
  const report = await verifyLog(db, vkey);
  assert.equal(report.ok, true, JSON.stringify(report.problems));
  assert.equal(report.size, 600);

  // Appends carry on from the migrated state, completing the third bundle from the tail.
  const more = Array.from({ length: 200 }, (_, i) => Buffer.from(`later ${i}`));
  assert.equal(await log.appendBatch(more), 600);
  assert.ok((await log.head()).root.equals(rootFromLeafHashes([...leaves, ...more].map(leafHash))));
  assert.equal((await db.query<{ n: number }>('select count(*)::int as n from audit_tail')).rows[0].n, 800 - 768);
  // The migrated bundles stay as they were; the one completed since is compressed. Both are read.
  assert.deepEqual(
    (await db.query<{ codec: number }>('select codec from audit_bundle order by idx')).rows.map((r) => r.codec),
    [0, 0, 1],
  );
  const across = await log.leavesAt([255, 256, 600, 767, 768]);
  assert.deepEqual(
    [255, 256, 600, 767, 768].map((i) => across.get(i)?.toString()),
    [leaves[255], leaves[256], more[0], more[167], more[168]].map(String),
  );
  assert.deepEqual(
    (await log.leaves(500, 800)).map((l) => l.leaf.toString()),
    [...leaves, ...more].slice(500, 800).map(String),
  );
  assert.equal((await verifyLog(db, vkey)).ok, true);
});
