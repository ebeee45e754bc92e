/**
 * System clients (SMART Backend Services): a registered client gets a short-lived token with a
 * signed JWT assertion and is bound by its scopes at the same enforcement point as people;
 * replayed, expired, over-long, wrongly addressed or foreign-signed assertions are refused, and a
 * disabled client's tokens stop at once.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import type { Resource } from '@medplum/fhirtypes';
import { SYSTEM } from '../src/shared/index.js';
import type { ClientSummary } from '../src/clients/index.js';
import { decodeLeaf } from '../src/audit/record.js';
import { call, prepareInstallation, startTestServer, tempDir, type TestServer } from './helpers/harness.js';
import { runCli } from './helpers/cli.js';
import { observation } from './helpers/fixtures.js';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

async function keyPair(kid: string) {
  const { publicKey, privateKey } = await generateKeyPair('ES384', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'ES384', use: 'sig' };
  return { jwk, privateKey };
}

describe('system clients', () => {
  let s: TestServer;
  let lab: ClientSummary;
  let labKey: CryptoKey;
  let patientId: string;
  let obsId: string;
  let tokenUrl: string;

  before(async () => {
    s = await startTestServer({ audit: { intervalSeconds: 0 } });
    tokenUrl = `${s.url}/auth/token`;
    const k = await keyPair('lab-1');
    labKey = k.privateKey;
    lab = await s.cw.clients.register({ name: 'lab-feed', jwks: { keys: [k.jwk] }, scopes: ['system/Observation.rs', 'system/Observation.write'] });
    const patient = await s.cw.fhir.create(SYSTEM, 'Patient', { resourceType: 'Patient', name: [{ family: 'Systemata' }] });
    patientId = patient.id;
    obsId = (await s.cw.fhir.create(SYSTEM, 'Observation', observation(patientId) as Resource)).id;
  });
  after(() => s?.close());

  const assertion = (opts: { key?: CryptoKey; kid?: string; iss?: string; aud?: string; exp?: string | number; jti?: string } = {}) =>
    new SignJWT({})
      .setProtectedHeader({ alg: 'ES384', kid: opts.kid ?? 'lab-1', typ: 'JWT' })
      .setIssuer(opts.iss ?? lab.id)
      .setSubject(opts.iss ?? lab.id)
      .setAudience(opts.aud ?? tokenUrl)
      .setExpirationTime(opts.exp ?? '4m')
      .setJti(opts.jti ?? crypto.randomUUID())
      .sign(opts.key ?? labKey);
  /** A token request; the scope asked is a read of observations, which every client here is registered for, unless said. */
  const requestToken = async (jwt: string, scope: string | null = 'system/Observation.read') => {
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: jwt });
    if (scope !== null) form.set('scope', scope);
    const res = await fetch(tokenUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  test('discovery names the token endpoint and private_key_jwt', async () => {
    const res = await call(s.url, 'GET', '/.well-known/smart-configuration');
    assert.equal(res.status, 200);
    assert.equal(res.body.token_endpoint, tokenUrl);
    assert.deepEqual(res.body.token_endpoint_auth_methods_supported, ['private_key_jwt']);
  });

  test('a signed assertion gets a short-lived token, and the token does what its scopes allow and nothing else', async () => {
    const granted = await requestToken(await assertion(), 'system/Observation.rs system/Observation.write');
    assert.equal(granted.status, 200, JSON.stringify(granted.body));
    assert.equal(granted.body.token_type, 'bearer');
    assert.equal(granted.body.expires_in, 300);
    const token = granted.body.access_token as string;

    assert.equal((await call(s.url, 'GET', `/fhir/Observation/${obsId}`, { token })).status, 200);
    const search = await call(s.url, 'GET', `/fhir/Observation?patient=${patientId}`, { token });
    assert.equal(search.status, 200);
    assert.equal(search.body.entry.length, 1);
    const created = await call(s.url, 'POST', '/fhir/Observation', { token, body: observation(patientId) });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    // Outside its scopes: another type, read or write.
    assert.equal((await call(s.url, 'GET', `/fhir/Patient/${patientId}`, { token })).status, 403);
    assert.equal((await call(s.url, 'GET', '/fhir/Patient?family=Systemata', { token })).status, 403);
    assert.equal((await call(s.url, 'POST', '/fhir/Patient', { token, body: { resourceType: 'Patient' } })).status, 403);
    // Nor any people's administration.
    assert.equal((await call(s.url, 'GET', '/api/audit/checkpoint', { token })).status, 403);

    // Every step is in the audit log under the client's name.
    const { size } = await s.cw.audit.log.head();
    const records = (await s.cw.audit.log.leaves(0, size)).map((l) => decodeLeaf(l.leaf)).filter((r) => r.user?.username === 'client:lab-feed');
    assert.ok(records.some((r) => r.action === 'client.token' && r.outcome === 'success'));
    assert.ok(records.some((r) => r.action === 'read' && r.outcome === 'success' && JSON.stringify(r.explanation).includes('system/Observation.rs')));
    assert.ok(records.some((r) => r.action === 'read' && r.outcome === 'denied' && r.resource?.type === 'Patient'));
  });

  test('a scope asked for beyond the registration is refused; a narrower one is granted alone', async () => {
    const wider = await requestToken(await assertion(), 'system/Observation.rs system/Patient.read');
    assert.deepEqual([wider.status, wider.body.error], [400, 'invalid_scope']);
    const narrow = await requestToken(await assertion(), 'system/Observation.rs');
    assert.equal(narrow.status, 200);
    assert.equal(narrow.body.scope, 'system/Observation.rs');
    const token = narrow.body.access_token as string;
    assert.equal((await call(s.url, 'POST', '/fhir/Observation', { token, body: observation(patientId) })).status, 403);
  });

  test('no scope asked, nothing granted: refused; SMART v1 and v2 forms are one scope, and a client may narrow a wildcard', async () => {
    const none = await requestToken(await assertion(), null);
    assert.deepEqual([none.status, none.body.error], [400, 'invalid_scope']);
    // Registered system/Observation.rs: the v1 form of the same scope is granted as asked.
    const v1 = await requestToken(await assertion(), 'system/Observation.read');
    assert.deepEqual([v1.status, v1.body.scope], [200, 'system/Observation.read']);
    // A client registered for every type's reads may ask for one type, in either form; not for writes, nor the equipment.
    const k = await keyPair('wide-1');
    const wide = await s.cw.clients.register({ name: 'wide-reader', jwks: { keys: [k.jwk] }, scopes: ['system/*.read'] });
    const ask = async (scope: string) => requestToken(await assertion({ key: k.privateKey, kid: 'wide-1', iss: wide.id }), scope);
    const narrowed = await ask('system/Patient.rs');
    assert.deepEqual([narrowed.status, narrowed.body.scope], [200, 'system/Patient.rs']);
    const token = narrowed.body.access_token as string;
    assert.equal((await call(s.url, 'GET', `/fhir/Patient/${patientId}`, { token })).status, 200);
    assert.equal((await call(s.url, 'GET', `/fhir/Observation/${obsId}`, { token })).status, 403, 'the token carries what was asked, no more');
    assert.deepEqual([(await ask('system/Patient.cruds')).body.error], ['invalid_scope']);
    assert.deepEqual([(await ask('system/Device.rs')).body.error], ['invalid_scope']);
    // Scopes that name no action or no type (as SMART's bdt asks) are refused, not read as something else.
    for (const unknown of ['system/Patient.foo', 'system/Patient.rx', 'system/Nosuchtype.read', 'system/Nosuchtype.rs', 'system/*.*'])
      assert.deepEqual([(await ask(unknown)).body.error], ['invalid_scope'], unknown);
    // v1 and v2 forms mixed in one request.
    const mixed = await ask('system/Patient.read system/Observation.rs');
    assert.deepEqual([mixed.status, mixed.body.scope], [200, 'system/Patient.read system/Observation.rs']);
  });

  test('an assertion naming where to fetch its key (jku, x5u, jwk) is refused, whatever it points to', async () => {
    for (const extra of [{ jku: 'https://attacker.example/jwks.json' }, { x5u: 'https://attacker.example/cert.pem' }, { jwk: { kty: 'EC' } }]) {
      const jwt = await new SignJWT({})
        .setProtectedHeader({ alg: 'ES384', kid: 'lab-1', typ: 'JWT', ...extra } as never)
        .setIssuer(lab.id)
        .setSubject(lab.id)
        .setAudience(tokenUrl)
        .setExpirationTime('4m')
        .setJti(crypto.randomUUID())
        .sign(labKey);
      const r = await requestToken(jwt);
      assert.deepEqual([r.status, r.body.error], [401, 'invalid_client'], JSON.stringify(extra));
    }
  });

  test('replayed, expired, over-long, misaddressed and foreign-signed assertions are refused', async () => {
    const once = await assertion();
    assert.equal((await requestToken(once)).status, 200);
    const replay = await requestToken(once);
    assert.deepEqual([replay.status, replay.body.error], [400, 'invalid_grant']);

    const expired = await requestToken(await assertion({ exp: Math.floor(Date.now() / 1000) - 60 }));
    assert.deepEqual([expired.status, expired.body.error], [401, 'invalid_client']);
    const tooLong = await requestToken(await assertion({ exp: '1h' }));
    assert.equal(tooLong.status, 401);
    const elsewhere = await requestToken(await assertion({ aud: 'https://other.example/token' }));
    assert.equal(elsewhere.status, 401);
    const stranger = await keyPair('lab-1');
    const forged = await requestToken(await assertion({ key: stranger.privateKey }));
    assert.equal(forged.status, 401);
    const unknown = await requestToken(await assertion({ iss: crypto.randomUUID() }));
    assert.equal(unknown.status, 401);
    const notJwt = await requestToken('not.a.jwt');
    assert.equal(notJwt.status, 401);
    // A made-up bearer token opens nothing.
    assert.equal((await call(s.url, 'GET', `/fhir/Observation/${obsId}`, { token: crypto.randomBytes(32).toString('base64url') })).status, 401);
  });

  test('a reporting tool exports every patient its scope covers, once a privacy officer approves', async () => {
    const k = await keyPair('report-1');
    const reporting = await s.cw.clients.register({ name: 'reporting-tool', jwks: { keys: [k.jwk] }, scopes: ['system/Observation.read'] });
    const granted = await requestToken(await assertion({ key: k.privateKey, kid: 'report-1', iss: reporting.id }));
    const token = granted.body.access_token as string;
    const kickOff = await fetch(`${s.url}/fhir/$export?_type=Observation`, { headers: { authorization: `Bearer ${token}`, prefer: 'respond-async' } });
    assert.equal(kickOff.status, 202);
    const id = (kickOff.headers.get('content-location') ?? '').split('/').pop()!;
    const officer = await s.login(['privacy-officer'], 'po-reporting');
    assert.equal((await call(s.url, 'POST', `/api/exports/${id}/approve`, { token: officer, body: {} })).status, 200);
    await s.cw.exports.running.get(id);
    const manifest = (await (await fetch(kickOff.headers.get('content-location')!, { headers: { authorization: `Bearer ${token}` } })).json()) as {
      output: Array<{ type: string; count: number }>;
    };
    const stored = (await s.cw.db.query<{ n: number }>("select count(*)::int as n from records_resource where resource_type = 'Observation' and not deleted"))
      .rows[0].n;
    assert.deepEqual(
      manifest.output.map((o) => [o.type, o.count]),
      [['Observation', stored]],
    );
    // Its scope does not reach patients' demographics.
    const patients = await fetch(`${s.url}/fhir/$export?_type=Patient`, { headers: { authorization: `Bearer ${token}`, prefer: 'respond-async' } });
    assert.equal(patients.status, 403);
  });

  test("a download needs the token's scopes to cover the file's type, not only the export's", async () => {
    const k = await keyPair('narrow-1');
    const feed = await s.cw.clients.register({ name: 'narrowing-feed', jwks: { keys: [k.jwk] }, scopes: ['system/Patient.read', 'system/Observation.read'] });
    const tokenWith = async (scope: string) =>
      (await requestToken(await assertion({ key: k.privateKey, kid: 'narrow-1', iss: feed.id }), scope)).body.access_token as string;
    const broad = await tokenWith('system/Patient.read system/Observation.read');
    const kickOff = await fetch(`${s.url}/fhir/$export?_type=Patient,Observation`, { headers: { authorization: `Bearer ${broad}`, prefer: 'respond-async' } });
    assert.equal(kickOff.status, 202);
    const id = (kickOff.headers.get('content-location') ?? '').split('/').pop()!;
    const officer = await s.login(['privacy-officer'], 'po-narrowing');
    assert.equal((await call(s.url, 'POST', `/api/exports/${id}/approve`, { token: officer, body: {} })).status, 200);
    await s.cw.exports.running.get(id);
    const manifest = (await (await fetch(kickOff.headers.get('content-location')!, { headers: { authorization: `Bearer ${broad}` } })).json()) as {
      output: Array<{ type: string; url: string }>;
    };
    const fileOf = (type: string) => manifest.output.find((o) => o.type === type)!.url;
    const narrow = await tokenWith('system/Observation.read');
    const download = (url: string, token: string) => fetch(url, { headers: { authorization: `Bearer ${token}` } });
    assert.equal((await download(fileOf('Observation'), narrow)).status, 200);
    const refused = await download(fileOf('Patient'), narrow);
    assert.equal(refused.status, 403, 'patients leave only with a token that may read patients');
    assert.equal(((await refused.json()) as { resourceType: string }).resourceType, 'OperationOutcome');
    assert.equal((await download(fileOf('Patient'), broad)).status, 200);
  });

  test('registering a private key is refused; a disabled client loses its tokens at once', async () => {
    const k = await keyPair('feed-1');
    const privateJwk = await exportJWK(k.privateKey);
    await assert.rejects(() => s.cw.clients.register({ name: 'careless', jwks: { keys: [privateJwk] }, scopes: ['system/Patient.read'] }), /public keys only/);
    await assert.rejects(() => s.cw.clients.register({ name: 'greedy', jwks: { keys: [k.jwk] }, scopes: ['user/Patient.read'] }), /not a system scope/);

    const feed = await s.cw.clients.register({ name: 'admission-feed', jwks: { keys: [k.jwk] }, scopes: ['system/Observation.read'] });
    const jwt = () => assertion({ key: k.privateKey, kid: 'feed-1', iss: feed.id });
    const granted = await requestToken(await jwt());
    assert.equal(granted.status, 200);
    const token = granted.body.access_token as string;
    assert.equal((await call(s.url, 'GET', `/fhir/Observation/${obsId}`, { token })).status, 200);
    await s.cw.clients.disable('admission-feed');
    assert.equal((await call(s.url, 'GET', `/fhir/Observation/${obsId}`, { token })).status, 401);
    assert.equal((await requestToken(await jwt())).status, 401);
  });
});

describe('carewall client on the command line', () => {
  test('add, list and disable', async () => {
    const inst = await prepareInstallation({ audit: { intervalSeconds: 0 } });
    const env = { DATABASE_URL: inst.databaseUrl };
    const dir = tempDir('carewall-client-cli-');
    try {
      const k = await keyPair('cli-1');
      const jwksFile = path.join(dir, 'jwks.json');
      fs.writeFileSync(jwksFile, JSON.stringify({ keys: [k.jwk] }));
      const added = await runCli(
        [
          'client',
          'add',
          '--data-dir',
          inst.dataDir,
          '--name',
          'reporting',
          '--jwks',
          jwksFile,
          '--scopes',
          'system/Observation.read,system/Patient.read',
          '--json',
        ],
        { env },
      );
      assert.equal(added.code, 0, added.stderr);
      const client = JSON.parse(added.stdout) as ClientSummary;
      assert.deepEqual(client.scopes, ['system/Observation.read', 'system/Patient.read']);
      const listed = await runCli(['client', 'list', '--data-dir', inst.dataDir, '--json'], { env });
      assert.deepEqual(
        (JSON.parse(listed.stdout) as ClientSummary[]).map((c) => [c.id, c.disabled]),
        [[client.id, false]],
      );
      const disabled = await runCli(['client', 'disable', '--data-dir', inst.dataDir, 'reporting'], { env });
      assert.equal(disabled.code, 0, disabled.stderr);
      const after = await runCli(['client', 'list', '--data-dir', inst.dataDir, '--json'], { env });
      assert.equal((JSON.parse(after.stdout) as ClientSummary[])[0].disabled, true);
      const bad = await runCli(['client', 'add', '--data-dir', inst.dataDir, '--name', 'x', '--jwks', jwksFile, '--scopes', 'patient/*.read'], { env });
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /not a system scope/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
      await inst.cleanup();
    }
  });
});
