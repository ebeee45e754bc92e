/**
 * Identity over HTTP and against the database: login, second factor, lock-out. Sessions and account
 * administration are in identitySessions.test.ts. Runs on PGlite by default and on PostgreSQL when
 * DATABASE_URL is set.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { call, currentOtp, PASSWORD } from './helpers/harness.js';
import { GENERIC, identityFixture } from './helpers/identity.js';

const THRESHOLD = 3;

describe('identity', () => {
  // Many failed sign-ins from one address here: the address throttle (identity-attacks.test.ts) is set out of the way.
  const f = identityFixture({ lockoutThreshold: THRESHOLD, lockoutBaseMinutes: 1, loginAddressFailures: 10_000 });
  const { unique, create, login, sql, loginOk } = f;
  const raw = (text: string, contentType = 'application/json') =>
    call(f.s.url, 'POST', '/api/session', { raw: text, headers: { 'content-type': contentType } });

  describe('login', () => {
    test('success returns a token and expiry, and the token authenticates', async () => {
      const name = unique('physician');
      await create(name, ['physician']);
      const before = Date.now();
      const r = await login({ username: name, password: PASSWORD });
      assert.equal(r.status, 201);
      assert.equal(r.headers.get('cache-control'), 'no-store');
      assert.match(r.body.token, /^[A-Za-z0-9_-]{43}$/);
      const expires = Date.parse(r.body.expiresAt);
      assert.equal(new Date(expires).toISOString(), r.body.expiresAt);
      const twelveHours = 12 * 3600_000;
      assert.ok(expires > before + twelveHours - 60_000 && expires < Date.now() + twelveHours + 60_000);

      const who = await f.s.cw.identity.authenticate(r.body.token);
      assert.equal(who?.username, name);
      assert.deepEqual(who?.roles, ['physician']);
      // Authenticated but not an administrator: 403, where no token gives 401.
      assert.equal((await call(f.s.url, 'GET', '/api/users', { token: r.body.token })).status, 403);
      assert.equal((await call(f.s.url, 'GET', '/api/users')).status, 401);
    });

    test('an admin token works on the admin endpoint', async () => {
      const r = await call(f.s.url, 'GET', '/api/users', { token: f.admin });
      assert.equal(r.status, 200);
      assert.ok(r.body.users.some((u: { username: string }) => u.username === 'root-admin'));
    });

    test('usernames are case-insensitive', async () => {
      const name = unique('nurse');
      await create(name.toUpperCase(), ['nurse']);
      await loginOk(name);
      await loginOk(name.toUpperCase());
    });

    test('wrong password and unknown user give the same 401', async () => {
      const name = unique('billing');
      await create(name, ['billing']);
      const wrong = await login({ username: name, password: 'not the password at all' });
      const unknown = await login({ username: unique('nobody'), password: PASSWORD });
      const badShape = await login({ username: 'no spaces allowed', password: PASSWORD });
      for (const r of [wrong, unknown, badShape]) {
        assert.equal(r.status, 401);
        assert.deepEqual(r.body, { error: GENERIC });
      }
      assert.ok(!JSON.stringify(wrong.body).includes('not the password'));
    });

    test('malformed bodies give 400', async () => {
      assert.equal((await raw('{"username":')).status, 400);
      assert.equal((await raw('[1,2]')).status, 400);
      assert.equal((await raw('"text"')).status, 400);
      assert.equal((await raw('')).status, 400);
      assert.equal((await login({ username: 'x' })).status, 400);
      assert.equal((await login({ username: 5, password: PASSWORD })).status, 400);
      assert.equal((await login({ username: 'x', password: PASSWORD, otp: { code: 1 } })).status, 400);
      // A numeric code is taken as the digits it spells: unknown user here, so the generic 401.
      assert.equal((await login({ username: 'x', password: PASSWORD, otp: 123456 })).status, 401);
      const form = await raw(`username=x&password=${encodeURIComponent(PASSWORD)}`, 'application/x-www-form-urlencoded');
      assert.equal(form.status, 400);
      assert.ok(!JSON.stringify(form.body).includes(PASSWORD));
    });

    test('an account past its end date cannot log in', async () => {
      const name = unique('lab');
      await create(name, ['lab'], { validUntil: new Date(Date.now() - 60_000).toISOString() });
      const r = await login({ username: name, password: PASSWORD });
      assert.equal(r.status, 401);
      assert.deepEqual(r.body, { error: GENERIC });
      const later = unique('lab');
      await create(later, ['lab'], { validUntil: new Date(Date.now() + 3600_000).toISOString() });
      await loginOk(later);
    });
  });

  describe('second factor', () => {
    for (const role of ['admin', 'privacy-officer', 'security-admin'] as const) {
      test(`required for ${role}: missing, wrong and replayed codes fail`, async () => {
        const name = unique(role);
        const created = await create(name, [role]);
        assert.ok(created.totpUri, 'totpUri returned');
        const uri = new URL(created.totpUri);
        assert.equal(uri.protocol, 'otpauth:');
        assert.equal(uri.host, 'totp');
        assert.equal(decodeURIComponent(uri.pathname), `/Carewall:${name}`);
        assert.equal(uri.searchParams.get('issuer'), 'Carewall');
        assert.equal(uri.searchParams.get('algorithm'), 'SHA1');
        assert.equal(uri.searchParams.get('digits'), '6');
        assert.equal(uri.searchParams.get('period'), '30');

        const none = await login({ username: name, password: PASSWORD });
        assert.equal(none.status, 401);
        assert.deepEqual(none.body, { error: GENERIC });
        const code = currentOtp(created.totpUri);
        const wrongCode = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
        const wrong = await login({ username: name, password: PASSWORD, otp: wrongCode });
        assert.equal(wrong.status, 401);
        assert.deepEqual(wrong.body, { error: GENERIC });

        await loginOk(name, code);
        const replay = await login({ username: name, password: PASSWORD, otp: code });
        assert.equal(replay.status, 401);
        assert.deepEqual(replay.body, { error: GENERIC });
      });
    }

    test('a code from the previous step is accepted, one from minutes ago is not', async () => {
      const name = unique('security-admin');
      const created = await create(name, ['security-admin']);
      // The server's TOTP clock held at one moment: a step beginning during a call cannot make the
      // previous step's code two steps old.
      const at = Date.now();
      f.s.cw.identity.clock = { now: () => at };
      try {
        const old = currentOtp(created.totpUri!, at - 5 * 60_000);
        assert.equal((await login({ username: name, password: PASSWORD, otp: old })).status, 401);
        // The right code with a wrong password is a failure too.
        assert.equal((await login({ username: name, password: 'wrong password!!', otp: currentOtp(created.totpUri!, at) })).status, 401);
        await loginOk(name, currentOtp(created.totpUri!, at - 30_000));
      } finally {
        f.s.cw.identity.clock = Date;
      }
    });

    test('other roles need no code unless enrolled', async () => {
      const name = unique('receptionist');
      const created = await create(name, ['receptionist']);
      assert.equal(created.totpUri, undefined);
      await loginOk(name);
      const uri = await f.s.cw.identity.enrollTotp(created.id);
      assert.equal((await login({ username: name, password: PASSWORD })).status, 401);
      await loginOk(name, currentOtp(uri));
    });

    test('the same code used by two concurrent logins opens one session', async () => {
      const name = unique('privacy-officer');
      const created = await create(name, ['privacy-officer']);
      const code = currentOtp(created.totpUri!);
      const results = await Promise.all([1, 2, 3].map(() => login({ username: name, password: PASSWORD, otp: code })));
      assert.deepEqual(results.map((r) => r.status).sort(), [201, 401, 401]);
    });
  });

  describe('lock-out', () => {
    const fail = (username: string) => login({ username, password: 'definitely wrong' });

    test(`after ${THRESHOLD} failures even the right password gets 429, until the lock ends`, async () => {
      const name = unique('nurse');
      await create(name, ['nurse']);
      for (let i = 0; i < THRESHOLD; i++) assert.equal((await fail(name)).status, 401);
      const locked = await login({ username: name, password: PASSWORD });
      assert.equal(locked.status, 429);
      assert.ok(typeof locked.body.error === 'string' && !locked.body.error.includes(PASSWORD));
      const retry = Number(locked.headers.get('retry-after'));
      assert.ok(retry >= 1 && retry <= 60, `retry-after ${retry}`);
      const [row] = await sql<{ failed_count: number }>('select failed_count from identity_account where username = $1', [name]);
      assert.equal(row.failed_count, THRESHOLD);

      await sql(`update identity_account set locked_until = now() - interval '1 second' where username = $1`, [name]);
      await loginOk(name);
      const [reset] = await sql<{ failed_count: number; locked_until: unknown }>(
        'select failed_count, locked_until from identity_account where username = $1',
        [name],
      );
      assert.equal(reset.failed_count, 0);
      assert.equal(reset.locked_until, null);
    });

    test('each failure past the threshold doubles the lock, up to an hour', async () => {
      const name = unique('billing');
      await create(name, ['billing']);
      for (let i = 0; i < THRESHOLD; i++) await fail(name);
      await sql(`update identity_account set locked_until = now() - interval '1 second' where username = $1`, [name]);
      assert.equal((await fail(name)).status, 401);
      const retry = Number((await login({ username: name, password: PASSWORD })).headers.get('retry-after'));
      assert.ok(retry > 60 && retry <= 120, `retry-after ${retry}`);

      await sql(`update identity_account set failed_count = 40, locked_until = now() - interval '1 second' where username = $1`, [name]);
      await fail(name);
      const [row] = await sql<{ secs: number }>('select extract(epoch from (locked_until - now()))::float8 as secs from identity_account where username = $1', [
        name,
      ]);
      assert.ok(row.secs > 3500 && row.secs <= 3600, `locked for ${row.secs}s`);
    });

    test('a success resets the count', async () => {
      const name = unique('lab');
      await create(name, ['lab']);
      for (let round = 0; round < 3; round++) {
        for (let i = 0; i < THRESHOLD - 1; i++) assert.equal((await fail(name)).status, 401);
        await loginOk(name);
      }
    });

    test('concurrent failures are all counted', async () => {
      const name = unique('physician');
      await create(name, ['physician']);
      const results = await Promise.all(Array.from({ length: THRESHOLD }, () => fail(name)));
      assert.ok(results.every((r) => r.status === 401));
      const [row] = await sql<{ failed_count: number }>('select failed_count from identity_account where username = $1', [name]);
      assert.equal(row.failed_count, THRESHOLD);
      assert.equal((await login({ username: name, password: PASSWORD })).status, 429);
    });
  });
});
