import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { call, startTestServer, type TestServer } from './helpers/harness.js';
import { patient, treatedBy } from './helpers/fixtures.js';

/** Bad input gets a 4xx OperationOutcome, stores nothing and echoes none of what was sent. */
describe('FHIR invalid input', () => {
  let s: TestServer;
  let token: string;
  const fhir = (method: string, path: string, opts: Parameters<typeof call>[3] = {}) => call(s.url, method, `/fhir${path}`, { token, ...opts });
  const versions = async () => (await s.cw.db.query<{ n: number }>('select count(*)::int as n from records_version')).rows[0].n;

  before(async () => {
    s = await startTestServer({ bodyLimitBytes: 64 * 1024 });
    token = await s.login(['physician']);
    treatedBy(s.practitionerOf(token));
  });
  after(() => s.close());

  const cases: Array<[string, string, string, Parameters<typeof call>[3], number]> = [
    ['malformed JSON', 'POST', '/Patient', { raw: '{"resourceType": "Patient", "name": [' }, 400],
    ['not an object', 'POST', '/Patient', { body: ['Patient'] }, 400],
    ['unknown resourceType', 'POST', '/Patient', { body: { resourceType: 'Spaceship' } }, 400],
    ['resourceType not matching the URL', 'POST', '/Patient', { body: { resourceType: 'Observation', status: 'final', code: { text: 'x' } } }, 400],
    ['wrong element type', 'POST', '/Patient', { body: { resourceType: 'Patient', birthDate: 19610423 } }, 400],
    ['unknown element', 'POST', '/Patient', { body: { resourceType: 'Patient', favouriteColour: 'Secretcolourvalue' } }, 400],
    ['name as a string', 'POST', '/Patient', { body: { resourceType: 'Patient', name: 'Jane Secretname' } }, 400],
    ['bad date', 'POST', '/Patient', { body: { resourceType: 'Patient', birthDate: '1961-13-45' } }, 400],
    ['missing required element', 'POST', '/Observation', { body: { resourceType: 'Observation', code: { text: 'x' } } }, 400],
    ['unsupported type in the URL', 'POST', '/Spaceship', { body: { resourceType: 'Spaceship' } }, 404],
    [
      'oversized body',
      'POST',
      '/Patient',
      { body: { ...patient(), text: { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml">${'x'.repeat(100_000)}</div>` } } },
      413,
    ],
    ['invalid id in body', 'POST', '/Patient', { body: { resourceType: 'Patient', id: 'no spaces allowed' } }, 400],
  ];
  for (const [name, method, path, opts, status] of cases) {
    test(`${name} → ${status} OperationOutcome, nothing stored`, async () => {
      const before = await versions();
      const res = await fhir(method, path, opts);
      assert.equal(res.status, status, JSON.stringify(res.body));
      assert.equal(res.body?.resourceType, 'OperationOutcome');
      assert.ok(res.body.issue.length > 0);
      assert.equal(await versions(), before);
      const text = JSON.stringify(res.body);
      for (const secret of ['Secretname', 'Secretcolourvalue', '19610423', '1961-13-45']) assert.ok(!text.includes(secret), `echoed ${secret}`);
    });
  }

  test('update: id mismatch, missing id, unknown resource, bad If-Match', async () => {
    const p = (await fhir('POST', '/Patient', { body: patient() })).body;
    const before = await versions();
    assert.equal((await fhir('PUT', `/Patient/${p.id}`, { body: { ...p, id: 'another-id' } })).status, 400);
    const { id: _id, ...noId } = p;
    assert.equal((await fhir('PUT', `/Patient/${p.id}`, { body: noId })).status, 400);
    // A chart that does not exist answers like one the caller may not touch: probing ids tells nothing.
    assert.equal((await fhir('PUT', '/Patient/never-created', { body: { ...p, id: 'never-created' } })).status, 403);
    assert.equal((await fhir('PUT', `/Patient/${p.id}`, { body: p, headers: { 'if-match': 'banana' } })).status, 400);
    assert.equal((await fhir('PUT', `/Patient/${p.id}`, { body: { ...p, gender: 7 } })).status, 400);
    assert.equal(await versions(), before);
    assert.equal((await fhir('GET', `/Patient/${p.id}`)).body.meta.versionId, '1');
  });

  test('reads of things that do not exist', async () => {
    // Patient data that does not exist is refused like patient data that is hidden (403), so that
    // guessing ids tells a caller nothing; malformed ids, unknown types and the clinic directory say 404.
    assert.equal((await fhir('GET', '/Patient/nope')).status, 403);
    assert.equal((await fhir('GET', '/Patient/bad id!')).status, 404);
    assert.equal((await fhir('GET', '/Spaceship/1')).status, 404);
    assert.equal((await fhir('GET', '/Practitioner/nope')).status, 404);
    assert.equal((await fhir('GET', '/Patient/nope/_history/1')).status, 403);
    assert.equal((await fhir('DELETE', '/Patient/nope')).status, 403);
    const res = await fhir('GET', '/Patient/nope');
    assert.equal(res.body.resourceType, 'OperationOutcome');
  });
});
