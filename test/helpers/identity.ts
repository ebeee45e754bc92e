/** Shared helpers for the identity tests: one server, accounts made directly, logins over HTTP. */
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import type { Role } from '../../src/shared/index.js';
import type { Settings } from '../../src/config.js';
import { call, PASSWORD, startTestServer, type TestServer } from './harness.js';

export const GENERIC = 'invalid username, password or code';

/** Call inside a describe(): starts a server with an admin before its tests, closes it after. */
export function identityFixture(settings: Partial<Settings> = {}) {
  const f = {
    s: undefined as unknown as TestServer,
    admin: '',
    n: 0,
    unique: (prefix: string) => `${prefix}-${++f.n}`,
    create: (username: string, roles: Role[], extra: { validUntil?: string; practitioner?: string; requireTotp?: boolean } = {}) =>
      f.s.cw.identity.createAccount({ username, password: PASSWORD, roles, ...extra }),
    login: (body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
      call(f.s.url, 'POST', '/api/session', { body, headers }),
    sql: <T = Record<string, unknown>>(q: string, params: unknown[] = []) => f.s.cw.db.query<T>(q, params).then((r) => r.rows),
    async loginOk(username: string, otp?: string) {
      const r = await f.login({ username, password: PASSWORD, otp });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      return r.body.token as string;
    },
  };
  before(async () => {
    f.s = await startTestServer(settings);
    f.admin = await f.s.login(['admin'], 'root-admin');
  });
  after(async () => {
    await f.s?.close();
  });
  return f;
}
