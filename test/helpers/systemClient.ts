/**
 * A system client (SMART Backend Services) for tests: registered on the server with its own key,
 * it asks the token endpoint for an access token with a signed assertion, as an outside client does.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import type { TestServer } from './harness.js';

export interface SystemClientKey {
  jwk: JWK;
  /** Registers a client under `name` for `scopes` and returns the access token it is given. */
  tokenFor(scopes: string[], name: string): Promise<string>;
}

export async function systemClientKey(s: TestServer, kid: string): Promise<SystemClientKey> {
  const { publicKey, privateKey } = await generateKeyPair('ES384', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'ES384', use: 'sig' };
  return {
    jwk,
    tokenFor: async (scopes, name) => {
      const c = await s.cw.clients.register({ name, jwks: { keys: [jwk] }, scopes });
      const assertion = await new SignJWT({})
        .setProtectedHeader({ alg: 'ES384', kid, typ: 'JWT' })
        .setIssuer(c.id)
        .setSubject(c.id)
        .setAudience(`${s.url}/auth/token`)
        .setExpirationTime('4m')
        .setJti(crypto.randomUUID())
        .sign(privateKey);
      const form = new URLSearchParams({
        grant_type: 'client_credentials',
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: assertion,
        scope: scopes.join(' '),
      });
      const r = await fetch(`${s.url}/auth/token`, { method: 'POST', body: form });
      assert.equal(r.status, 200, await r.clone().text());
      return ((await r.json()) as { access_token: string }).access_token;
    },
  };
}
