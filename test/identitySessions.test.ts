/**
 * Identity sessions (logout, disable, end date, idle and absolute limits, forged tokens) and account
 * administration over HTTP. Runs on PGlite by default and on PostgreSQL when DATABASE_URL is set.
 */
import crypto from 'node:crypto';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Secret } from 'otpauth';
import { GENERAL_SCOPE } from '../src/keys/keyring.js';
import { open } from '../src/keys/envelope.js';
import type { Role } from '../src/shared/index.js';
import { IdentityService } from '../src/identity/index.js';
import { SESSION_FRESHNESS_MS } from '../src/identity/sessionCache.js';
import { sessionWho } from '../src/identity/sessions.js';
import { call, currentOtp, PASSWORD } from './helpers/harness.js';
import { GENERIC, identityFixture } from './helpers/identity.js';

describe('identity sessions and administration', () => {
  const f = identityFixture();
  const { unique, create, login, sql, loginOk } = f;
  const tokenHash = (token: string) => crypto.createHash('sha256').update(token).digest();

  describe('sessions', () => {
    const newSession = async (roles: Role[] = ['physician']) => {
      const name = unique(roles[0]);
      await create(name, roles);
      return { name, token: await loginOk(name) };
    };

    test('logout ends the session', async () => {
      const { token } = await newSession();
      assert.equal((await call(f.s.url, 'DELETE', '/api/session', { token })).status, 204);
      assert.equal(await f.s.cw.identity.authenticate(token), null);
      assert.equal((await call(f.s.url, 'DELETE', '/api/session', { token })).status, 401);
      assert.equal((await call(f.s.url, 'DELETE', '/api/session')).status, 401);
    });

    test('only the SHA-256 of the token is stored', async () => {
      const { token } = await newSession();
      const rows = await sql<{ n: number }>('select count(*)::int as n from identity_session where token_hash = $1', [tokenHash(token)]);
      assert.equal(rows[0].n, 1);
      const dump = await sql<{ t: string }>('select row_to_json(s)::text as t from identity_session s');
      assert.ok(dump.every((r) => !r.t.includes(token)));
    });

    test('forged, malformed and hash-as-token tokens are rejected', async () => {
      const { token } = await newSession();
      const forged = [
        crypto.randomBytes(32).toString('base64url'),
        'abc',
        'x'.repeat(5000),
        tokenHash(token).toString('base64url'),
        tokenHash(token).toString('hex'),
        token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A'),
      ];
      for (const t of forged) {
        assert.equal(await f.s.cw.identity.authenticate(t), null);
        assert.equal((await call(f.s.url, 'GET', '/api/users', { token: t })).status, 401);
      }
    });

    test('disabling an account ends its live sessions at once and blocks login', async () => {
      const { name, token } = await newSession();
      const second = await loginOk(name);
      assert.ok(await f.s.cw.identity.authenticate(token));
      const r = await call(f.s.url, 'POST', `/api/users/${name}/disable`, { token: f.admin });
      assert.equal(r.status, 204);
      assert.equal(await f.s.cw.identity.authenticate(token), null);
      assert.equal(await f.s.cw.identity.authenticate(second), null);
      assert.equal((await call(f.s.url, 'DELETE', '/api/session', { token })).status, 401);
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
      await f.s.cw.identity.disableAccount(name);
      await sql('update identity_session set revoked_at = null where token_hash = $1', [tokenHash(token)]);
      assert.equal(await f.s.cw.identity.authenticate(token), null);
    });

    test('an account reaching its end date loses its sessions', async () => {
      const { name, token } = await newSession();
      await sql(`update identity_account set valid_until = now() - interval '1 second' where username = $1`, [name]);
      assert.equal(await f.s.cw.identity.authenticate(token), null);
      assert.equal((await call(f.s.url, 'DELETE', '/api/session', { token })).status, 401);
    });

    test('an idle session ends; a used one is kept alive', async (t) => {
      const { token } = await newSession();
      const h = tokenHash(token);
      // Stale enough to be refreshed, well inside the 15-minute idle limit.
      await sql(`update identity_session set last_seen = now() - interval '5 minutes' where token_hash = $1`, [h]);
      assert.ok(await f.s.cw.identity.authenticate(token));
      const [seen] = await sql<{ age: number }>('select extract(epoch from (now() - last_seen))::float8 as age from identity_session where token_hash = $1', [
        h,
      ]);
      assert.ok(seen.age < 60, `last_seen refreshed (age ${seen.age}s)`);

      // Sixteen minutes pass: for the database (last_seen moved back) and for the process's
      // session cache (its clock moved on), which would otherwise still hold the answer above.
      await sql(`update identity_session set last_seen = now() - interval '16 minutes' where token_hash = $1`, [h]);
      const cache = f.s.cw.identity.sessionCache;
      const clock = cache.clock;
      cache.clock = { now: () => clock.now() + 16 * 60_000 };
      t.after(() => {
        cache.clock = clock;
      });
      assert.equal(await f.s.cw.identity.authenticate(token), null);
      assert.equal((await call(f.s.url, 'DELETE', '/api/session', { token })).status, 401);
    });

    test('a logout in another process holds here once a second has passed since this process last asked', async (t) => {
      const { token } = await newSession();
      const here = f.s.cw.identity;
      // A second process on the same database: its own IdentityService, its own session cache.
      const elsewhere = new IdentityService(f.s.cw.db, f.s.cw.keyring, f.s.cw.settings);
      const clock = here.sessionCache.clock;
      let offset = 0;
      here.sessionCache.clock = { now: () => clock.now() + offset };
      t.after(() => {
        here.sessionCache.clock = clock;
      });
      assert.ok(await here.authenticate(token));
      assert.equal(await elsewhere.logout(token), true);
      assert.equal(await elsewhere.authenticate(token), null, 'the process that logged out refuses at once');
      offset += SESSION_FRESHNESS_MS;
      assert.equal(await here.authenticate(token), null, 'and this one a second after it last asked');
    });

    test("a session's lookup says how long it has left by time alone: the soonest of its end, its idle limit and the account's end", async () => {
      const { name, token } = await newSession();
      const h = tokenHash(token);
      const timing = { idleMinutes: 15, maxHours: 12 };
      const left = async () => (await sessionWho(f.s.cw.db, token, timing))!.secondsLeft;
      assert.ok((await left()) > 14 * 60 && (await left()) <= 15 * 60, 'a fresh session: its idle limit');
      await sql(`update identity_session set last_seen = now() - interval '14 minutes 50 seconds' where token_hash = $1`, [h]);
      assert.ok((await left()) <= 10, 'nearly idle');
      await sql(`update identity_session set last_seen = now(), expires_at = now() + interval '30 seconds' where token_hash = $1`, [h]);
      assert.ok((await left()) <= 30, 'nearly at its end');
      await sql(`update identity_account set valid_until = now() + interval '5 seconds' where username = $1`, [name]);
      assert.ok((await left()) <= 5, "nearly at the account's end");
    });

    test('a session ends at its absolute lifetime however much it is used', async () => {
      const { token } = await newSession();
      await sql(`update identity_session set expires_at = now() - interval '1 second', last_seen = now() where token_hash = $1`, [tokenHash(token)]);
      assert.equal(await f.s.cw.identity.authenticate(token), null);
    });
  });

  describe('account administration', () => {
    const post = (body: unknown, token: string | null = f.admin) =>
      call(f.s.url, 'POST', '/api/users', { token: token ?? undefined, body, headers: { 'content-type': 'application/json' } });

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
      assert.equal((await f.s.cw.identity.authenticate(token))?.practitioner, 'Practitioner/abc-1');
    });

    test('non-admins get 403 and anonymous callers 401, whatever the body', async () => {
      const nurse = await f.s.login(['nurse']);
      const body = { username: unique('x'), password: PASSWORD, roles: ['admin'] };
      assert.equal((await post(body, nurse)).status, 403);
      assert.equal((await post({ nonsense: true }, nurse)).status, 403);
      assert.equal((await post(body, null)).status, 401);
      assert.equal((await call(f.s.url, 'GET', '/api/users', { token: nurse })).status, 403);
      assert.equal((await call(f.s.url, 'POST', '/api/users/root-admin/disable', { token: nurse })).status, 403);
      assert.equal((await call(f.s.url, 'POST', '/api/users/root-admin/disable')).status, 401);
      assert.ok(await f.s.cw.identity.authenticate(f.admin), 'the f.admin was not disabled');
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
      const r = await call(f.s.url, 'GET', '/api/users', { token: f.admin });
      assert.equal(r.status, 200);
      const text = JSON.stringify(r.body);
      assert.ok(!text.includes('$argon2') && !/secret|hash/i.test(text));
      const rootAdmin = r.body.users.find((u: { username: string }) => u.username === 'root-admin');
      assert.equal(rootAdmin.totpRequired, true);
      assert.equal(rootAdmin.disabled, false);
      assert.equal((await call(f.s.url, 'POST', '/api/users/no-such-user/disable', { token: f.admin })).status, 404);
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
      const key = f.s.cw.keyring.cached(GENERAL_SCOPE);
      assert.deepEqual(open(key, stored, `totp:${row.id}`), secret);
      assert.throws(() => open(key, stored, `totp:${crypto.randomUUID()}`));
    });
  });
});
