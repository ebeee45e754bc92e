/** The routes the console adds: who may call them, and what they say. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AccountList, AuditVerification, checkShape, Me, MyPatients, SecondFactorReset } from '../src/api/index.js';
import { decodeLeaf } from '../src/audit/record.js';
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

  test('the staff directory names people for those who investigate, and for nobody else', async () => {
    const officer = await s.login(['privacy-officer'], 'po-directory');
    // A practitioner's written name is how people know them.
    const doctorRef = s.practitionerOf(doctor);
    const current = (await s.cw.fhir.read(SYSTEM, 'Practitioner', doctorRef.split('/')[1])).resource;
    await s.cw.fhir.update(SYSTEM, 'Practitioner', doctorRef.split('/')[1], { ...current, name: [{ prefix: ['Dr'], given: ['Jo'], family: 'Parker' }] });
    const r = await call(s.url, 'GET', '/api/staff', { token: officer });
    assert.equal(r.status, 200);
    const parker = (
      r.body.staff as Array<{ username: string; name: string; roles: string[]; practitioner: string | null; active: boolean; accountId: string }>
    ).find((p) => p.username === 'dr-console');
    assert.deepEqual(parker && [parker.name, parker.roles, parker.practitioner, parker.active], ['Dr Jo Parker', ['physician'], doctorRef, true]);
    assert.ok(parker?.accountId);
    assert.ok(!JSON.stringify(r.body).includes('$argon2'), 'no password hash');
    assert.equal((await call(s.url, 'GET', '/api/staff', { token: admin })).status, 200);
    assert.equal((await call(s.url, 'GET', '/api/staff', { token: doctor })).status, 403);
    assert.equal((await call(s.url, 'GET', '/api/staff')).status, 401);
  });

  test('my patients lists only related patients, each with why; nothing without a session', async () => {
    const r = await call(s.url, 'GET', '/api/my-patients', { token: doctor });
    assert.equal(r.status, 200);
    // Each answer is the shape the console checks it against (src/api), as the console would see it.
    checkShape(MyPatients, r.body, '/api/my-patients');
    assert.deepEqual(
      r.body.patients.map((p: { id: string }) => p.id),
      [mine],
    );
    assert.deepEqual(r.body.patients[0].why, ['general practitioner']);
    assert.equal(r.body.patients[0].name, 'Ann Mine');
    assert.equal((await call(s.url, 'GET', '/api/my-patients')).status, 401);
    assert.equal((await call(s.url, 'GET', '/api/me')).status, 401);
    const me = await call(s.url, 'GET', '/api/me', { token: doctor });
    checkShape(Me, me.body, '/api/me');
    assert.deepEqual([me.body.username, me.body.roles, me.body.idleMinutes], ['dr-console', ['physician'], 15]);
    // The header's name is the practitioner's, as the directory test above wrote it.
    assert.equal(me.body.name, 'Dr Jo Parker');
  });

  test("a receptionist's list says why in words: the front desk's reach, not a role code", async () => {
    const desk = await s.login(['receptionist'], 'desk-why');
    const r = await call(s.url, 'GET', '/api/my-patients', { token: desk });
    assert.equal(r.status, 200);
    assert.ok(r.body.patients.length >= 2, 'the front desk sees the clinic');
    for (const p of r.body.patients as Array<{ why: string[] }>) assert.deepEqual(p.why, ["the clinic's patients, for the front desk"]);
  });

  test('resetting a second factor is for administrators, and gives a new secret', async () => {
    assert.equal((await call(s.url, 'POST', '/api/users/dr-console/second-factor', { token: doctor })).status, 403);
    assert.equal((await call(s.url, 'POST', '/api/users/nobody-here/second-factor', { token: admin })).status, 404);
    const r = await call(s.url, 'POST', '/api/users/dr-console/second-factor', { token: admin });
    assert.equal(r.status, 201);
    checkShape(SecondFactorReset, r.body, 'second-factor');
    assert.match(r.body.totpUri, /^otpauth:\/\/totp\//);
    assert.equal(r.headers.get('cache-control'), 'no-store');
    // Sessions opened with the old factor end with it.
    assert.equal((await call(s.url, 'GET', '/api/me', { token: doctor })).status, 401);
  });

  test('verifying the audit log from the console is for privacy and security staff', async () => {
    const physician = await s.login(['physician'], 'dr-verify');
    assert.equal((await call(s.url, 'POST', '/api/audit/verify', { token: physician })).status, 403);
    const security = await s.login(['security-admin'], 'sec-console');
    const r = await call(s.url, 'POST', '/api/audit/verify', { token: security, headers: { 'user-agent': 'security-desk/2' } });
    assert.equal(r.status, 200);
    checkShape(AuditVerification, r.body, '/api/audit/verify');
    assert.equal(r.body.ok, true);
    assert.ok(r.body.size > 0);
    // The verification is itself recorded, by whom and from where.
    const { size } = await s.cw.audit.log.head();
    const records = (await s.cw.audit.log.leaves(0, size)).map((l) => decodeLeaf(l.leaf));
    const verified = records.filter((rec) => rec.action === 'audit.verify' && rec.user?.username === 'sec-console');
    assert.equal(verified.length, 1);
    const last = verified[0];
    assert.equal(last.client?.userAgent, 'security-desk/2');
    assert.ok(last.requestId);
  });

  test('input that does not fit its route’s schema is refused with a 400 that says what, and changes nothing', async () => {
    const users = async () =>
      checkShape(AccountList, (await call(s.url, 'GET', '/api/users', { token: admin })).body, '/api/users').users.map((u) => u.username);
    const physician = await s.login(['physician'], 'dr-schema');
    const before = await users();
    const good = { username: 'new-clerk', password: 'a long enough passphrase 1', roles: ['receptionist'] };
    const refused = async (body: unknown, message: RegExp, token = admin, status = 400) => {
      const r = await call(s.url, 'POST', '/api/users', { token, body, headers: { 'content-type': 'application/json' } });
      assert.equal(r.status, status, JSON.stringify(r.body));
      assert.match(r.body.error, message);
    };
    // A misspelt field is refused, not dropped (Fastify's default would remove it and go on).
    await refused(
      { ...good, practioner: 'Practitioner/x' },
      /^body has an unknown field; allowed: username, password, roles, practitioner, validUntil, requireTotp$/,
    );
    // A number is not taken for a string (nor the reverse): no coercion.
    await refused({ ...good, password: 123456789012345 }, /^body field password must be a string$/);
    await refused({ ...good, requireTotp: 'yes' }, /^body field requireTotp must be true or false$/);
    await refused({ ...good, roles: 'receptionist' }, /^body field roles must be a list$/);
    await refused({ username: good.username, roles: good.roles }, /^body is missing the required field password$/);
    // Who may call it is asked first: a physician learns nothing of what would have been accepted.
    await refused({ ...good, practioner: 'x' }, /^access denied$/, physician, 403);
    assert.deepEqual(await users(), before);
    assert.equal(await s.cw.identity.describeAccount(good.username), undefined);

    // A sign-in code is digits, as a string or a number; nothing else reaches the identity service.
    const login = await call(s.url, 'POST', '/api/session', { body: { username: 'dr-console', password: 'x', otp: { code: 1 } } });
    assert.equal(login.status, 400);
    assert.equal(login.body.error, 'body field otp must be a string or a whole number or null');
    // A query's fixed words are listed (Carewall's words, not the caller's).
    const officer = await s.login(['privacy-officer'], 'po-console');
    const list = await call(s.url, 'GET', '/api/break-glass?status=everything', { token: officer });
    assert.equal(list.status, 400);
    assert.equal(list.body.error, 'querystring field status must be one of "unreviewed", "reviewed", "all"');
    assert.doesNotMatch(list.body.error, /everything/);
  });
});
