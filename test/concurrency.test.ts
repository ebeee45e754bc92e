/**
 * No lost update: two writers holding the same version race; exactly one wins, the other gets 412.
 * On PostgreSQL the two writers are two Carewall instances sharing the database, as behind a
 * load balancer.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { buildServer } from '../src/http/server.js';
import { createLogger } from '../src/log.js';
import { loadSettings } from '../src/config.js';
import { openCarewall } from '../src/runtime.js';
import { call, startTestServer, type TestServer } from './helpers/harness.js';
import { patient, treatedBy } from './helpers/fixtures.js';
import { until } from './helpers/poll.js';
import { decodeLeaf } from '../src/audit/index.js';

let s: TestServer;
let secondUrl: string;
let closeSecond = async () => {};

before(async () => {
  s = await startTestServer();
  secondUrl = s.url;
  if (s.databaseUrl) {
    const cw2 = await openCarewall(loadSettings(s.dataDir, { DATABASE_URL: s.databaseUrl }), createLogger('silent'));
    const app2 = await buildServer(cw2);
    await app2.listen({ port: 0, host: '127.0.0.1' });
    const addr = app2.server.address();
    secondUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
    closeSecond = async () => {
      await app2.close();
      await cw2.close();
    };
  }
});
after(async () => {
  await closeSecond();
  await s.close();
});

test('two updates with the same If-Match: one 200, one 412, and the loser changed nothing', async () => {
  const token = await s.login(['physician']);
  treatedBy(s.practitionerOf(token));
  for (let round = 0; round < 5; round++) {
    const p = (await call(s.url, 'POST', '/fhir/Patient', { token, body: patient('Racer') })).body;
    const [a, b] = await Promise.all([
      call(s.url, 'PUT', `/fhir/Patient/${p.id}`, { token, body: { ...p, gender: 'male' }, headers: { 'if-match': 'W/"1"' } }),
      call(secondUrl, 'PUT', `/fhir/Patient/${p.id}`, { token, body: { ...p, gender: 'other' }, headers: { 'if-match': 'W/"1"' } }),
    ]);
    assert.deepEqual([a.status, b.status].sort(), [200, 412]);
    const winner = a.status === 200 ? 'male' : 'other';
    const now = (await call(s.url, 'GET', `/fhir/Patient/${p.id}`, { token })).body;
    assert.equal(now.gender, winner);
    assert.equal(now.meta.versionId, '2');
    assert.equal((await call(s.url, 'GET', `/fhir/Patient/${p.id}/_history`, { token })).body.total, 2);
  }
});

test('concurrent updates without If-Match are serialised: every one becomes its own version', async () => {
  const token = await s.login(['physician']);
  treatedBy(s.practitionerOf(token));
  const p = (await call(s.url, 'POST', '/fhir/Patient', { token, body: patient('Serial') })).body;
  const results = await Promise.all(
    Array.from({ length: 8 }, (_, i) =>
      call(i % 2 ? secondUrl : s.url, 'PUT', `/fhir/Patient/${p.id}`, { token, body: { ...p, birthDate: `19${10 + i}-01-01` } }),
    ),
  );
  assert.ok(results.every((r) => r.status === 200));
  const versions = results.map((r) => Number(r.body.meta.versionId)).sort((x, y) => x - y);
  assert.deepEqual(versions, [2, 3, 4, 5, 6, 7, 8, 9]);
});

test(
  "writes run side by side: one held inside its transaction does not stop another's create, and both records are in the log in commit order",
  { skip: process.env.DATABASE_URL ? false : 'the embedded database runs one transaction at a time: there is nothing to overlap' },
  async () => {
    const token = await s.login(['physician']);
    treatedBy(s.practitionerOf(token));
    // A write hook that holds the transaction of the write of one patient until released: the
    // first write is then inside its transaction, its resource rows written, its record not yet.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let holding = false;
    s.cw.fhir.writeHooks.push(async (_tx, v) => {
      if (v.resource?.resourceType === 'Patient' && (v.resource as { name?: Array<{ family?: string }> }).name?.[0]?.family === 'Heldback') {
        holding = true;
        await held;
      }
    });
    const first = call(s.url, 'POST', '/fhir/Patient', { token, body: patient('Heldback') });
    await until('the first write to be inside its transaction', () => holding);
    let secondDone: { status: number; body: { id: string } } | undefined;
    void call(s.url, 'POST', '/fhir/Patient', { token, body: patient('Sidebyside') }).then((r) => (secondDone = r));
    await until('the second create to commit while the first is held', () => secondDone !== undefined);
    assert.equal(secondDone!.status, 201);
    release();
    const firstDone = await first;
    assert.equal(firstDone.status, 201);
    const { size } = await s.cw.audit.log.head();
    const created = (await s.cw.audit.log.leaves(size - 10, size))
      .map((l) => decodeLeaf(l.leaf))
      .filter((r) => r.action === 'create' && r.resource?.type === 'Patient')
      .map((r) => r.resource?.id);
    assert.deepEqual(created, [secondDone!.body.id, firstDone.body.id], 'both creates recorded, the one that committed first first');
  },
);
