import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SYSTEM } from '../src/shared/index.js';
import { call, startTestServer, type TestServer } from './helpers/harness.js';
import { encounter, observation, patient, treatedBy } from './helpers/fixtures.js';

describe('FHIR read, vread, create, update, delete, history', () => {
  let s: TestServer;
  let token: string;
  const fhir = (method: string, path: string, opts: Parameters<typeof call>[3] = {}) => call(s.url, method, `/fhir${path}`, { token, ...opts });

  before(async () => {
    s = await startTestServer();
    token = await s.login(['physician']);
    treatedBy(s.practitionerOf(token));
  });
  after(() => s.close());

  test('create assigns an id and answers with Location, ETag and Last-Modified', async () => {
    const res = await fhir('POST', '/Patient', { body: { ...patient(), id: 'client-chosen' } });
    assert.equal(res.status, 201);
    assert.match(res.headers.get('content-type')!, /application\/fhir\+json/);
    assert.notEqual(res.body.id, 'client-chosen', 'the server assigns ids');
    assert.match(res.body.id, /^[0-9a-f-]{36}$/);
    assert.equal(res.body.meta.versionId, '1');
    assert.equal(res.headers.get('etag'), 'W/"1"');
    assert.ok(res.headers.get('last-modified'));
    assert.ok(res.headers.get('location')!.endsWith(`/fhir/Patient/${res.body.id}/_history/1`));
    const read = await fhir('GET', `/Patient/${res.body.id}`);
    assert.equal(read.status, 200);
    assert.deepEqual(read.body.name, [{ family: 'Quennell', given: ['Ottoline'] }]);
    assert.equal(read.headers.get('etag'), 'W/"1"');
  });

  test('update makes a new version; vread returns each version; history keeps all', async () => {
    const created = (await fhir('POST', '/Patient', { body: patient('Abernethy') })).body;
    const v2 = await fhir('PUT', `/Patient/${created.id}`, { body: { ...created, gender: 'other' } });
    assert.equal(v2.status, 200);
    assert.equal(v2.body.meta.versionId, '2');
    assert.equal(v2.headers.get('etag'), 'W/"2"');
    assert.equal((await fhir('GET', `/Patient/${created.id}`)).body.gender, 'other');
    assert.equal((await fhir('GET', `/Patient/${created.id}/_history/1`)).body.gender, 'female');
    assert.equal((await fhir('GET', `/Patient/${created.id}/_history/2`)).body.gender, 'other');
    assert.equal((await fhir('GET', `/Patient/${created.id}/_history/3`)).status, 404);
    const hist = await fhir('GET', `/Patient/${created.id}/_history`);
    assert.equal(hist.body.type, 'history');
    assert.equal(hist.body.total, 2);
    assert.deepEqual(
      hist.body.entry.map((e: any) => e.resource.meta.versionId),
      ['2', '1'],
    );
  });

  test('If-Match: the current version succeeds, a stale one gets 412 and changes nothing', async () => {
    const created = (await fhir('POST', '/Patient', { body: patient('Ifmatch') })).body;
    const ok = await fhir('PUT', `/Patient/${created.id}`, { body: { ...created, gender: 'male' }, headers: { 'if-match': 'W/"1"' } });
    assert.equal(ok.status, 200);
    const stale = await fhir('PUT', `/Patient/${created.id}`, { body: { ...created, gender: 'unknown' }, headers: { 'if-match': 'W/"1"' } });
    assert.equal(stale.status, 412);
    assert.equal(stale.body.resourceType, 'OperationOutcome');
    const now = await fhir('GET', `/Patient/${created.id}`);
    assert.equal(now.body.gender, 'male');
    assert.equal(now.body.meta.versionId, '2');
  });

  test('delete is logical: 410 on read, history and vread keep every version', async () => {
    const p = (await fhir('POST', '/Patient', { body: patient('Deleteme') })).body;
    const del = await fhir('DELETE', `/Patient/${p.id}`);
    assert.equal(del.status, 204);
    const read = await fhir('GET', `/Patient/${p.id}`);
    assert.equal(read.status, 410);
    assert.equal(read.body.resourceType, 'OperationOutcome');
    assert.equal((await fhir('GET', `/Patient/${p.id}/_history/1`)).body.name[0].family, 'Deleteme');
    const hist = await fhir('GET', `/Patient/${p.id}/_history`);
    assert.equal(hist.body.total, 2);
    assert.equal(hist.body.entry[0].request.method, 'DELETE');
    assert.equal(hist.body.entry[0].resource, undefined);
    // Deleting again changes nothing; the resource is no longer found by search.
    assert.equal((await fhir('DELETE', `/Patient/${p.id}`)).status, 204);
    assert.equal((await fhir('GET', `/Patient/${p.id}/_history`)).body.total, 2);
    assert.equal((await fhir('GET', `/Patient?_id=${p.id}`)).body.total, 0);
  });

  test('a patient with live records cannot be deleted out from under them', async () => {
    const p = (await fhir('POST', '/Patient', { body: patient('Haschart') })).body;
    await fhir('POST', '/Observation', { body: observation(p.id) });
    const del = await fhir('DELETE', `/Patient/${p.id}`);
    assert.equal(del.status, 422);
    assert.equal((await fhir('GET', `/Patient/${p.id}`)).status, 200);
  });

  test('clinical resources are filed under the patient they reference', async () => {
    const p = (await fhir('POST', '/Patient', { body: patient('Compartment') })).body;
    const obs = await fhir('POST', '/Observation', { body: observation(p.id) });
    assert.equal(obs.status, 201);
    const rows = await s.cw.db.query<{ patient_id: string }>("select patient_id from records_resource where resource_type = 'Observation' and id = $1", [
      obs.body.id,
    ]);
    assert.equal(rows.rows[0].patient_id, p.id);
    // No patient, or a patient that does not exist: refused, nothing stored.
    const before = (await fhir('GET', '/Observation/_history')).body.total;
    const orphan = observation(p.id) as any;
    delete orphan.subject;
    assert.equal((await fhir('POST', '/Observation', { body: orphan })).status, 422);
    // A patient that does not exist is, to a caller, like one they are not related to: refused alike.
    assert.equal((await fhir('POST', '/Observation', { body: observation('does-not-exist') })).status, 403);
    assert.equal(await s.cw.fhir.create(SYSTEM, 'Observation', observation('does-not-exist')).catch((e) => e.status), 422);
    assert.equal((await fhir('GET', '/Observation/_history')).body.total, before);
  });

  test('type history lists versions of every resource of the type, newest first', async () => {
    const p = (await fhir('POST', '/Patient', { body: patient('Typehist') })).body;
    const e = (await fhir('POST', '/Encounter', { body: encounter(p.id) })).body;
    await fhir('PUT', `/Encounter/${e.id}`, { body: { ...e, status: 'finished', period: { start: e.period.start, end: '2024-02-01T09:00:00Z' } } });
    const hist = await fhir('GET', '/Encounter/_history?_count=1');
    assert.equal(hist.body.type, 'history');
    assert.ok(hist.body.total >= 2);
    assert.equal(hist.body.entry.length, 1);
    assert.equal(hist.body.entry[0].resource.meta.versionId, '2');
    assert.ok(hist.body.link.some((l: any) => l.relation === 'next'));
  });

  test('every supported type can be created and read', async () => {
    const p = (await fhir('POST', '/Patient', { body: patient('Alltypes') })).body;
    const subject = { reference: `Patient/${p.id}` };
    const samples: any[] = [
      { resourceType: 'Practitioner', name: [{ family: 'Osler' }] },
      { resourceType: 'PractitionerRole', active: true },
      { resourceType: 'Organization', name: 'Test clinic' },
      { resourceType: 'Location', name: 'Ward T' },
      encounter(p.id),
      {
        resourceType: 'Appointment',
        status: 'booked',
        start: '2024-05-01T09:00:00Z',
        end: '2024-05-01T09:20:00Z',
        participant: [{ actor: subject, status: 'accepted' }],
      },
      { resourceType: 'EpisodeOfCare', status: 'active', patient: subject },
      { resourceType: 'CareTeam', status: 'active', subject },
      { resourceType: 'ServiceRequest', status: 'active', intent: 'order', subject },
      observation(p.id),
      { resourceType: 'Condition', subject, code: { text: 'x' } },
      {
        resourceType: 'AllergyIntolerance',
        patient: subject,
        clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }] },
      },
      { resourceType: 'MedicationRequest', status: 'active', intent: 'order', subject, medicationCodeableConcept: { text: 'x' } },
      { resourceType: 'Procedure', status: 'completed', subject },
      { resourceType: 'DiagnosticReport', status: 'final', code: { text: 'x' }, subject },
      { resourceType: 'DocumentReference', status: 'current', subject, content: [{ attachment: { contentType: 'text/plain', data: 'aGk=' } }] },
      {
        resourceType: 'Consent',
        status: 'active',
        scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
        category: [{ text: 'privacy' }],
        policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN' }] },
        patient: subject,
      },
    ];
    // The clinic directory is written by an administrator, the chart by the patient's physician.
    const admin = await s.login(['admin']);
    const directory = ['Practitioner', 'PractitionerRole', 'Organization', 'Location'];
    for (const r of samples) {
      const res = await fhir('POST', `/${r.resourceType}`, { body: r, ...(directory.includes(r.resourceType) ? { token: admin } : {}) });
      assert.equal(res.status, 201, `${r.resourceType}: ${JSON.stringify(res.body)}`);
      assert.equal((await fhir('GET', `/${r.resourceType}/${res.body.id}`)).status, 200);
    }
  });

  test('unauthenticated and forged tokens get 401 and no data', async () => {
    const p = (await fhir('POST', '/Patient', { body: patient('Private') })).body;
    const anon = await call(s.url, 'GET', `/fhir/Patient/${p.id}`);
    assert.equal(anon.status, 401);
    assert.equal(anon.body.resourceType, 'OperationOutcome');
    const forged = await call(s.url, 'GET', `/fhir/Patient/${p.id}`, { token: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' });
    assert.equal(forged.status, 401);
    assert.ok(!JSON.stringify(forged.body).includes('Private'));
  });

  test('metadata lists exactly the supported types and interactions', async () => {
    const res = await call(s.url, 'GET', '/fhir/metadata');
    assert.equal(res.status, 200);
    assert.equal(res.body.resourceType, 'CapabilityStatement');
    assert.equal(res.body.fhirVersion, '4.0.1');
    const types = res.body.rest[0].resource.map((r: any) => r.type).sort();
    assert.deepEqual(types, [
      'AllergyIntolerance',
      'Appointment',
      'AuditEvent',
      'CareTeam',
      'Condition',
      'Consent',
      'Device',
      'DeviceDefinition',
      'DiagnosticReport',
      'DocumentReference',
      'Encounter',
      'EpisodeOfCare',
      'Group',
      'Location',
      'MedicationRequest',
      'Observation',
      'Organization',
      'Patient',
      'Practitioner',
      'PractitionerRole',
      'Procedure',
      'ServiceRequest',
    ]);
    const patientCaps = res.body.rest[0].resource.find((r: any) => r.type === 'Patient');
    for (const p of ['_id', '_lastUpdated', 'identifier', 'name', 'family', 'given', 'birthdate', 'gender']) {
      assert.ok(
        patientCaps.searchParam.some((sp: any) => sp.name === p),
        p,
      );
    }
    assert.deepEqual(res.body.rest[0].interaction.map((i: any) => i.code).sort(), ['batch', 'transaction']);
    // What it claims about conditional interactions is what the server does.
    assert.equal(patientCaps.conditionalCreate, true);
    assert.equal(patientCaps.conditionalUpdate, true);
    // Group-level export is declared on Group, as it works (test/export-group.test.ts).
    const groupCaps = res.body.rest[0].resource.find((r: any) => r.type === 'Group');
    assert.deepEqual(
      groupCaps.operation.map((o: any) => o.definition),
      ['http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export'],
    );
    assert.ok(['member', 'name', 'type', 'actual'].every((p) => groupCaps.searchParam.some((sp: any) => sp.name === p)));
  });
});
