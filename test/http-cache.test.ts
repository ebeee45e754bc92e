/**
 * Every answer of /fhir, /api and /auth carries Cache-Control: no-store, errors included: they hold
 * patient data, tokens or accounts, which no browser or proxy may keep.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { call, PASSWORD, startTestServer, type TestServer } from './helpers/harness.js';
import { patient, treatedBy } from './helpers/fixtures.js';

describe('Cache-Control: no-store on the API', () => {
  let s: TestServer;
  let token: string;
  let patientId: string;
  before(async () => {
    s = await startTestServer();
    token = await s.login(['physician']);
    treatedBy(s.practitionerOf(token));
    patientId = (await call(s.url, 'POST', '/fhir/Patient', { token, body: patient() })).body.id;
  });
  after(() => s.close());

  const json = { 'content-type': 'application/json' };
  const cases: Array<[string, string, string, () => Parameters<typeof call>[3], number]> = [
    ['a record read', 'GET', '/fhir/Patient/{patient}', () => ({ token }), 200],
    ['a search', 'GET', '/fhir/Patient?_id={patient}', () => ({ token }), 200],
    ['a create', 'POST', '/fhir/Patient', () => ({ token, body: patient() }), 201],
    ['the capability statement', 'GET', '/fhir/metadata', () => ({}), 200],
    ['a FHIR request without a token', 'GET', '/fhir/Patient/{patient}', () => ({}), 401],
    ['an unknown FHIR path', 'GET', '/fhir/Patient/{patient}/nothing/here', () => ({ token }), 404],
    ['invalid FHIR input', 'POST', '/fhir/Patient', () => ({ token, raw: '{"resourceType": ' }), 400],
    ['the signed-in account', 'GET', '/api/me', () => ({ token }), 200],
    ['a failed sign-in', 'POST', '/api/session', () => ({ body: { username: 'nobody-here', password: PASSWORD }, headers: json }), 401],
    ['a token request without an assertion', 'POST', '/auth/token', () => ({ body: {}, headers: json }), 400],
  ];
  for (const [name, method, path, opts, status] of cases) {
    test(`${name}: ${status}, no-store`, async () => {
      const res = await call(s.url, method, path.replace('{patient}', patientId), opts());
      assert.equal(res.status, status, JSON.stringify(res.body));
      assert.equal(res.headers.get('cache-control'), 'no-store');
    });
  }

  test('other paths are left as their routes set them (the SMART configuration)', async () => {
    const res = await fetch(`${s.url}/.well-known/smart-configuration`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), null);
  });
});
