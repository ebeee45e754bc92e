/**
 * `_elements` on search and read (issue 30): the root elements asked for, plus what FHIR keeps
 * whatever is asked (id, meta, mandatory and modifier elements), tagged SUBSETTED when anything was
 * left out; names it cannot honour (nested paths, elements of no type in the answer) are refused
 * with an OperationOutcome that does not repeat them, and a refused read reads nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Resource } from '@medplum/fhirtypes';
import { SYSTEM } from '../src/shared/index.js';
import { call, startTestServer, type TestServer } from './helpers/harness.js';
import { observation } from './helpers/fixtures.js';

const subsetted = (r: { meta?: { tag?: Array<{ code?: string }> } }) => (r.meta?.tag ?? []).some((t) => t.code === 'SUBSETTED');

describe('FHIR _elements', () => {
  let s: TestServer;
  let doctor: string;
  let patientId: string;
  let obsId: string;
  before(async () => {
    s = await startTestServer({ audit: { intervalSeconds: 0 } });
    doctor = await s.login(['physician'], 'dr-elements');
    patientId = (
      await s.cw.fhir.create(SYSTEM, 'Patient', {
        resourceType: 'Patient',
        active: true,
        name: [{ family: 'Elementa' }],
        gender: 'female',
        birthDate: '1980-05-12',
        generalPractitioner: [{ reference: s.practitionerOf(doctor) }],
      })
    ).id;
    obsId = (await s.cw.fhir.create(SYSTEM, 'Observation', observation(patientId) as Resource)).id;
  });
  after(() => s?.close());
  const get = (path: string) => call(s.url, 'GET', path, { token: doctor });

  test('a read keeps the elements named and those FHIR always keeps, and says it is subsetted', async () => {
    const r = await get(`/fhir/Patient/${patientId}?_elements=name`);
    assert.equal(r.status, 200);
    assert.deepEqual(Object.keys(r.body).sort(), ['active', 'id', 'meta', 'name', 'resourceType'], 'active is a modifier: kept');
    assert.ok(subsetted(r.body));
    // vread too; the whole resource without _elements, untagged.
    const v = await get(`/fhir/Patient/${patientId}/_history/1?_elements=gender`);
    assert.deepEqual(Object.keys(v.body).sort(), ['active', 'gender', 'id', 'meta', 'resourceType']);
    const whole = await get(`/fhir/Patient/${patientId}`);
    assert.equal(whole.body.birthDate, '1980-05-12');
    assert.ok(!subsetted(whole.body));
    // History too, for every version.
    const h = await get(`/fhir/Patient/${patientId}/_history?_elements=name`);
    assert.deepEqual(Object.keys(h.body.entry[0].resource).sort(), ['active', 'id', 'meta', 'name', 'resourceType']);
    assert.equal((await get(`/fhir/Patient/${patientId}/_history?_elements=name.family`)).status, 400);
    // Everything named: nothing left out, so not subsetted.
    const all = await get(`/fhir/Patient/${patientId}?_elements=name,gender,birthDate,generalPractitioner`);
    assert.ok(!subsetted(all.body));
  });

  test('a search applies it to every match and inclusion; a choice is named without its type', async () => {
    const r = await get(`/fhir/Observation?patient=${patientId}&_elements=code`);
    assert.equal(r.status, 200);
    const o = r.body.entry[0].resource;
    assert.equal(o.id, obsId);
    assert.deepEqual(Object.keys(o).sort(), ['code', 'id', 'meta', 'resourceType', 'status'], 'status is mandatory and a modifier');
    assert.ok(subsetted(o));
    const value = (await get(`/fhir/Observation?patient=${patientId}&_elements=value,effective`)).body.entry[0].resource;
    assert.equal(value.valueQuantity.value, 72);
    assert.equal(value.effectiveDateTime, '2024-03-01T10:00:00Z');
    assert.equal(value.subject, undefined);
    // A typed name applies to its type only: the included Patient keeps its name, the Observation its code.
    const inc = await get(`/fhir/Observation?patient=${patientId}&_include=Observation:patient&_elements=Patient.name,Observation.code`);
    const byType = Object.fromEntries(inc.body.entry.map((e: { resource: Resource }) => [e.resource.resourceType, e.resource]));
    assert.deepEqual(byType.Patient.name, [{ family: 'Elementa' }]);
    assert.equal(byType.Patient.gender, undefined);
    assert.ok(byType.Observation.code);
    assert.equal(byType.Observation.valueQuantity, undefined);
    // The search stored nothing: the stored resource is whole.
    assert.equal(((await s.cw.fhir.read(SYSTEM, 'Observation', obsId)).resource as { valueQuantity?: unknown }).valueQuantity !== undefined, true);
  });

  test('names it cannot honour are refused with an OperationOutcome that does not repeat them', async () => {
    for (const bad of ['name.family', 'Zzsecretname', 'Observation.code', '', 'name:x', 'Nonsense.name']) {
      for (const path of [`/fhir/Patient?_id=${patientId}&_elements=${bad}`, `/fhir/Patient/${patientId}?_elements=${bad}`]) {
        const r = await get(path);
        assert.equal(r.status, 400, `${path}`);
        assert.equal(r.body.resourceType, 'OperationOutcome');
        if (bad.length > 4) assert.ok(!JSON.stringify(r.body).includes(bad), 'the value is not echoed');
      }
    }
    assert.equal((await get(`/fhir/Patient?_id=${patientId}&_elements:exact=name`)).status, 400);
    // Conditional criteria take search parameters only.
    const conditional = await call(s.url, 'PUT', `/fhir/Patient?_elements=name`, { token: doctor, body: { resourceType: 'Patient' } });
    assert.equal(conditional.status, 400);
    // An unknown type is still the read's 404, not an _elements complaint.
    assert.equal((await get(`/fhir/Nonsense/1?_elements=name`)).status, 404);
  });
});
