/**
 * What an outside attack found in identity (issue 23, findings 4, 6 and 8), tried again as the
 * attacker did: an administrator binding a second account to a doctor's Practitioner, a client
 * assertion made for another server accepted through the Host header, lock-outs that tell real
 * accounts from unknown ones, password spraying across accounts, and sessions that outlive a reset
 * of the second factor.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import type { Resource } from '@medplum/fhirtypes';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { SYSTEM, type Role } from '../src/shared/index.js';
import { decodeLeaf } from '../src/audit/record.js';
import { call, currentOtp, PASSWORD, startTestServer, type TestServer } from './helpers/harness.js';
import { observation } from './helpers/fixtures.js';

const THRESHOLD = 3;
const ADDRESS_FAILURES = 12;

let s: TestServer;
let seq = 0;

before(async () => {
  s = await startTestServer({ lockoutThreshold: THRESHOLD, lockoutBaseMinutes: 1, loginAddressFailures: ADDRESS_FAILURES, audit: { intervalSeconds: 0 } });
});
after(() => s?.close());

/** POST /api/session from a chosen loopback address (127.0.0.0/8 all reach a server on 127.0.0.1). */
function loginFrom(address: string, body: Record<string, unknown>): Promise<{ status: number; retryAfter?: string; body: string }> {
  const data = JSON.stringify(body);
  const url = new URL(`${s.url}/api/session`);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        localAddress: address,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) },
      },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] as string | undefined, body: text }));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

async function account(roles: Role[], practitioner?: string): Promise<{ username: string; token: string; practitioner: string }> {
  const username = `${roles.join('-')}-ia-${++seq}`;
  const ref =
    practitioner ?? `Practitioner/${(await s.cw.fhir.create(SYSTEM, 'Practitioner', { resourceType: 'Practitioner', name: [{ family: username }] })).id}`;
  const created = await s.cw.identity.createAccount({ username, password: PASSWORD, roles, practitioner: ref });
  const otp = created.totpUri ? currentOtp(created.totpUri) : undefined;
  const res = await call(s.url, 'POST', '/api/session', { body: { username, password: PASSWORD, otp }, headers: { 'content-type': 'application/json' } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return { username, token: res.body.token, practitioner: ref };
}

async function signIn(username: string, totpUri?: string): Promise<string> {
  const res = await call(s.url, 'POST', '/api/session', {
    body: { username, password: PASSWORD, otp: totpUri ? currentOtp(totpUri) : undefined },
    headers: { 'content-type': 'application/json' },
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.token;
}

describe("an administrator cannot take over a doctor's identity", () => {
  let drB: { username: string; token: string; practitioner: string };
  let admin: { username: string; token: string };
  let secondAdmin: { username: string; token: string };
  let officer: { username: string; token: string };
  let obsId: string;

  before(async () => {
    drB = await account(['physician']);
    admin = await account(['admin']);
    secondAdmin = await account(['admin']);
    officer = await account(['privacy-officer']);
    const p = await s.cw.fhir.create(SYSTEM, 'Patient', {
      resourceType: 'Patient',
      name: [{ family: 'Bpatient' }],
      generalPractitioner: [{ reference: drB.practitioner }],
    });
    obsId = (await s.cw.fhir.create(SYSTEM, 'Observation', observation(p.id) as Resource)).id;
    assert.equal((await call(s.url, 'GET', `/fhir/Observation/${obsId}`, { token: drB.token })).status, 200);
  });

  const addUser = (token: string, username: string, practitioner: string) =>
    call(s.url, 'POST', '/api/users', {
      token,
      body: { username, password: PASSWORD, roles: ['physician'], practitioner },
      headers: { 'content-type': 'application/json' },
    });

  test("a second account bound to Dr B's Practitioner is held for a second person, and reads nothing meanwhile", async () => {
    const made = await addUser(admin.token, 'shadow-b', drB.practitioner);
    assert.equal(made.status, 202);
    assert.equal(made.body.practitioner, null);
    assert.equal(made.body.pendingPractitioner, drB.practitioner);
    const shadow = await signIn('shadow-b', made.body.totpUri);
    assert.equal((await call(s.url, 'GET', `/fhir/Observation/${obsId}`, { token: shadow })).status, 403);
    const listed = await call(s.url, 'GET', '/api/users', { token: admin.token });
    const row = listed.body.users.find((u: { username: string }) => u.username === 'shadow-b');
    assert.equal(row.practitioner, undefined);
    assert.equal(row.pendingPractitioner, drB.practitioner);

    // The requester cannot approve their own request; a second administrator cannot while Dr B's account is active.
    assert.equal((await call(s.url, 'POST', '/api/users/shadow-b/practitioner/approve', { token: admin.token })).status, 403);
    assert.equal((await call(s.url, 'POST', '/api/users/shadow-b/practitioner/approve', { token: secondAdmin.token })).status, 409);
    assert.equal((await call(s.url, 'GET', `/fhir/Observation/${obsId}`, { token: shadow })).status, 403);

    // Privacy officers were told, without a patient in the message.
    const notes = await call(s.url, 'GET', '/api/notifications', { token: officer.token });
    assert.ok(
      notes.body.notifications.some(
        (n: { kind: string; message: string }) => n.kind === 'practitioner-binding' && n.message.includes('shadow-b') && n.message.includes(drB.practitioner),
      ),
    );
  });

  test("disabling Dr B first does not let one administrator bind the identity alone; a privacy officer's approval does, audited", async () => {
    assert.equal((await call(s.url, 'POST', `/api/users/${drB.username}/disable`, { token: admin.token })).status, 204);
    const made = await addUser(admin.token, 'successor-b', drB.practitioner);
    assert.equal(made.status, 202);
    assert.equal(made.body.practitioner, null);
    const successor = await signIn('successor-b', made.body.totpUri);
    assert.equal((await call(s.url, 'GET', `/fhir/Observation/${obsId}`, { token: successor })).status, 403);
    // A physician cannot approve anything; the privacy officer can.
    assert.equal((await call(s.url, 'POST', '/api/users/successor-b/practitioner/approve', { token: successor })).status, 403);
    const approved = await call(s.url, 'POST', '/api/users/successor-b/practitioner/approve', { token: officer.token });
    assert.equal(approved.status, 200);
    assert.equal(approved.body.practitioner, drB.practitioner);
    assert.equal((await call(s.url, 'GET', `/fhir/Observation/${obsId}`, { token: successor })).status, 200);
    // Now one active account holds the identity: a further binding waits and cannot be approved.
    assert.equal((await addUser(admin.token, 'third-b', drB.practitioner)).status, 202);
    assert.equal((await call(s.url, 'POST', '/api/users/third-b/practitioner/approve', { token: officer.token })).status, 409);
    assert.equal((await call(s.url, 'POST', '/api/users/third-b/practitioner/reject', { token: officer.token })).status, 204);
    assert.equal((await call(s.url, 'POST', '/api/users/third-b/practitioner/approve', { token: secondAdmin.token })).status, 409);

    const { size } = await s.cw.audit.log.head();
    const actions = (await s.cw.audit.log.leaves(0, size)).map((l) => decodeLeaf(l.leaf)).filter((r) => r.action.startsWith('user.practitioner'));
    assert.ok(actions.some((r) => r.action === 'user.practitioner-request' && r.outcome === 'success'));
    assert.ok(actions.some((r) => r.action === 'user.practitioner-approve' && r.outcome === 'success'));
    assert.ok(actions.some((r) => r.action === 'user.practitioner-approve' && r.outcome === 'denied'));
    assert.ok(actions.some((r) => r.action === 'user.practitioner-reject' && r.outcome === 'success'));
  });

  test('a practitioner never bound before is bound at once, as before', async () => {
    const fresh = `Practitioner/${(await s.cw.fhir.create(SYSTEM, 'Practitioner', { resourceType: 'Practitioner', name: [{ family: 'Newhire' }] })).id}`;
    const made = await addUser(admin.token, 'new-hire', fresh);
    assert.equal(made.status, 201);
    assert.equal(made.body.practitioner, fresh);
  });

  test('the command line follows the same rule', async () => {
    const taken = await s.cw.identity.createAccount({ username: 'cli-made', password: PASSWORD, roles: ['physician'], practitioner: drB.practitioner });
    assert.equal(taken.practitioner, undefined);
    assert.equal(taken.pendingPractitioner, drB.practitioner);
  });
});

describe('the token endpoint checks assertions against its configured address', () => {
  test('an assertion made for another server is refused, whatever Host the request names', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES384');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES384' };
    const client = await s.cw.clients.register({ name: 'elsewhere-feed', jwks: { keys: [jwk] }, scopes: ['system/Observation.rs'] });
    const assertion = (aud: string) =>
      new SignJWT({})
        .setProtectedHeader({ alg: 'ES384', kid: 'k1' })
        .setIssuer(client.id)
        .setSubject(client.id)
        .setAudience(aud)
        .setExpirationTime('4m')
        .setJti(crypto.randomUUID())
        .sign(privateKey);
    const post = (jwt: string, host: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const form = new URLSearchParams({
          grant_type: 'client_credentials',
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
          client_assertion: jwt,
          scope: 'system/Observation.read',
        }).toString();
        const url = new URL(s.url);
        const req = http.request(
          {
            host: url.hostname,
            port: url.port,
            path: '/auth/token',
            method: 'POST',
            headers: { host, 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(form) },
          },
          (res) => {
            let text = '';
            res.on('data', (d) => (text += d));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
          },
        );
        req.on('error', reject);
        req.end(form);
      });
    const forged = await post(await assertion('http://other-ehr.example/auth/token'), 'other-ehr.example');
    assert.equal(forged.status, 401, forged.body);
    // The configured address is the one that counts, whatever the Host header says.
    const genuine = await post(await assertion(`${s.cw.settings.publicUrl}/auth/token`), 'other-ehr.example');
    assert.equal(genuine.status, 200, genuine.body);
    const discovery = await call(s.url, 'GET', '/.well-known/smart-configuration', { headers: { host: 'other-ehr.example' } });
    assert.equal(discovery.body.token_endpoint, `${s.cw.settings.publicUrl}/auth/token`);
  });
});

describe('sign-in refusals tell nothing about which accounts exist', () => {
  test('an unknown user name is locked out after the same failures as a real one, with the same answer', async () => {
    const real = await account(['nurse']);
    const unknown = `nobody-${crypto.randomUUID().slice(0, 8)}`;
    const answers: Record<string, number[]> = { real: [], unknown: [] };
    for (let i = 0; i < THRESHOLD + 1; i++) {
      answers.real.push((await loginFrom('127.0.0.21', { username: real.username, password: 'wrong password entirely' })).status);
      answers.unknown.push((await loginFrom('127.0.0.22', { username: unknown, password: 'wrong password entirely' })).status);
    }
    assert.deepEqual(answers.unknown, answers.real);
    assert.equal(answers.real.at(-1), 429);
    const lockedReal = await loginFrom('127.0.0.21', { username: real.username, password: 'x-wrong-again' });
    const lockedUnknown = await loginFrom('127.0.0.22', { username: unknown, password: 'x-wrong-again' });
    assert.equal(lockedUnknown.status, lockedReal.status);
    assert.equal(lockedUnknown.body, lockedReal.body);
    assert.equal(typeof lockedUnknown.retryAfter, 'string');
  });

  test('password spraying from one address is throttled across accounts; other addresses still sign in', async () => {
    // One after another: an address may have only a few sign-ins in flight at once (http/admission.ts).
    const targets: Array<Awaited<ReturnType<typeof account>>> = [];
    for (let i = 0; i < 25; i++) targets.push(await account(['billing']));
    const statuses: number[] = [];
    // Two guesses per account: below the per-account lock-out, so only the address can be throttled.
    for (const guess of ['Summer2026!', 'Winter2026!']) {
      for (const t of targets) statuses.push((await loginFrom('127.0.0.31', { username: t.username, password: guess })).status);
    }
    assert.ok(
      statuses.slice(0, ADDRESS_FAILURES).every((st) => st === 401),
      statuses.join(','),
    );
    assert.ok(
      statuses.slice(ADDRESS_FAILURES).every((st) => st === 429),
      statuses.join(','),
    );
    // The sprayer's address is refused even with a right password; the account's owner elsewhere is not.
    assert.equal((await loginFrom('127.0.0.31', { username: targets[0].username, password: PASSWORD })).status, 429);
    assert.equal((await loginFrom('127.0.0.32', { username: targets[0].username, password: PASSWORD })).status, 201);
  });
});

test('resetting a second factor ends the sessions opened with the old one', async () => {
  const admin = await account(['admin']);
  const victim = await account(['physician']);
  const second = await signIn(victim.username);
  assert.equal((await call(s.url, 'GET', '/api/me', { token: victim.token })).status, 200);
  const reset = await call(s.url, 'POST', `/api/users/${victim.username}/second-factor`, { token: admin.token });
  assert.equal(reset.status, 201);
  for (const token of [victim.token, second]) assert.equal((await call(s.url, 'GET', '/api/me', { token })).status, 401);
  // The new factor signs in.
  await signIn(victim.username, reset.body.totpUri);
});

test("behind a trusted proxy the throttle counts the caller's forwarded address, not the proxy's", async () => {
  const proxied = await startTestServer({ loginAddressFailures: 3, trustProxy: ['127.0.0.1'] });
  try {
    const attempt = (forwardedFor: string) =>
      call(proxied.url, 'POST', '/api/session', {
        body: { username: 'nobody-at-all', password: 'not this one either' },
        headers: { 'content-type': 'application/json', 'x-forwarded-for': forwardedFor },
      });
    const sprayer = [];
    for (let i = 0; i < 4; i++) sprayer.push((await attempt('203.0.113.7')).status);
    assert.deepEqual(sprayer, [401, 401, 401, 429]);
    // Another caller behind the same proxy is not the sprayer.
    assert.equal((await attempt('203.0.113.8')).status, 401);
  } finally {
    await proxied.close();
  }
});
