/** The routes the console adds: who may call them, and what they say. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SYSTEM } from '../src/shared/index.js';
import { call, startTestServer, type TestServer } from './helpers/harness.js';

describe('console routes', () => {
  let s: TestServer;
  let doctor: string;
  let admin: string;
  let mine = '';
  before(async () => {
    s = await startTestServer();
    doctor = await s.login(['physician'], 'dr-console');
    admin = await s.login(['admin'], 'admin-console');
    mine = (
      await s.cw.fhir.create(SYSTEM, 'Patient', {
        resourceType: 'Patient',
        name: [{ family: 'Mine', given: ['Ann'] }],
        generalPractitioner: [{ reference: s.practitionerOf(doctor) }],
      })
    ).id;
    await s.cw.fhir.create(SYSTEM, 'Patient', { resourceType: 'Patient', name: [{ family: 'Other' }] });
  });
  after(() => s?.close());

  test('my patients lists only related patients, each with why; nothing without a session', async () => {
    const r = await call(s.url, 'GET', '/api/my-patients', { token: doctor });
    assert.equal(r.status, 200);
    assert.deepEqual(
      r.body.patients.map((p: { id: string }) => p.id),
      [mine],
    );
    assert.deepEqual(r.body.patients[0].why, ['general practitioner']);
    assert.equal(r.body.patients[0].name, 'Ann Mine');
    assert.equal((await call(s.url, 'GET', '/api/my-patients')).status, 401);
    assert.equal((await call(s.url, 'GET', '/api/me')).status, 401);
    const me = await call(s.url, 'GET', '/api/me', { token: doctor });
    assert.deepEqual([me.body.username, me.body.roles, me.body.idleMinutes], ['dr-console', ['physician'], 15]);
  });

  test('resetting a second factor is for administrators, and gives a new secret', async () => {
    assert.equal((await call(s.url, 'POST', '/api/users/dr-console/second-factor', { token: doctor })).status, 403);
    assert.equal((await call(s.url, 'POST', '/api/users/nobody-here/second-factor', { token: admin })).status, 404);
    const r = await call(s.url, 'POST', '/api/users/dr-console/second-factor', { token: admin });
    assert.equal(r.status, 201);
    assert.match(r.body.totpUri, /^otpauth:\/\/totp\//);
    assert.equal(r.headers.get('cache-control'), 'no-store');
    // Sessions opened with the old factor end with it.
    assert.equal((await call(s.url, 'GET', '/api/me', { token: doctor })).status, 401);
  });

  test('verifying the audit log from the console is for privacy and security staff', async () => {
    const physician = await s.login(['physician'], 'dr-verify');
    assert.equal((await call(s.url, 'POST', '/api/audit/verify', { token: physician })).status, 403);
    const security = await s.login(['security-admin'], 'sec-console');
    const r = await call(s.url, 'POST', '/api/audit/verify', { token: security });
    assert.equal(r.status, 200);
    assert.equal(r.body.ok, true);
    assert.ok(r.body.size > 0);
  });
});
