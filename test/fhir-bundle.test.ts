import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { call, startTestServer, type TestServer } from './helpers/harness.js';
import { observation, patient, treatedBy } from './helpers/fixtures.js';

describe('FHIR transaction and batch Bundles', () => {
  let s: TestServer;
  let token: string;
  const fhir = (method: string, path: string, opts: Parameters<typeof call>[3] = {}) => call(s.url, method, `/fhir${path}`, { token, ...opts });
  const versions = async () => (await s.cw.db.query<{ n: number }>('select count(*)::int as n from records_version')).rows[0].n;

  before(async () => {
    s = await startTestServer();
    token = await s.login(['physician']);
    treatedBy(s.practitionerOf(token));
  });
  after(() => s.close());

  test('a transaction creates a patient and records that reference it by urn:uuid', async () => {
    const urn = 'urn:uuid:11111111-2222-3333-4444-555555555555';
    const obs = observation('placeholder') as any;
    obs.subject = { reference: urn };
    const res = await fhir('POST', '', {
      body: {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          { fullUrl: `${urn}-obs`, resource: obs, request: { method: 'POST', url: 'Observation' } },
          { fullUrl: urn, resource: patient('Transactional'), request: { method: 'POST', url: 'Patient' } },
        ],
      },
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.type, 'transaction-response');
    assert.equal(res.body.entry.length, 2);
    assert.match(res.body.entry[0].response.status, /^201/);
    const patientId = res.body.entry[1].resource.id;
    assert.equal(res.body.entry[0].resource.subject.reference, `Patient/${patientId}`);
    assert.equal((await fhir('GET', `/Observation?patient=${patientId}`)).body.total, 1);
  });

  test('a transaction is all or nothing: one bad entry stores nothing', async () => {
    const p = (await fhir('POST', '/Patient', { body: patient('Atomic') })).body;
    const before = await versions();
    const res = await fhir('POST', '', {
      body: {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          { resource: observation(p.id), request: { method: 'POST', url: 'Observation' } },
          { resource: { ...p, gender: 'other' }, request: { method: 'PUT', url: `Patient/${p.id}` } },
          { resource: { resourceType: 'Observation', status: 'final' }, request: { method: 'POST', url: 'Observation' } },
        ],
      },
    });
    assert.equal(res.status, 400);
    assert.equal(res.body.resourceType, 'OperationOutcome');
    assert.match(res.body.issue[0].diagnostics, /entry 2/);
    assert.equal(await versions(), before);
    assert.equal((await fhir('GET', `/Patient/${p.id}`)).body.gender, 'female');
  });

  test('a transaction whose update is stale (If-Match) rolls back its other writes', async () => {
    const p = (await fhir('POST', '/Patient', { body: patient('Stale') })).body;
    await fhir('PUT', `/Patient/${p.id}`, { body: { ...p, gender: 'male' } });
    const before = await versions();
    const res = await fhir('POST', '', {
      body: {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          { resource: observation(p.id), request: { method: 'POST', url: 'Observation' } },
          { resource: { ...p, gender: 'other' }, request: { method: 'PUT', url: `Patient/${p.id}`, ifMatch: 'W/"1"' } },
        ],
      },
    });
    assert.equal(res.status, 412);
    assert.equal(await versions(), before);
  });

  test('a batch runs each entry on its own and reports each outcome', async () => {
    const p = (await fhir('POST', '/Patient', { body: patient('Batched') })).body;
    const res = await fhir('POST', '', {
      body: {
        resourceType: 'Bundle',
        type: 'batch',
        entry: [
          { resource: observation(p.id), request: { method: 'POST', url: 'Observation' } },
          { resource: { resourceType: 'Observation' }, request: { method: 'POST', url: 'Observation' } },
          { request: { method: 'GET', url: `Patient/${p.id}` } },
          { request: { method: 'GET', url: `Observation?patient=${p.id}` } },
          { request: { method: 'GET', url: 'Patient/missing' } },
          { request: { method: 'DELETE', url: `Patient/${p.id}` } },
        ],
      },
    });
    assert.equal(res.status, 200);
    assert.equal(res.body.type, 'batch-response');
    const statuses = res.body.entry.map((e: any) => e.response.status.slice(0, 3));
    // Patient/missing: patient data that does not exist is refused like hidden patient data.
    assert.deepEqual(statuses, ['201', '400', '200', '200', '403', '422']);
    assert.equal(res.body.entry[1].response.outcome.resourceType, 'OperationOutcome');
    assert.equal(res.body.entry[2].resource.id, p.id);
    assert.equal(res.body.entry[3].resource.total, 1);
  });

  test('malformed bundles are refused', async () => {
    for (const body of [
      { resourceType: 'Bundle', type: 'collection', entry: [] },
      { resourceType: 'Patient' },
      { resourceType: 'Bundle', type: 'transaction', entry: [{ request: { method: 'PATCH', url: 'Patient/1' } }] },
      { resourceType: 'Bundle', type: 'transaction', entry: [{ resource: patient(), request: { method: 'POST', url: 'Patient?identifier=x' } }] },
    ]) {
      const res = await fhir('POST', '', { body });
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.body.resourceType, 'OperationOutcome');
    }
  });
});
