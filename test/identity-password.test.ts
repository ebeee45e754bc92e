/**
 * A person changes their own password (POST /api/session/password): the current password is
 * required, a wrong one counts towards the lockout and is recorded, the new one follows the password
 * rules, and once changed the old password opens nothing and every other session ends.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeLeaf } from '../src/audit/index.js';
import { call, PASSWORD } from './helpers/harness.js';
import { GENERIC, identityFixture } from './helpers/identity.js';

const NEW_PASSWORD = 'a fresh passphrase for the ward';

describe('changing one’s own password', () => {
  const f = identityFixture({ lockoutThreshold: 3, lockoutBaseMinutes: 1, loginAddressFailures: 10_000 });
  const change = (token: string, body: unknown) => call(f.s.url, 'POST', '/api/session/password', { token, body });
  const records = async (username: string) => {
    const { size } = await f.s.cw.audit.log.head();
    return (await f.s.cw.audit.log.leaves(0, size)).map((l) => decodeLeaf(l.leaf)).filter((r) => r.action === 'user.password' && r.user?.username === username);
  };

  test('with the current password: the new one signs in, the old one no longer does, other sessions end and this one stays', async () => {
    const name = f.unique('nurse');
    await f.create(name, ['nurse']);
    const here = await f.loginOk(name);
    const elsewhere = await f.loginOk(name);
    assert.equal((await call(f.s.url, 'GET', '/api/me', { token: elsewhere })).status, 200, 'in use (and known to the session cache) before the change');
    const r = await change(here, { currentPassword: PASSWORD, newPassword: NEW_PASSWORD });
    assert.equal(r.status, 204, JSON.stringify(r.body));
    assert.equal((await f.login({ username: name, password: PASSWORD })).status, 401, 'the old password opens nothing');
    assert.equal((await f.login({ username: name, password: NEW_PASSWORD })).status, 201);
    assert.equal((await call(f.s.url, 'GET', '/api/me', { token: elsewhere })).status, 401, 'the session elsewhere ended');
    assert.equal((await call(f.s.url, 'GET', '/api/me', { token: here })).status, 200, 'this session stays');
    const recorded = await records(name);
    assert.deepEqual(
      recorded.map((x) => x.outcome),
      ['success'],
    );
    assert.ok(!JSON.stringify(recorded).includes(NEW_PASSWORD) && !JSON.stringify(recorded).includes(PASSWORD), 'no password in the log');
  });

  test('a wrong current password changes nothing, is recorded, counts towards the lockout, and is not echoed', async () => {
    const name = f.unique('physician');
    await f.create(name, ['physician']);
    const token = await f.loginOk(name);
    const wrong = await change(token, { currentPassword: 'not my password at all', newPassword: NEW_PASSWORD });
    assert.equal(wrong.status, 403);
    assert.equal(wrong.body.error, 'the current password is not right');
    assert.ok(!JSON.stringify(wrong.body).includes('not my password at all') && !JSON.stringify(wrong.body).includes(NEW_PASSWORD));
    assert.equal((await f.login({ username: name, password: PASSWORD })).status, 201, 'the password is unchanged');
    assert.deepEqual(
      (await records(name)).map((x) => [x.outcome, (x.explanation as { reason?: string }).reason]),
      [['denied', 'wrong current password']],
    );
    // A session left open is not a way to guess the password: the failures lock the account as sign-ins do.
    // (The successful sign-in above cleared the count: three wrong attempts from here.)
    for (let i = 0; i < 3; i++) assert.equal((await change(token, { currentPassword: `guess ${i} of the password`, newPassword: NEW_PASSWORD })).status, 403);
    assert.equal((await change(token, { currentPassword: PASSWORD, newPassword: NEW_PASSWORD })).status, 429, 'locked, even for the right one');
    const signIn = await f.login({ username: name, password: PASSWORD });
    assert.equal(signIn.status, 429);
    assert.notEqual(signIn.body.error, GENERIC, 'told it is locked, not that the password is wrong');
  });

  test('the new password follows the rules and differs from the current one; bad bodies and no session are refused', async () => {
    const name = f.unique('receptionist');
    await f.create(name, ['receptionist']);
    const token = await f.loginOk(name);
    const short = await change(token, { currentPassword: PASSWORD, newPassword: 'short' });
    assert.equal(short.status, 400);
    assert.match(short.body.error, /at least 10 characters/);
    assert.equal((await change(token, { currentPassword: PASSWORD, newPassword: PASSWORD })).status, 400, 'the same password again');
    assert.equal((await change(token, { currentPassword: PASSWORD })).status, 400, 'no new password');
    assert.equal((await change(token, { currentPassword: 12345, newPassword: NEW_PASSWORD })).status, 400, 'not text');
    assert.equal((await call(f.s.url, 'POST', '/api/session/password', { body: { currentPassword: PASSWORD, newPassword: NEW_PASSWORD } })).status, 401);
    assert.equal((await f.login({ username: name, password: PASSWORD })).status, 201, 'nothing changed');
  });
});
