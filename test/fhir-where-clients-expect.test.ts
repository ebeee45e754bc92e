/**
 * The FHIR API where outside clients expect it (issue 30): batches posted to the base with its
 * trailing slash (fhirclient and fhir-kit-client do), PATCH refused as 405 rather than an unknown
 * path, XML refused as 406 rather than answered in JSON, every /fhir path answered in FHIR (never
 * the console's page), SMART discovery at the FHIR base, and a CapabilityStatement that declares
 * what works: the export operations, AuditEvent, _has, and the SMART token endpoint.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SYSTEM } from '../src/shared/index.js';
import { call, startTestServer, type TestServer } from './helpers/harness.js';

describe('the FHIR API where clients expect it', () => {
  let s: TestServer;
  let token = '';
  before(async () => {
    s = await startTestServer();
    token = await s.login(['physician']);
  });
  after(async () => s?.close());
  const raw = (method: string, path: string, headers: Record<string, string> = {}, body?: unknown) =>
    fetch(`${s.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/fhir+json' } : {}), ...headers },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });

  test('a batch posted to the base with a trailing slash is processed as at the base', async () => {
    const batch = { resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'GET', url: 'metadata' } }] };
    for (const base of ['/fhir', '/fhir/']) {
      const r = await raw('POST', base, {}, batch);
      assert.equal(r.status, 200, base);
      const body = (await r.json()) as { resourceType: string; type: string };
      assert.deepEqual([body.resourceType, body.type], ['Bundle', 'batch-response'], base);
    }
  });

  test('PATCH is 405 with what is allowed, and changes nothing', async () => {
    const created = await s.cw.fhir.create(SYSTEM, 'Organization', { resourceType: 'Organization', name: 'Before' });
    const r = await raw('PATCH', `/fhir/Organization/${created.id}`, { 'content-type': 'application/json-patch+json' });
    assert.equal(r.status, 405);
    assert.equal(r.headers.get('allow'), 'GET, PUT, DELETE');
    assert.equal(((await r.json()) as { resourceType: string }).resourceType, 'OperationOutcome');
    const now = await s.cw.fhir.read(SYSTEM, 'Organization', created.id!);
    assert.deepEqual([(now.resource as { name?: string }).name, now.versionId], ['Before', created.versionId]);
  });

  test('XML asked for alone is 406 in FHIR JSON; XML among acceptable types is answered in JSON', async () => {
    for (const [path, headers] of [
      ['/fhir/metadata?_format=xml', {}],
      ['/fhir/metadata?_format=application/fhir%2Bxml', {}],
      ['/fhir/metadata', { accept: 'application/fhir+xml' }],
      ['/fhir/Patient', { accept: 'application/xml' }],
    ] as Array<[string, Record<string, string>]>) {
      const r = await raw('GET', path, headers);
      assert.equal(r.status, 406, `${path} ${JSON.stringify(headers)}`);
      assert.equal(((await r.json()) as { resourceType: string }).resourceType, 'OperationOutcome');
    }
    for (const accept of ['application/fhir+xml, application/fhir+json;q=0.9', 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8']) {
      const r = await raw('GET', '/fhir/metadata', { accept });
      assert.equal(r.status, 200, accept);
      assert.match(r.headers.get('content-type') ?? '', /json/);
    }
    assert.equal((await raw('GET', '/fhir/metadata?_format=json')).status, 200);
  });

  test('every /fhir path answers in FHIR, never with the console’s page', async () => {
    for (const path of ['/fhir', '/fhir?_type=Patient', '/fhir/', '/fhir/no/such/path/here']) {
      const r = await raw('GET', path);
      assert.match(r.headers.get('content-type') ?? '', /application\/fhir\+json/, path);
      const body = (await r.json()) as { resourceType: string };
      assert.equal(body.resourceType, 'OperationOutcome', path);
      assert.ok(r.status >= 400, path);
    }
  });

  test('SMART discovery at the FHIR base, without signing in, and the CapabilityStatement declares what works', async () => {
    const root = await fetch(`${s.url}/.well-known/smart-configuration`);
    const atBase = await fetch(`${s.url}/fhir/.well-known/smart-configuration`);
    assert.equal(atBase.status, 200);
    const discovery = (await atBase.json()) as { token_endpoint: string };
    assert.deepEqual(discovery, await root.json());
    const caps = (await call(s.url, 'GET', '/fhir/metadata')).body;
    const rest = caps.rest[0];
    const oauth = rest.security.extension.find((e: { url: string }) => e.url.endsWith('/oauth-uris'));
    assert.equal(oauth.extension.find((e: { url: string }) => e.url === 'token').valueUri, discovery.token_endpoint);
    assert.equal(rest.security.service[0].coding[0].code, 'SMART-on-FHIR');
    assert.deepEqual(
      rest.operation.map((o: { name: string }) => o.name),
      ['export'],
    );
    const patient = rest.resource.find((r: { type: string }) => r.type === 'Patient');
    assert.ok(patient.operation.some((o: { name: string; definition: string }) => o.name === 'export' && o.definition.endsWith('/patient-export')));
    for (const name of ['_has', '_summary', '_total'])
      assert.ok(
        patient.searchParam.some((p: { name: string }) => p.name === name),
        name,
      );
    const audit = rest.resource.find((r: { type: string }) => r.type === 'AuditEvent');
    assert.deepEqual(
      audit.interaction.map((i: { code: string }) => i.code),
      ['read', 'search-type'],
    );
    // What it declares answers: the system export kicks off (or asks for approval), the audit search is a Bundle for its readers.
    const privacy = await s.login(['privacy-officer']);
    const events = await call(s.url, 'GET', '/fhir/AuditEvent?_count=1', { token: privacy });
    assert.equal(events.body.resourceType, 'Bundle');
  });
});
