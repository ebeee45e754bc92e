/**
 * A write's audit records are staged in the write's own transaction and moved into the log's tree
 * once it has committed (audit/log.ts says why). What a clinic relies on: no write without its
 * record, none recorded that did not happen, no write waiting for another to commit, and records
 * a crash left staged reaching the tree at the next start.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Resource } from '@medplum/fhirtypes';
import { SYSTEM } from '../src/shared/index.js';
import { openCarewall } from '../src/runtime.js';
import { createLogger } from '../src/log.js';
import { decodeLeaf, encodeLeaf } from '../src/audit/record.js';
import { verifyLog } from '../src/audit/verify.js';
import { call, prepareInstallation, startTestServer, type TestServer } from './helpers/harness.js';
import { observation } from './helpers/fixtures.js';

const staged = async (s: TestServer) => (await s.cw.db.query<{ n: number }>('select count(*)::int as n from audit_pending')).rows[0].n;

describe('write records staged with the write', () => {
  let s: TestServer;
  let doctor: string;
  let patientId: string;
  before(async () => {
    s = await startTestServer({ audit: { intervalSeconds: 0 } });
    doctor = await s.login(['physician'], 'dr-staged');
    const patient = await s.cw.fhir.create(SYSTEM, 'Patient', {
      resourceType: 'Patient',
      name: [{ family: 'Stagedale' }],
      generalPractitioner: [{ reference: s.practitionerOf(doctor) }],
    });
    patientId = patient.resource!.id!;
  });
  after(() => s?.close());

  test('a write returns with its record in the tree, and nothing left staged', async () => {
    const before = (await s.cw.audit.log.head()).size;
    const created = await call(s.url, 'POST', '/fhir/Observation', { token: doctor, body: observation(patientId) });
    assert.equal(created.status, 201);
    const head = await s.cw.audit.log.head();
    const records = (await s.cw.audit.log.leaves(before, head.size)).map((l) => decodeLeaf(l.leaf));
    const mine = records.filter((r) => r.resource?.id === created.body.id);
    assert.deepEqual(
      mine.map((r) => [r.action, r.outcome, r.user?.username, r.patient]),
      [['create', 'success', 'dr-staged', patientId]],
    );
    assert.equal(await staged(s), 0);
  });

  test('a write whose transaction fails after its records were staged leaves neither the resource nor a record', async () => {
    const before = (await s.cw.audit.log.head()).size;
    let failNext = true;
    // After the audit's own hook: the records are staged when this one throws.
    s.cw.fhir.transactionHooks.push({
      begin: () => undefined,
      beforeCommit: async () => {
        if (failNext) {
          failNext = false;
          throw new Error('the disk filled up');
        }
      },
    });
    try {
      const body = { ...observation(patientId), valueString: 'never stored' } as Resource;
      await assert.rejects(s.cw.fhir.create(SYSTEM, 'Observation', body), /disk filled up/);
    } finally {
      s.cw.fhir.transactionHooks.pop();
    }
    assert.equal(await staged(s), 0);
    // Another write: its batch would carry anything left staged.
    assert.equal((await call(s.url, 'POST', '/fhir/Observation', { token: doctor, body: observation(patientId) })).status, 201);
    const records = (await s.cw.audit.log.leaves(before, (await s.cw.audit.log.head()).size)).map((l) => decodeLeaf(l.leaf));
    assert.equal(records.filter((r) => r.action === 'create').length, 1, 'only the write that happened is recorded');
    const stored = await s.cw.db.query<{ n: number }>(
      `select count(*)::int as n from records_version where resource_type = 'Observation' and patient_id = $1`,
      [patientId],
    );
    assert.equal(stored.rows[0].n, 2);
  });

  test('while the tree cannot be written, a write that committed keeps its record staged; the next append moves it', async () => {
    const before = (await s.cw.audit.log.head()).size;
    await s.cw.db.exec('alter table audit_entry_batch rename to audit_entry_away');
    let id: string;
    try {
      const created = await call(s.url, 'POST', '/fhir/Observation', { token: doctor, body: observation(patientId) });
      // The write happened and its record is as durable as it: failing it now would invite a duplicate.
      assert.equal(created.status, 201);
      id = created.body.id as string;
      assert.equal(await staged(s), 1);
      assert.equal((await s.cw.audit.log.head()).size, before);
    } finally {
      await s.cw.db.exec('alter table audit_entry_away rename to audit_entry_batch');
    }
    await s.cw.audit.sequenceLeftovers();
    assert.equal(await staged(s), 0);
    const records = (await s.cw.audit.log.leaves(before, (await s.cw.audit.log.head()).size)).map((l) => decodeLeaf(l.leaf));
    assert.deepEqual(
      records.filter((r) => r.resource?.id === id).map((r) => r.action),
      ['create'],
    );
    await s.cw.audit.checkpoints.checkpoint();
    const report = await verifyLog(s.cw.db, await s.cw.audit.pinnedVerifierKey(), []);
    assert.equal(report.ok, true, JSON.stringify(report.problems));
  });

  test('a batch already full of other records still moves the staged ones its waiters wait for', async () => {
    const leaf = encodeLeaf({ time: new Date().toISOString(), action: 'create', outcome: 'success', explanation: { staged: 'behind a full batch' } });
    await s.cw.db.transaction((tx) => s.cw.audit.log.stageIn(tx, [leaf], [undefined]));
    // Queued in the same turn: the batch takes the 5,000 (its most) before it looks at what is staged.
    const others = Array.from({ length: 5000 }, (_, i) =>
      s.cw.audit.log.append(encodeLeaf({ time: new Date().toISOString(), action: 'test', outcome: 'success', explanation: { i } })),
    );
    await s.cw.audit.log.sequenceStaged();
    assert.equal(await staged(s), 0);
    await Promise.all(others);
  });

  test('a write does not wait for another write to commit', async (t) => {
    if (!process.env.DATABASE_URL) {
      t.skip('on the embedded database one transaction runs at a time, whatever the audit log does');
      return;
    }
    // Write A stops between staging its records and committing, until B has finished.
    let releaseA!: () => void;
    const aHeld = new Promise<void>((resolve) => (releaseA = resolve));
    let reachedA!: () => void;
    const aReached = new Promise<void>((resolve) => (reachedA = resolve));
    let holdNext = true;
    s.cw.fhir.transactionHooks.push({
      begin: () => undefined,
      beforeCommit: async () => {
        if (!holdNext) return;
        holdNext = false;
        reachedA();
        await aHeld;
      },
    });
    try {
      const a = call(s.url, 'POST', '/fhir/Observation', { token: doctor, body: observation(patientId) });
      await aReached;
      const b = call(s.url, 'POST', '/fhir/Observation', { token: doctor, body: observation(patientId) });
      // B either finishes, or is seen waiting on a lock A holds (what appending inside the write did).
      let bDone = false;
      void b.then(() => (bDone = true));
      for (;;) {
        if (bDone) break;
        const waiting = await s.cw.db.query<{ n: number }>(
          `select count(*)::int as n from pg_locks where not granted and database = (select oid from pg_database where datname = current_database())`,
        );
        assert.equal(waiting.rows[0].n, 0, 'a write waits on a lock held by another write still open');
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      const bResponse = await b;
      assert.equal(bResponse.status, 201);
      releaseA();
      const aResponse = await a;
      assert.equal(aResponse.status, 201);
      const head = await s.cw.audit.log.head();
      const records = (await s.cw.audit.log.leaves(0, head.size)).map((l) => decodeLeaf(l.leaf));
      assert.ok(records.some((r) => r.action === 'create' && r.resource?.id === aResponse.body.id));
      assert.ok(records.some((r) => r.action === 'create' && r.resource?.id === bResponse.body.id));
    } finally {
      releaseA();
      s.cw.fhir.transactionHooks.pop();
    }
  });
});

describe('records a crash left staged', () => {
  test('go into the tree when Carewall starts again, once, and the log verifies', async () => {
    const inst = await prepareInstallation({ audit: { intervalSeconds: 0 } });
    const log = createLogger('silent');
    try {
      const first = await openCarewall(inst.settings, log);
      const before = (await first.audit.log.head()).size;
      const leaf = encodeLeaf({ time: new Date().toISOString(), action: 'create', outcome: 'success', explanation: { left: 'by a crash' } });
      // A write's transaction committed; the process ended before moving its record.
      await first.db.transaction((tx) => first.audit.log.stageIn(tx, [leaf], [undefined]));
      assert.equal((await first.audit.log.head()).size, before);
      await first.close();
      const again = await openCarewall(inst.settings, log);
      try {
        const head = await again.audit.log.head();
        const moved = (await again.audit.log.leaves(before, head.size)).filter((l) => l.leaf.equals(leaf));
        assert.equal(moved.length, 1);
        assert.equal((await again.db.query<{ n: number }>('select count(*)::int as n from audit_pending')).rows[0].n, 0);
        await again.audit.checkpoints.checkpoint();
        const report = await verifyLog(again.db, await again.audit.pinnedVerifierKey(), []);
        assert.equal(report.ok, true, JSON.stringify(report.problems));
      } finally {
        await again.close();
      }
    } finally {
      await inst.cleanup();
    }
  });
});
