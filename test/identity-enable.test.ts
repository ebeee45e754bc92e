/**
 * A disabled account enabled again: an administrator's decision, recorded in the audit log; refused
 * for an account that is not disabled, and while another active account acts as its practitioner.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SYSTEM } from '../src/shared/index.js';
import { call, PASSWORD, startTestServer, type TestServer } from './helpers/harness.js';

describe('enabling a disabled account', () => {
  let s: TestServer;
  let admin: string;
  const signIn = (username: string) => call(s.url, 'POST', '/api/session', { body: { username, password: PASSWORD } });
  before(async () => {
    s = await startTestServer();
    admin = await s.login(['admin'], 'admin-enable');
    await s.cw.identity.createAccount({ username: 'clerk-away', password: PASSWORD, roles: ['billing'] });
  });
  after(() => s?.close());

  test('only an administrator enables; nobody signed out; an unknown account is 404, an active one 409', async () => {
    assert.equal((await call(s.url, 'POST', '/api/users/clerk-away/enable')).status, 401);
    const nurse = await s.login(['nurse']);
    assert.equal((await call(s.url, 'POST', '/api/users/clerk-away/enable', { token: nurse })).status, 403);
    assert.equal((await call(s.url, 'POST', '/api/users/nobody-here/enable', { token: admin })).status, 404);
    const active = await call(s.url, 'POST', '/api/users/clerk-away/enable', { token: admin });
    assert.equal(active.status, 409);
    assert.match(JSON.stringify(active.body), /not disabled/);
  });

  test('disabled, then enabled again: signing in works again, and both are in the audit log', async () => {
    assert.equal((await call(s.url, 'POST', '/api/users/clerk-away/disable', { token: admin })).status, 204);
    assert.equal((await signIn('clerk-away')).status, 401);
    assert.equal((await call(s.url, 'POST', '/api/users/clerk-away/enable', { token: admin })).status, 204);
    assert.equal((await signIn('clerk-away')).status, 201);
    const users = await call(s.url, 'GET', '/api/users', { token: admin });
    assert.equal(users.body.users.find((u: { username: string }) => u.username === 'clerk-away').disabled, false);
    const records = await s.cw.audit.search({ actions: ['user.enable'], count: 10, offset: 0 });
    assert.equal(records.total, 1);
    assert.deepEqual([records.entries[0].record.outcome, records.entries[0].record.user?.username], ['success', 'admin-enable']);
  });

  test('refused while another active account acts as the same practitioner', async () => {
    const p = await s.cw.fhir.create(SYSTEM, 'Practitioner', { resourceType: 'Practitioner', name: [{ family: 'Twice' }] });
    const ref = `Practitioner/${p.id}`;
    await s.cw.identity.createAccount({ username: 'dr-old', password: PASSWORD, roles: ['physician'], practitioner: ref });
    await s.cw.identity.disableAccount('dr-old');
    const adminWho = (await s.cw.identity.describeAccount('admin-enable'))!.who;
    await s.cw.identity.createAccount({ username: 'dr-new', password: PASSWORD, roles: ['physician'], practitioner: ref }, { who: adminWho });
    await s.cw.identity.decideBinding('dr-new', true);
    const r = await call(s.url, 'POST', '/api/users/dr-old/enable', { token: admin });
    assert.equal(r.status, 409);
    assert.match(JSON.stringify(r.body), /another active account/);
  });
});
