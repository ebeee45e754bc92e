/**
 * The audit log in the database: appends sequenced into an RFC 6962 tree, proofs that verify
 * against signed checkpoints, every access recorded before it is served (and refused when it
 * cannot be), and `verify` catching records changed, deleted, inserted or reordered behind the
 * log's back, and a database rolled back behind an exported checkpoint.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Resource } from '@medplum/fhirtypes';
import { SYSTEM } from '../src/shared/index.js';
import { leafHash, rootFromLeafHashes, verifyConsistency, verifyInclusion } from '../src/audit/merkle.js';
import { openNote, parseCheckpoint } from '../src/audit/note.js';
import { decodeLeaf, encodeLeaf } from '../src/audit/record.js';
import { verifyLog } from '../src/audit/verify.js';
import { MerkleLog } from '../src/audit/log.js';
import { DEFLATED, encodeBundle, PLAIN } from '../src/audit/bundles.js';
import { changeStoredLeaf, relayoutLeaves } from './helpers/tamper.js';
import { call, startTestServer, type TestServer } from './helpers/harness.js';
import { observation } from './helpers/fixtures.js';

const leafOf = (n: number) => Buffer.from(`test leaf ${n}`);

describe('the Merkle log in the database', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({ audit: { intervalSeconds: 0 } });
  });
  after(() => s?.close());

  test('appends in batches give the RFC 6962 root, and proofs from the stored hashes verify', async () => {
    const log = s.cw.audit.log;
    const start = (await log.head()).size;
    const leaves: Buffer[] = [];
    for (let i = 0; i < start; i++) leaves.push((await log.leaf(i))!);
    // Batches of several sizes, and single appends through the group-commit queue.
    for (const batch of [1, 2, 3, 7, 16, 5]) {
      const mine = Array.from({ length: batch }, (_, i) => leafOf(leaves.length + i));
      const first = await log.appendBatch(mine);
      assert.equal(first, leaves.length);
      leaves.push(...mine);
    }
    const singles = await Promise.all(Array.from({ length: 9 }, (_, i) => log.append(leafOf(1000 + i))));
    assert.deepEqual(
      [...singles].sort((a, b) => a - b),
      Array.from({ length: 9 }, (_, i) => leaves.length + i),
    );
    for (const index of singles.map((x, i) => [x, i]).sort((a, b) => a[0] - b[0])) leaves.push(leafOf(1000 + index[1]));

    const hashes = leaves.map(leafHash);
    const head = await log.head();
    assert.equal(head.size, leaves.length);
    assert.ok(head.root.equals(rootFromLeafHashes(hashes)));
    for (let size = 1; size <= leaves.length; size += 3) {
      const root = rootFromLeafHashes(hashes.slice(0, size));
      for (let index = 0; index < size; index += 2) {
        const proof = await log.inclusionProof(index, size);
        assert.ok(verifyInclusion(index, size, hashes[index], proof, root), `inclusion ${index} in ${size}`);
        assert.ok(!verifyInclusion(index, size, leafHash(Buffer.from('forged')), proof, root));
      }
      for (let from = 1; from <= size; from += 4) {
        const proof = await log.consistencyProof(from, size);
        assert.ok(verifyConsistency(from, size, proof, rootFromLeafHashes(hashes.slice(0, from)), root), `consistency ${from} -> ${size}`);
      }
    }
  });

  test('appenders that share the database, as two Carewall processes do, take turns without a gap or a wrong hash', async () => {
    // Each appender guesses the tree's size from its own last append; the other's appends in
    // between (here across tile boundaries) make that guess wrong, and the append must still build
    // on the tree as it is.
    const logs = [s.cw.audit.log, new MerkleLog(s.cw.db)];
    const start = (await logs[0].head()).size;
    const leaves: Buffer[] = [];
    for (let i = 0; i < start; i++) leaves.push((await logs[0].leaf(i))!);
    const turns: Array<[number, number]> = [
      [0, 3],
      [1, 40],
      [0, 2],
      [0, 1],
      [1, 1],
      [0, 70],
      [1, 33],
      [0, 5],
    ];
    for (const [who, count] of turns) {
      const mine = Array.from({ length: count }, (_, i) => leafOf(5000 + leaves.length + i));
      const indexes = await Promise.all(mine.map((leaf) => logs[who].append(leaf)));
      assert.deepEqual(
        indexes,
        mine.map((_, i) => leaves.length + i),
      );
      leaves.push(...mine);
      const head = await logs[1 - who].head();
      assert.equal(head.size, leaves.length);
      assert.ok(head.root.equals(rootFromLeafHashes(leaves.map(leafHash))), `the root after ${leaves.length} leaves`);
    }
    const proof = await logs[1].inclusionProof(start + 50, leaves.length);
    assert.ok(verifyInclusion(start + 50, leaves.length, leafHash(leaves[start + 50]), proof, rootFromLeafHashes(leaves.map(leafHash))));
  });

  test("an append rolled back with its transaction, or another appender's of the same size, is never what the next append builds on", async () => {
    // Each log keeps the frontier its last append left; the head read under the lock decides whether it still holds.
    const [log, other] = [s.cw.audit.log, new MerkleLog(s.cw.db)];
    const start = (await log.head()).size;
    const leaves: Buffer[] = [];
    for (let i = 0; i < start; i++) leaves.push((await log.leaf(i))!);
    const append = async (by: MerkleLog, n: number) => {
      leaves.push(leafOf(n));
      assert.equal(await by.append(leafOf(n)), leaves.length - 1);
    };
    /** This log's append of two, rolled back with the write it belonged to. */
    const rolledBack = (n: number) =>
      assert.rejects(
        s.cw.db.transaction(async (tx) => {
          await log.appendIn(tx, [leafOf(n), leafOf(n + 1)]);
          throw new Error('the write failed');
        }),
        /the write failed/,
      );
    await append(log, 7000);
    await rolledBack(7001);
    await append(log, 7003);
    await log.appendBatch([leafOf(7004)]).then(() => leaves.push(leafOf(7004)));
    await rolledBack(7005);
    // The other appender brings the tree to the size this log's rolled-back append would have left.
    await append(other, 7007);
    await append(other, 7008);
    await append(log, 7009);
    const head = await log.head();
    assert.equal(head.size, leaves.length);
    assert.ok(head.root.equals(rootFromLeafHashes(leaves.map(leafHash))));
    const proof = await other.inclusionProof(leaves.length - 1, leaves.length);
    assert.ok(verifyInclusion(leaves.length - 1, leaves.length, leafHash(leafOf(7009)), proof, head.root));
  });

  test('an append sent while another of the same log is prepared and rolled back builds on the head it reads', async () => {
    // The append's read leaves the tiles' hashes out when the head is the one its log knew when it
    // was sent; what it builds on must be decided by that same knowledge, not by a frontier another
    // append of the log prepared meanwhile (and rolled back).
    let sent: (() => void) | undefined;
    const db = new Proxy(s.cw.db, {
      get(target, key) {
        if (key === 'readThenWrite')
          return (...args: Parameters<typeof target.readThenWrite>) => {
            sent?.();
            return target.readThenWrite(...args);
          };
        const value = Reflect.get(target, key) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const log = new MerkleLog(db);
    const start = await log.append(leafOf(8000));
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let holding!: () => void;
    const held = new Promise<void>((r) => (holding = r));
    const rolledBack = s.cw.db.transaction(async (tx) => {
      await log.lockSequencer(tx);
      holding();
      await gate;
      await log.appendIn(tx, [leafOf(8001), leafOf(8002)]);
      throw new Error('the write failed');
    });
    await held;
    const isSent = new Promise<void>((r) => (sent = r));
    const appended = log.append(leafOf(8003));
    await isSent;
    release();
    await assert.rejects(rolledBack, /the write failed/);
    assert.equal(await appended, start + 1);
    const head = await log.head();
    const leaves: Buffer[] = [];
    for (let i = 0; i < head.size; i++) leaves.push((await log.leaf(i))!);
    assert.ok(leaves.at(-1)!.equals(leafOf(8003)));
    assert.ok(head.root.equals(rootFromLeafHashes(leaves.map(leafHash))));
  });

  test('a rightmost tile that does not hold what the head says is never appended to, by the log that wrote it or another', async () => {
    const log = s.cw.audit.log;
    await log.append(leafOf(9000));
    // A tree of a whole number of tiles has no rightmost tile to damage yet.
    if ((await log.head()).size % 32 === 0) await log.append(leafOf(8999));
    const { size } = await log.head();
    const idx = Math.floor(size / 32);
    const tile = (await s.cw.db.query<{ hashes: Buffer }>('select hashes from audit_tile where level = 0 and idx = $1', [idx])).rows[0].hashes;
    for (const damaged of [tile.subarray(0, tile.length - 32), Buffer.concat([tile, tile.subarray(0, 32)])]) {
      await s.cw.db.query('update audit_tile set hashes = $1 where level = 0 and idx = $2', [damaged, idx]);
      for (const by of [log, new MerkleLog(s.cw.db)]) await assert.rejects(by.append(leafOf(9001)), /the stored tree is damaged/);
      assert.equal((await log.head()).size, size, 'nothing appended');
    }
    await s.cw.db.query('update audit_tile set hashes = $1 where level = 0 and idx = $2', [tile, idx]);
    assert.equal(await log.append(leafOf(9002)), size);
  });
});

describe('every access is recorded, and served only once recorded', () => {
  let s: TestServer;
  let doctor: string;
  let officer: string;
  let patientId: string;
  let obsId: string;

  before(async () => {
    s = await startTestServer({ audit: { intervalSeconds: 0 } });
    doctor = await s.login(['physician'], 'dr-audited');
    officer = await s.login(['privacy-officer'], 'po-audit');
    const make = async (body: Resource) => (await s.cw.fhir.create(SYSTEM, body.resourceType, body)).resource as Resource & { id: string };
    const p = await make({ resourceType: 'Patient', name: [{ family: 'Auditata' }], generalPractitioner: [{ reference: s.practitionerOf(doctor) }] });
    patientId = p.id;
    obsId = (await make(observation(p.id) as Resource)).id;
  });
  after(() => s?.close());

  const records = async () => {
    const { size } = await s.cw.audit.log.head();
    return (await s.cw.audit.log.leaves(0, size)).map((l) => ({ index: l.index, record: decodeLeaf(l.leaf) }));
  };

  test('a read is a record naming who, from where, which patient and resource, and why it was allowed', async () => {
    const res = await fetch(`${s.url}/fhir/Observation/${obsId}`, { headers: { authorization: `Bearer ${doctor}`, 'user-agent': 'ward-tablet/1.0' } });
    assert.equal(res.status, 200);
    const mine = (await records()).filter((r) => r.record.action === 'read' && r.record.resource?.id === obsId);
    assert.equal(mine.length, 1);
    const r = mine[0].record;
    assert.equal(r.outcome, 'success');
    assert.equal(r.patient, patientId);
    assert.equal(r.resource?.version, '1');
    assert.equal(r.user?.username, 'dr-audited');
    assert.deepEqual(r.user?.roles, ['physician']);
    assert.equal(r.client?.userAgent, 'ward-tablet/1.0');
    assert.ok(r.client?.ip);
    assert.ok(r.requestId);
    assert.equal(r.purposeOfUse, 'TREAT');
    assert.match(JSON.stringify(r.explanation), /general-practitioner/);
  });

  test('a refusal is a record with its reason', async () => {
    const other = await s.login(['physician'], 'dr-stranger');
    assert.equal((await call(s.url, 'GET', `/fhir/Observation/${obsId}`, { token: other })).status, 403);
    const refused = (await records()).filter((r) => r.record.user?.username === 'dr-stranger' && r.record.outcome === 'denied');
    assert.equal(refused.length, 1);
    assert.match(JSON.stringify(refused[0].record.explanation), /no active care relationship/);
  });

  test('a search is one record per patient returned, with the search asked', async () => {
    const res = await call(s.url, 'GET', `/fhir/Observation?patient=${patientId}`, { token: doctor });
    assert.equal(res.status, 200);
    const found = (await records()).filter((r) => r.record.action === 'search' && r.record.user?.username === 'dr-audited');
    assert.equal(found.length, 1);
    assert.equal(found[0].record.patient, patientId);
    // The leaf holds the search sealed (it may name a patient); readers of the log see it opened.
    assert.equal(found[0].record.query, undefined);
    assert.ok(found[0].record.querySealed);
    assert.equal((await s.cw.audit.entry(found[0].index))?.record.query, `patient=${patientId}`);
    const byName = await call(s.url, 'GET', '/fhir/Patient?family=Auditata', { token: doctor });
    assert.equal(byName.status, 200);
    const leaves = await s.cw.audit.log.leaves(0, (await s.cw.audit.log.head()).size);
    assert.ok(!leaves.some((l) => l.leaf.includes('Auditata')), 'no leaf carries the name searched for');
    const nameSearch = (await records()).filter((r) => r.record.action === 'search' && r.record.resource?.type === 'Patient');
    assert.equal((await s.cw.audit.entry(nameSearch[0].index))?.record.query, 'family=Auditata');
  });

  test('while the audit log cannot be written, requests for patient data fail closed (503) and show nothing', async () => {
    await s.cw.db.exec('alter table audit_entry_batch rename to audit_entry_away');
    try {
      const res = await call(s.url, 'GET', `/fhir/Observation/${obsId}`, { token: doctor });
      assert.equal(res.status, 503);
      assert.equal(res.body.resourceType, 'OperationOutcome');
      assert.ok(!JSON.stringify(res.body).includes(patientId));
      const search = await call(s.url, 'GET', `/fhir/Observation?patient=${patientId}`, { token: doctor });
      assert.equal(search.status, 503);
      assert.ok(!JSON.stringify(search.body).includes(obsId));
    } finally {
      await s.cw.db.exec('alter table audit_entry_away rename to audit_entry_batch');
    }
    assert.equal((await call(s.url, 'GET', `/fhir/Observation/${obsId}`, { token: doctor })).status, 200);
  });

  test('the contract API: checkpoint, key, records and proofs, for privacy officers only', async () => {
    const cp = await fetch(`${s.url}/api/audit/checkpoint`, { headers: { authorization: `Bearer ${officer}` } });
    assert.equal(cp.status, 200);
    assert.match(cp.headers.get('content-type') ?? '', /^text\/plain/);
    const note = await cp.text();
    const vkey = await (await fetch(`${s.url}/api/audit/vkey`, { headers: { authorization: `Bearer ${officer}` } })).text();
    assert.match(vkey, /^[^+\s]+\+[0-9a-f]{8}\+[A-Za-z0-9+/=]+$/);
    const checkpoint = parseCheckpoint(openNote(note, [vkey]).text);
    assert.ok(checkpoint.size > 3);

    const rec = await call(s.url, 'GET', '/api/audit/records/1', { token: officer });
    assert.equal(rec.status, 200);
    const leaf = Buffer.from(rec.body.leaf, 'base64');
    assert.deepEqual(encodeLeaf(rec.body.record), leaf);

    const inc = await call(s.url, 'GET', `/api/audit/proof/inclusion?index=1&size=${checkpoint.size}`, { token: officer });
    assert.equal(inc.status, 200);
    const proof = (inc.body.hashes as string[]).map((h) => Buffer.from(h, 'base64'));
    assert.ok(verifyInclusion(1, checkpoint.size, leafHash(leaf), proof, checkpoint.root));

    // A later checkpoint is consistent with this one.
    await call(s.url, 'GET', `/fhir/Patient/${patientId}`, { token: doctor });
    const later = parseCheckpoint(
      openNote(await (await fetch(`${s.url}/api/audit/checkpoint`, { headers: { authorization: `Bearer ${officer}` } })).text(), [vkey]).text,
    );
    assert.ok(later.size > checkpoint.size);
    const cons = await call(s.url, 'GET', `/api/audit/proof/consistency?from=${checkpoint.size}&to=${later.size}`, { token: officer });
    assert.ok(
      verifyConsistency(
        checkpoint.size,
        later.size,
        (cons.body.hashes as string[]).map((h) => Buffer.from(h, 'base64')),
        checkpoint.root,
        later.root,
      ),
    );

    for (const path of ['/api/audit/checkpoint', '/api/audit/vkey', '/api/audit/records/0', '/api/audit/proof/inclusion?index=0&size=1']) {
      assert.equal((await call(s.url, 'GET', path, { token: doctor })).status, 403, path);
    }
    assert.equal((await call(s.url, 'GET', '/api/audit/proof/inclusion?index=5&size=2', { token: officer })).status, 400);
    assert.equal((await call(s.url, 'GET', '/api/audit/records/abc', { token: officer })).status, 400);
    // Querying the log is itself in the log.
    assert.ok((await records()).some((r) => r.record.action === 'audit.record' && r.record.user?.username === 'po-audit'));
  });
});

describe('verify catches what was done to the log behind its back', () => {
  let s: TestServer;
  let vkey: string;
  before(async () => {
    s = await startTestServer({ audit: { intervalSeconds: 0 } });
  });
  after(() => s?.close());

  const TABLES = 'audit_entry_batch, audit_bundle, audit_tail, audit_tile, audit_tree, audit_checkpoint';
  const appendUpTo = async (upTo: number) => {
    for (let size = (await s.cw.audit.log.head()).size; size < upTo; size = (await s.cw.audit.log.head()).size) {
      await s.cw.audit.log.appendBatch(Array.from({ length: Math.min(5000, upTo - size) }, (_, i) => leafOf(size + i)));
    }
  };
  /**
   * A log of 600 records with checkpoints at 200, 400 and 600, restored before each test: records
   * 0..511 sit in two bundles of 256, records 512..599 wait in audit_tail for the third.
   */
  const reset = async () => {
    await s.cw.db.exec(`truncate ${TABLES}`);
    for (const upTo of [200, 400, 600]) {
      await appendUpTo(upTo);
      await s.cw.audit.checkpoints.checkpoint();
    }
    vkey = await s.cw.audit.pinnedVerifierKey();
  };
  const verify = (files: Array<{ source: string; note: string }> = []) => verifyLog(s.cw.db, vkey, files);
  const storedLeaves = async () => (await s.cw.audit.log.leaves(0, 600)).map((l) => l.leaf);

  test('an untouched log verifies', async () => {
    await reset();
    assert.equal((await s.cw.db.query<{ n: number }>('select count(*)::int as n from audit_bundle')).rows[0].n, 2);
    const report = await verify();
    assert.equal(report.ok, true, JSON.stringify(report.problems));
    assert.equal(report.size, 600);
    assert.equal(report.checkpointsChecked, 3);
  });

  for (const victim of [17, 530]) {
    test(`a changed record is named (record ${victim}, ${victim < 512 ? 'in a bundle' : 'waiting in audit_tail'})`, async () => {
      await reset();
      await changeStoredLeaf(s.cw.db, victim, Buffer.from('nothing to see here'));
      const report = await verify();
      assert.equal(report.ok, false);
      assert.equal(report.firstBadIndex, victim);
    });
  }

  test('a deleted record, the rest renumbered to close the gap, is named', async () => {
    await reset();
    const leaves = await storedLeaves();
    leaves.splice(12, 1);
    await relayoutLeaves(s.cw.db, leaves);
    const report = await verify();
    assert.equal(report.ok, false);
    assert.equal(report.firstBadIndex, 12);
  });

  test('deleted rows leave gaps that are named: a record waiting in audit_tail, a whole bundle', async () => {
    await reset();
    await s.cw.db.exec('delete from audit_tail where leaf_index = 550');
    assert.equal((await verify()).firstBadIndex, 550);
    await reset();
    await s.cw.db.exec('delete from audit_bundle where idx = 1');
    const report = await verify();
    assert.equal(report.firstBadIndex, 256);
    assert.match(report.problems[0].message, /record 256 is missing/);
  });

  test('an inserted record (the rest shifted up) is named', async () => {
    await reset();
    const leaves = await storedLeaves();
    leaves.splice(300, 0, Buffer.from('planted'));
    await relayoutLeaves(s.cw.db, leaves);
    const report = await verify();
    assert.equal(report.ok, false);
    assert.equal(report.firstBadIndex, 300);
  });

  test('two records swapped are named, within a bundle and between a bundle and audit_tail', async () => {
    for (const [a, b] of [
      [5, 6],
      [300, 520],
    ]) {
      await reset();
      const leaves = await storedLeaves();
      [leaves[a], leaves[b]] = [leaves[b], leaves[a]];
      await relayoutLeaves(s.cw.db, leaves);
      const report = await verify();
      assert.equal(report.ok, false);
      assert.equal(report.firstBadIndex, a);
    }
  });

  test('a second copy of a record planted beside its bundle, or a bundle that does not inflate or whose index is damaged, is named', async () => {
    await reset();
    await s.cw.db.query('insert into audit_tail (leaf_index, leaf) values (40, $1)', [Buffer.from('planted')]);
    let report = await verify();
    assert.equal(report.ok, false);
    assert.equal(report.firstBadIndex, 40);
    assert.match(report.problems[0].message, /record 40 is stored twice/);
    await reset();
    assert.deepEqual(
      (await s.cw.db.query<{ codec: number }>('select codec from audit_bundle order by idx')).rows.map((r) => r.codec),
      [DEFLATED, DEFLATED],
    );
    await s.cw.db.exec('update audit_bundle set entries = substring(entries from 1 for length(entries) / 2) where idx = 1');
    report = await verify();
    assert.equal(report.ok, false);
    assert.equal(report.firstBadIndex, 256);
    assert.match(report.problems[0].message, /bundle 1 .*does not inflate/);
    // A bundle kept plain (written before audit migration 5) with its index overwritten.
    await reset();
    await relayoutLeaves(s.cw.db, await storedLeaves(), PLAIN);
    assert.equal((await verify()).ok, true, 'plain bundles verify as well');
    await s.cw.db.exec("update audit_bundle set entries = overlay(entries placing '\\xffffffff'::bytea from 401 for 4) where idx = 1");
    report = await verify();
    assert.equal(report.ok, false);
    assert.equal(report.firstBadIndex, 256);
    assert.match(report.problems[0].message, /bundle 1 .*index is inconsistent/);
  });

  test('a stored subtree hash changed, or a tile of them deleted, is named', async () => {
    await reset();
    // Only every eighth level is stored. Level 0, tile 4 holds the leaf hashes of records
    // 128..159; the fourth is record 131's.
    await s.cw.db.exec('update audit_tile set hashes = set_byte(hashes, 96, 255 - get_byte(hashes, 96)) where level = 0 and idx = 4');
    let report = await verify();
    assert.equal(report.ok, false);
    assert.equal(report.firstBadIndex, 131);
    assert.match(report.problems[0].message, /tree hashes 0\/131 /);
    // Level 8 node 1, the subtree of records 256..511, is completed by record 511.
    await reset();
    await s.cw.db.exec('update audit_tile set hashes = set_byte(hashes, 32, 255 - get_byte(hashes, 32)) where level = 8 and idx = 0');
    report = await verify();
    assert.equal(report.ok, false);
    assert.equal(report.firstBadIndex, 511);
    assert.match(report.problems[0].message, /tree hashes 8\/1 /);
    // The leaf hashes of records 64..95 gone: the first is named.
    await reset();
    await s.cw.db.exec('delete from audit_tile where level = 0 and idx = 2');
    report = await verify();
    assert.equal(report.ok, false);
    assert.equal(report.firstBadIndex, 64);
  });

  test('records rewritten with every tree hash recomputed are caught by the signed checkpoints', async () => {
    await reset();
    // The intruder rebuilds the whole tree consistently after changing record 300.
    const leaves = await storedLeaves();
    leaves[300] = Buffer.from('rewritten');
    const signed = (await s.cw.db.query<{ size: number; root: Buffer; note: string }>('select * from audit_checkpoint')).rows;
    await s.cw.db.exec(`truncate ${TABLES}`);
    await s.cw.audit.log.appendBatch(leaves);
    for (const c of signed) await s.cw.db.query('insert into audit_checkpoint (size, root, note) values ($1, $2, $3)', [c.size, c.root, c.note]);
    const report = await verify();
    assert.equal(report.ok, false);
    assert.equal(report.firstBadIndex, 200, 'between the last good checkpoint (200) and the first bad one (400)');
    // And the log refuses to sign anything on top of it.
    await assert.rejects(
      () =>
        s.cw.audit.checkpoints.checkpoint().then(async () => {
          await s.cw.audit.log.appendBatch([leafOf(99)]);
          return s.cw.audit.checkpoints.checkpoint();
        }),
      /no longer matches/,
    );
  });

  test('a database rolled back behind an exported checkpoint fails against that checkpoint', async () => {
    await s.cw.db.exec(`truncate ${TABLES}`);
    await appendUpTo(400);
    await s.cw.audit.checkpoints.checkpoint();
    // A copy of the database taken at 400 records (the audit tables are all that matter here).
    const tables = TABLES.split(', ');
    for (const t of tables) await s.cw.db.exec(`create table copy_${t} as select * from ${t}`);
    await appendUpTo(600);
    const exported = await s.cw.audit.checkpoints.checkpoint(); // size 600, kept offline
    // The database is restored from the copy.
    await s.cw.db.exec(`truncate ${TABLES}`);
    for (const t of tables) await s.cw.db.exec(`insert into ${t} select * from copy_${t}; drop table copy_${t}`);
    vkey = await s.cw.audit.pinnedVerifierKey();
    assert.equal((await verify()).ok, true, 'the copy is consistent in itself');
    const report = await verify([{ source: 'offline.checkpoint', note: exported }]);
    assert.equal(report.ok, false);
    assert.match(report.problems.map((p) => p.message).join('\n'), /signed at size 600, but the log holds only 400/);
  });

  test('a log of several chunks verifies on worker threads, and damage deep inside it is named exactly', async () => {
    await s.cw.db.exec(`truncate ${TABLES}`);
    const CHUNK = 8192;
    const total = 3 * CHUNK + 300;
    // Checkpoints inside a unit, on a unit boundary, on a chunk boundary, and inside later chunks.
    for (const upTo of [100, 256, CHUNK, CHUNK + 777, 2 * CHUNK + 5000, total]) {
      await appendUpTo(upTo);
      await s.cw.audit.checkpoints.checkpoint();
    }
    vkey = await s.cw.audit.pinnedVerifierKey();
    for (const workers of [0, 2]) {
      const report = await verifyLog(s.cw.db, vkey, [], { workers });
      assert.equal(report.ok, true, JSON.stringify(report.problems));
      assert.equal(report.size, total);
      assert.equal(report.checkpointsChecked, 6);
    }
    // A stored unit hash (level 8, where the main thread builds the tree on): subtree 8/1,
    // completed by record 511.
    const tile = (await s.cw.db.query<{ hashes: Uint8Array }>('select hashes from audit_tile where level = 8 and idx = 0')).rows[0].hashes;
    const damaged = Buffer.from(tile);
    damaged[32] ^= 1;
    await s.cw.db.query('update audit_tile set hashes = $1 where level = 8 and idx = 0', [damaged]);
    assert.equal((await verifyLog(s.cw.db, vkey, [], { workers: 2 })).firstBadIndex, 511);
    await s.cw.db.query('update audit_tile set hashes = $1 where level = 8 and idx = 0', [Buffer.from(tile)]);
    // A record in the third chunk, and one in the last, partial unit.
    for (const victim of [2 * CHUNK + 1234, total - 3]) {
      const original = (await s.cw.audit.log.leaf(victim))!;
      await changeStoredLeaf(s.cw.db, victim, Buffer.from('changed'));
      const report = await verifyLog(s.cw.db, vkey, [], { workers: 2 });
      assert.equal(report.ok, false);
      assert.equal(report.firstBadIndex, victim);
      await changeStoredLeaf(s.cw.db, victim, original);
    }
    assert.equal((await verifyLog(s.cw.db, vkey, [], { workers: 2 })).ok, true);
    // The same log with half its bundles kept plain, as a log upgraded from before audit migration 5 holds them.
    const leaves = (await s.cw.audit.log.leaves(0, total)).map((l) => l.leaf);
    await relayoutLeaves(s.cw.db, leaves, DEFLATED);
    await s.cw.db.transaction(async (tx) => {
      const old = await tx.query<{ idx: number }>('select idx from audit_bundle where idx % 2 = 0');
      for (const { idx } of old.rows) {
        await tx.query('update audit_bundle set codec = $2, entries = $3 where idx = $1', [
          idx,
          PLAIN,
          encodeBundle(leaves.slice(Number(idx) * 256, Number(idx) * 256 + 256)),
        ]);
      }
    });
    assert.equal((await verifyLog(s.cw.db, vkey, [], { workers: 2 })).ok, true);
  });

  test('a forged checkpoint (signed by another key) is not accepted', async () => {
    await reset();
    const { generateSignerKey, signNote, formatCheckpoint } = await import('../src/audit/note.js');
    const { signer } = generateSignerKey('carewall.local/audit/forger');
    const head = await s.cw.audit.log.head();
    const forged = signNote(formatCheckpoint({ origin: 'carewall.local/audit/forger', size: head.size, root: head.root }), signer);
    const report = await verify([{ source: 'forged', note: forged }]);
    assert.equal(report.ok, false);
    assert.match(report.problems[0].message, /forged: not a checkpoint signed by this log's key/);
  });
});
