/**
 * Identity over HTTP and against the database: login, second factor, lock-out, sessions, account
 * administration. Runs on PGlite by default and on PostgreSQL when DATABASE_URL is set.
 */
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Secret } from 'otpauth';
import { GENERAL_SCOPE } from '../src/keys/keyring.js';
import { open } from '../src/keys/envelope.js';
import type { Role } from '../src/access/authorize.js';
import { call, currentOtp, PASSWORD, startTestServer, type TestServer } from './helpers/harness.js';

const GENERIC = 'invalid username, password or code';
const THRESHOLD = 3;

describe('identity', () => {
  let s: TestServer;
  let admin: string;
  let n = 0;

  before(async () => {
    s = await startTestServer({ lockoutThreshold: THRESHOLD, lockoutBaseMinutes: 1 });
    admin = await s.login(['admin'], 'root-admin');
  });
  after(async () => {
    await s?.close();
  });

  const unique = (prefix: string) => `${prefix}-${++n}`;
  const create = (username: string, roles: Role[], extra: { validUntil?: string; practitioner?: string; requireTotp?: boolean } = {}) =>
    s.cw.identity.createAccount({ username, password: PASSWORD, roles, ...extra });
  const login = (body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
    call(s.url, 'POST', '/api/session', { body, headers });
  const raw = (text: string, contentType = 'application/json') =>
    call(s.url, 'POST', '/api/session', { raw: text, headers: { 'content-type': contentType } });
  const sql = <T = Record<string, unknown>>(q: string, params: unknown[] = []) => s.cw.db.query<T>(q, params).then((r) => r.rows);
  const loginOk = async (username: string, otp?: string) => {
    const r = await login({ username, password: PASSWORD, otp });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body.token as string;
  };
  const tokenHash = (token: string) => crypto.createHash('sha256').update(token).digest();

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

      const who = await s.cw.identity.authenticate(r.body.token);
      assert.equal(who?.username, name);
      assert.deepEqual(who?.roles, ['physician']);
      // Authenticated but not an administrator: 403, where no token gives 401.
      assert.equal((await call(s.url, 'GET', '/api/users', { token: r.body.token })).status, 403);
      assert.equal((await call(s.url, 'GET', '/api/users')).status, 401);
    });

    test('an admin token works on the admin endpoint', async () => {
      const r = await call(s.url, 'GET', '/api/users', { token: admin });
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
      assert.equal((await login({ username: 'x', password: PASSWORD, otp: 123456 })).status, 400);
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
      const old = currentOtp(created.totpUri!, Date.now() - 5 * 60_000);
      assert.equal((await login({ username: name, password: PASSWORD, otp: old })).status, 401);
      // The right code with a wrong password is a failure too.
      assert.equal((await login({ username: name, password: 'wrong password!!', otp: currentOtp(created.totpUri!) })).status, 401);
      await loginOk(name, currentOtp(created.totpUri!, Date.now() - 30_000));
    });

    test('other roles need no code unless enrolled', async () => {
      const name = unique('receptionist');
      const created = await create(name, ['receptionist']);
      assert.equal(created.totpUri, undefined);
      await loginOk(name);
      const uri = await s.cw.identity.enrollTotp(created.id);
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
      const [row] = await sql<{ secs: number }>(
        'select extract(epoch from (locked_until - now()))::float8 as secs from identity_account where username = $1',
        [name],
      );
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

  describe('sessions', () => {
    const newSession = async (roles: Role[] = ['physician']) => {
      const name = unique(roles[0]);
      await create(name, roles);
      return { name, token: await loginOk(name) };
    };

    test('logout ends the session', async () => {
      const { token } = await newSession();
      assert.equal((await call(s.url, 'DELETE', '/api/session', { token })).status, 204);
      assert.equal(await s.cw.identity.authenticate(token), null);
      assert.equal((await call(s.url, 'DELETE', '/api/session', { token })).status, 401);
      assert.equal((await call(s.url, 'DELETE', '/api/session')).status, 401);
    });

    test('only the SHA-256 of the token is stored', async () => {
      const { token } = await newSession();
      const rows = await sql<{ n: number }>('select count(*)::int as n from identity_session where token_hash = $1', [tokenHash(token)]);
      assert.equal(rows[0].n, 1);
      const dump = await sql<{ t: string }>('select row_to_json(s)::text as t from identity_session s');
      assert.ok(dump.every((r) => !r.t.includes(token)));
    });

    test('forged, malformed and hash-as-token tokens are rejected', async () => {
      const { token } = await newSession(['admin']).catch(() => ({ token: admin }));
      const forged = [
        crypto.randomBytes(32).toString('base64url'),
        'abc',
        'x'.repeat(5000),
        tokenHash(token).toString('base64url'),
        tokenHash(token).toString('hex'),
        token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A'),
      ];
      for (const t of forged) {
        assert.equal(await s.cw.identity.authenticate(t), null);
        assert.equal((await call(s.url, 'GET', '/api/users', { token: t })).status, 401);
      }
    });

    test('disabling an account ends its live sessions at once and blocks login', async () => {
      const { name, token } = await newSession();
      const second = await loginOk(name);
      assert.ok(await s.cw.identity.authenticate(token));
      const r = await call(s.url, 'POST', `/api/users/${name}/disable`, { token: admin });
      assert.equal(r.status, 204);
      assert.equal(await s.cw.identity.authenticate(token), null);
      assert.equal(await s.cw.identity.authenticate(second), null);
      assert.equal((await call(s.url, 'DELETE', '/api/session', { token })).status, 401);
      const open = await sql<{ n: number }>(
        'select count(*)::int as n from identity_session s join identity_account a on a.id = s.account_id where a.username = $1 and s.revoked_at is null',
        [name],
      );
      assert.equal(open[0].n, 0);
      const again = await login({ username: name, password: PASSWORD });
      assert.equal(again.status, 401);
      assert.deepEqual(again.body, { error: GENERIC });
    });

    test('a token of a disabled user is rejected even if its session row were live', async () => {
      const { name, token } = await newSession();
      await s.cw.identity.disableAccount(name);
      await sql('update identity_session set revoked_at = null where token_hash = $1', [tokenHash(token)]);
      assert.equal(await s.cw.identity.authenticate(token), null);
    });

    test('an account reaching its end date loses its sessions', async () => {
      const { name, token } = await newSession();
      await sql(`update identity_account set valid_until = now() - interval '1 second' where username = $1`, [name]);
      assert.equal(await s.cw.identity.authenticate(token), null);
      assert.equal((await call(s.url, 'DELETE', '/api/session', { token })).status, 401);
    });

    test('an idle session ends; a used one is kept alive', async () => {
      const { token } = await newSession();
      const h = tokenHash(token);
      // Stale enough to be refreshed, well inside the 15-minute idle limit.
      await sql(`update identity_session set last_seen = now() - interval '5 minutes' where token_hash = $1`, [h]);
      assert.ok(await s.cw.identity.authenticate(token));
      const [seen] = await sql<{ age: number }>('select extract(epoch from (now() - last_seen))::float8 as age from identity_session where token_hash = $1', [h]);
      assert.ok(seen.age < 60, `last_seen refreshed (age ${seen.age}s)`);

      await sql(`update identity_session set last_seen = now() - interval '16 minutes' where token_hash = $1`, [h]);
      assert.equal(await s.cw.identity.authenticate(token), null);
      assert.equal((await call(s.url, 'DELETE', '/api/session', { token })).status, 401);
    });

    test('a session ends at its absolute lifetime however much it is used', async () => {
      const { token } = await newSession();
      await sql(`update identity_session set expires_at = now() - interval '1 second', last_seen = now() where token_hash = $1`, [tokenHash(token)]);
      assert.equal(await s.cw.identity.authenticate(token), null);
    });
  });

  describe('account administration', () => {
    const post = (body: unknown, token: string | null = admin) =>
      call(s.url, 'POST', '/api/users', { token: token ?? undefined, body, headers: { 'content-type': 'application/json' } });

    test('an admin creates accounts; security-admin gets a TOTP URI', async () => {
      const name = unique('sec');
      const r = await post({ username: name, password: PASSWORD, roles: ['security-admin'] });
      assert.equal(r.status, 201);
      assert.deepEqual(Object.keys(r.body).sort(), ['id', 'practitioner', 'roles', 'totpUri', 'username']);
      assert.equal(r.body.username, name);
      assert.deepEqual(r.body.roles, ['security-admin']);
      assert.equal(r.body.practitioner, null);
      assert.match(r.body.totpUri, /^otpauth:\/\/totp\//);
      await loginOk(name, currentOtp(r.body.totpUri));

      const doc = unique('doc');
      const d = await post({ username: doc, password: PASSWORD, roles: ['physician', 'nurse'], practitioner: 'Practitioner/abc-1' });
      assert.equal(d.status, 201);
      assert.equal(d.body.totpUri, undefined);
      assert.equal(d.body.practitioner, 'Practitioner/abc-1');
      const token = await loginOk(doc);
      assert.equal((await s.cw.identity.authenticate(token))?.practitioner, 'Practitioner/abc-1');
    });

    test('non-admins get 403 and anonymous callers 401, whatever the body', async () => {
      const nurse = await s.login(['nurse']);
      const body = { username: unique('x'), password: PASSWORD, roles: ['admin'] };
      assert.equal((await post(body, nurse)).status, 403);
      assert.equal((await post({ nonsense: true }, nurse)).status, 403);
      assert.equal((await post(body, null)).status, 401);
      assert.equal((await call(s.url, 'GET', '/api/users', { token: nurse })).status, 403);
      assert.equal((await call(s.url, 'POST', '/api/users/root-admin/disable', { token: nurse })).status, 403);
      assert.equal((await call(s.url, 'POST', '/api/users/root-admin/disable')).status, 401);
      assert.ok(await s.cw.identity.authenticate(admin), 'the admin was not disabled');
    });

    test('duplicates give 409, case-insensitively', async () => {
      const name = unique('dup');
      assert.equal((await post({ username: name, password: PASSWORD, roles: ['lab'] })).status, 201);
      assert.equal((await post({ username: name, password: PASSWORD, roles: ['lab'] })).status, 409);
      assert.equal((await post({ username: name.toUpperCase(), password: PASSWORD, roles: ['nurse'] })).status, 409);
    });

    test('invalid input gives 400 without echoing the password', async () => {
      const secretish = 'short-pw';
      const cases: unknown[] = [
        { username: unique('u'), password: PASSWORD, roles: ['surgeon'] },
        { username: unique('u'), password: PASSWORD, roles: [] },
        { username: unique('u'), password: PASSWORD, roles: 'admin' },
        { username: unique('u'), password: secretish, roles: ['nurse'] },
        { username: unique('u'), password: 'x'.repeat(1025), roles: ['nurse'] },
        { username: 'has space', password: PASSWORD, roles: ['nurse'] },
        { username: 'x'.repeat(65), password: PASSWORD, roles: ['nurse'] },
        { username: '', password: PASSWORD, roles: ['nurse'] },
        { username: unique('u'), password: PASSWORD, roles: ['nurse'], practitioner: 'Patient/1' },
        { username: unique('u'), password: PASSWORD, roles: ['nurse'], validUntil: 'tomorrow' },
        { username: unique('u'), password: PASSWORD, roles: ['nurse'], practioner: 'Practitioner/1' },
        { username: unique('u'), roles: ['nurse'] },
        [1, 2],
      ];
      for (const body of cases) {
        const r = await post(body);
        assert.equal(r.status, 400, JSON.stringify(body).slice(0, 100));
        assert.equal(typeof r.body.error, 'string');
        assert.ok(!r.body.error.includes(secretish) && !r.body.error.includes(PASSWORD));
      }
    });

    test('listing shows no secrets; disabling an unknown account gives 404', async () => {
      const r = await call(s.url, 'GET', '/api/users', { token: admin });
      assert.equal(r.status, 200);
      const text = JSON.stringify(r.body);
      assert.ok(!text.includes('$argon2') && !/secret|hash/i.test(text));
      const rootAdmin = r.body.users.find((u: { username: string }) => u.username === 'root-admin');
      assert.equal(rootAdmin.totpRequired, true);
      assert.equal(rootAdmin.disabled, false);
      assert.equal((await call(s.url, 'POST', '/api/users/no-such-user/disable', { token: admin })).status, 404);
    });

    test('the password is stored as an argon2id hash and the TOTP secret sealed', async () => {
      const name = unique('priv');
      const created = await create(name, ['privacy-officer']);
      const [row] = await sql<{ id: string; password_hash: string; totp_secret: Uint8Array }>(
        'select id, password_hash, totp_secret from identity_account where username = $1',
        [name],
      );
      assert.match(row.password_hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
      assert.ok(!row.password_hash.includes(PASSWORD));

      const base32 = new URL(created.totpUri!).searchParams.get('secret')!;
      const secret = Buffer.from(Secret.fromBase32(base32).bytes);
      const stored = Buffer.from(row.totp_secret);
      assert.ok(!stored.includes(secret), 'raw secret not stored');
      assert.ok(!stored.toString('latin1').includes(base32), 'base32 secret not stored');
      const key = s.cw.keyring.cached(GENERAL_SCOPE);
      assert.deepEqual(open(key, stored, `totp:${row.id}`), secret);
      assert.throws(() => open(key, stored, `totp:${crypto.randomUUID()}`));
    });
  });
});
