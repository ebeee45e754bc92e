/** Encryption at rest: bodies are sealed per patient, bound to their row, and keys rotate while serving. */
import assert from 'node:assert/strict';
import { SYSTEM } from '../src/shared/index.js';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadSettings } from '../src/config.js';
import { createLogger } from '../src/log.js';
import { openCarewall } from '../src/runtime.js';
import { rotateMasterKey } from '../src/keys/rotate.js';
import { Keyring, patientScope } from '../src/keys/keyring.js';
import { loadMasterKeys } from '../src/keys/masterKeys.js';
import { call, startTestServer, type TestServer } from './helpers/harness.js';
import { observation, patient, treatedBy } from './helpers/fixtures.js';
import { until } from './helpers/poll.js';

describe('encryption at rest', () => {
  let s: TestServer;
  let token: string;
  before(async () => {
    s = await startTestServer();
    token = await s.login(['physician']);
    treatedBy(s.practitionerOf(token));
  });
  after(() => s.close());

  test('bodies are ciphertext under a per-patient key; search columns hold no readable values', async () => {
    const p = (await call(s.url, 'POST', '/fhir/Patient', { token, body: patient('Plaintextcheck', 'Wilhelmina') })).body;
    const p2 = (await call(s.url, 'POST', '/fhir/Patient', { token, body: patient('Otherpatient') })).body;
    const rows = await s.cw.db.query<{ body: Uint8Array; key_scope: string }>(
      "select body, key_scope from records_version where resource_type = 'Patient' and id = any($1)",
      [[p.id, p2.id]],
    );
    assert.equal(rows.rows.length, 2);
    assert.notEqual(rows.rows[0].key_scope, rows.rows[1].key_scope, 'each patient has a data key of their own');
    for (const r of rows.rows) {
      const text = Buffer.from(r.body).toString('latin1');
      assert.ok(!text.includes('Plaintextcheck') && !text.includes('Wilhelmina') && !text.includes('1961-04-23') && !text.includes('resourceType'));
    }
    const tokens = await s.cw.db.query<{ hash: Uint8Array }>('select hash from records_token where id = $1', [p.id]);
    assert.ok(tokens.rows.length > 5);
    for (const t of tokens.rows) assert.equal(t.hash.length, 16);
    const wrapped = await s.cw.db.query<{ wrapped: Uint8Array }>('select wrapped from keys_data_key');
    assert.ok(
      wrapped.rows.every((r) => r.wrapped.length === 1 + 12 + 32 + 16),
      'data keys are stored wrapped, never raw',
    );
  });

  test('an altered body, or a body moved onto another record, is refused rather than served', async () => {
    const a = (await call(s.url, 'POST', '/fhir/Patient', { token, body: patient('Tampered') })).body;
    const b = (await call(s.url, 'POST', '/fhir/Patient', { token, body: patient('Victim') })).body;
    // Byte 20 flipped to another value (overwriting it with a constant missed whenever it was that constant already).
    await s.cw.db.query("update records_version set body = set_byte(body, 19, 255 - get_byte(body, 19)) where resource_type = 'Patient' and id = $1", [a.id]);
    const altered = await call(s.url, 'GET', `/fhir/Patient/${a.id}`, { token });
    assert.equal(altered.status, 500);
    assert.equal(altered.body.resourceType, 'OperationOutcome');
    // Same patient key, so only the binding to type/id/version stops this: give b's row a version-2 copy of itself.
    await s.cw.db.query(
      `insert into records_version (resource_type, id, version_id, last_updated, deleted, patient_id, key_scope, body)
       select resource_type, id, 2, last_updated, deleted, patient_id, key_scope, body from records_version where resource_type = 'Patient' and id = $1 and version_id = 1`,
      [b.id],
    );
    await s.cw.db.query("update records_resource set version_id = 2 where resource_type = 'Patient' and id = $1", [b.id]);
    assert.equal((await call(s.url, 'GET', `/fhir/Patient/${b.id}`, { token })).status, 500);
  });

  test('keys rotate: every data key is re-wrapped under a new master key, the old key leaves the key file, records stay readable', async () => {
    const p = (await call(s.url, 'POST', '/fhir/Patient', { token, body: patient('Rotation') })).body;
    await call(s.url, 'POST', '/fhir/Observation', { token, body: observation(p.id) });
    const keyFile = path.join(s.dataDir, 'master.key');
    const before = JSON.parse(fs.readFileSync(keyFile, 'utf8'));
    const result = await rotateMasterKey(s.cw.keyring, s.dataDir);
    const afterFile = JSON.parse(fs.readFileSync(keyFile, 'utf8'));
    assert.notEqual(afterFile.current, before.current);
    assert.deepEqual(Object.keys(afterFile.keys), [afterFile.current]);
    assert.equal(fs.statSync(keyFile).mode & 0o777, 0o600);
    assert.ok(result.rewrapped >= 3);
    const ids = await s.cw.db.query<{ master_key_id: string }>('select distinct master_key_id from keys_data_key');
    assert.deepEqual(
      ids.rows.map((r) => r.master_key_id),
      [afterFile.current],
    );
    // The running server still serves, and a fresh process (no cached keys) can read with the new file only.
    assert.equal((await call(s.url, 'GET', `/fhir/Patient/${p.id}`, { token })).status, 200);
    if (s.databaseUrl) {
      const other = await openCarewall(loadSettings(s.dataDir, { DATABASE_URL: s.databaseUrl }), createLogger('silent'));
      try {
        const v = await other.fhir.read(SYSTEM, 'Patient', p.id);
        assert.equal((v.resource as any).name[0].family, 'Rotation');
      } finally {
        await other.close();
      }
    }
  });
});

test('a wrong master key opens nothing', async () => {
  const s = await startTestServer();
  await s.cw.close();
  process.env.CAREWALL_MASTER_KEY = Buffer.alloc(32, 7).toString('base64');
  try {
    await assert.rejects(openCarewall(loadSettings(s.dataDir, { DATABASE_URL: s.databaseUrl }), createLogger('silent')), /master key|failed authentication/);
  } finally {
    delete process.env.CAREWALL_MASTER_KEY;
    await s.close().catch(() => undefined);
  }
});

test('patient keys held in memory: the least recently used go first, the shared keys never', async () => {
  const s = await startTestServer();
  try {
    // A keyring holding two patients' keys, on the server's database and master key.
    const keyring = new Keyring(s.cw.db, loadMasterKeys(s.dataDir), s.dataDir, { patientKeysCached: 2 });
    await keyring.init();
    await keyring.ensure([patientScope('p1'), patientScope('p2')]);
    const p2Key = Buffer.from(keyring.cached(patientScope('p2')));
    keyring.cached(patientScope('p1')); // p1 used again: p2 is now the least recently used
    await keyring.ensure([patientScope('p3')]);
    assert.ok(keyring.cached(patientScope('p1')));
    assert.ok(keyring.cached(patientScope('p3')));
    assert.throws(() => keyring.cached(patientScope('p2')), /not loaded/);
    // The general key outlives any number of patients.
    await keyring.ensure([patientScope('p4'), patientScope('p5')]);
    assert.ok(keyring.openGeneral(keyring.sealGeneral('kept', 'ctx'), 'ctx').toString() === 'kept');
    // An evicted key is read again, the same key as before.
    await keyring.ensure([patientScope('p2')]);
    assert.deepEqual(keyring.cached(patientScope('p2')), p2Key);
  } finally {
    await s.close();
  }
});

test(
  'two processes making the same new patient key at once end up with the one key stored',
  { skip: process.env.DATABASE_URL ? false : 'the embedded database runs one transaction at a time: the two cannot overlap' },
  async () => {
    const s = await startTestServer();
    try {
      const first = new Keyring(s.cw.db, loadMasterKeys(s.dataDir), s.dataDir);
      const second = new Keyring(s.cw.db, loadMasterKeys(s.dataDir), s.dataDir);
      await first.init();
      await second.init();
      const scope = patientScope('raced-patient');
      // The first stores the key in a transaction still open when the second asks for it: the
      // second's insert waits for that commit, and the stored key is not in its statement's view.
      let commit!: () => void;
      const open = new Promise<void>((r) => (commit = r));
      let stored!: () => void;
      const inside = new Promise<void>((r) => (stored = r));
      const firstDone = s.cw.db.transaction(async (tx) => {
        await first.ensureWithin(tx, [scope]);
        stored();
        await open;
      });
      await inside;
      const secondDone = second.ensure([scope]);
      await until('the second to wait for the first to commit', async () => {
        const waiting = await s.cw.db.query<{ n: number }>(
          "select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and query like '%insert into keys_data_key%'",
        );
        return waiting.rows[0].n > 0;
      });
      commit();
      await firstDone;
      await secondDone;
      assert.deepEqual(second.cached(scope), first.cached(scope), 'the same key in both');
    } finally {
      await s.close();
    }
  },
);
