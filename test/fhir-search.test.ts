import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { call, startTestServer, type TestServer } from './helpers/harness.js';
import { encounter, observation, patient, treatedBy } from './helpers/fixtures.js';

describe('FHIR search', () => {
  let s: TestServer;
  let token: string;
  const fhir = (method: string, path: string, opts: Parameters<typeof call>[3] = {}) => call(s.url, method, `/fhir${path}`, { token, ...opts });
  const ids = (bundle: any) => (bundle.entry ?? []).map((e: any) => e.resource.id).sort();
  let mueller: any;
  let mullins: any;
  let other: any;

  before(async () => {
    s = await startTestServer();
    token = await s.login(['physician']);
    treatedBy(s.practitionerOf(token));
    mueller = (
      await fhir('POST', '/Patient', {
        body: patient('Müller-Lüdenscheidt', 'Zoë', { identifier: [{ system: 'urn:mrn', value: 'A-100' }], birthDate: '1970-06-15', gender: 'female' }),
      })
    ).body;
    mullins = (
      await fhir('POST', '/Patient', {
        body: patient('Mullins', 'Xavier', { identifier: [{ system: 'urn:mrn', value: 'A-200' }], birthDate: '1970-11-02', gender: 'male' }),
      })
    ).body;
    other = (
      await fhir('POST', '/Patient', {
        body: patient('Brandtner', 'Zoran', { identifier: [{ system: 'urn:other', value: 'A-100' }], birthDate: '1985-01-30', gender: 'male' }),
      })
    ).body;
    await fhir('POST', '/Observation', { body: observation(mueller.id, '8867-4', 70, '2024-03-01T10:00:00Z') });
    await fhir('POST', '/Observation', { body: observation(mueller.id, '29463-7', 80, '2024-05-10T10:00:00Z') });
    await fhir('POST', '/Observation', { body: observation(mullins.id, '8867-4', 90, '2023-12-31T23:00:00Z') });
    await fhir('POST', '/Encounter', { body: encounter(mueller.id, '2024-02-01T08:00:00Z', '2024-02-03T12:00:00Z') });
    await fhir('POST', '/Encounter', { body: encounter(mullins.id, '2024-06-01T08:00:00Z') });
  });
  after(() => s.close());

  test('name, family and given match word prefixes, ignoring case and accents', async () => {
    assert.deepEqual(ids((await fhir('GET', '/Patient?family=mul')).body), [mueller.id, mullins.id].sort());
    assert.deepEqual(ids((await fhir('GET', '/Patient?family=MUEL')).body), []); // ü folds to u, not ue
    assert.deepEqual(ids((await fhir('GET', '/Patient?family=muller')).body), [mueller.id]);
    assert.deepEqual(ids((await fhir('GET', '/Patient?family=Lüdensch')).body), [mueller.id]);
    assert.deepEqual(ids((await fhir('GET', '/Patient?given=zo')).body), [mueller.id, other.id].sort());
    assert.deepEqual(ids((await fhir('GET', '/Patient?name=zoe')).body), [mueller.id]);
    assert.deepEqual(ids((await fhir('GET', '/Patient?name=zo%20mul')).body), [mueller.id], 'several words must all match');
    assert.deepEqual(ids((await fhir('GET', '/Patient?name=xav,zoran')).body), [mullins.id, other.id].sort(), 'comma means or');
    assert.deepEqual(ids((await fhir('GET', '/Patient?given=mul')).body), [], 'given does not match family names');
  });

  test('identifier by system|value or value; birthdate by day, month or year; gender', async () => {
    assert.deepEqual(ids((await fhir('GET', '/Patient?identifier=urn:mrn|A-100')).body), [mueller.id]);
    assert.deepEqual(ids((await fhir('GET', '/Patient?identifier=A-100')).body), [mueller.id, other.id].sort());
    assert.deepEqual(ids((await fhir('GET', '/Patient?identifier=urn:mrn|A-1')).body), [], 'tokens match exactly');
    assert.deepEqual(ids((await fhir('GET', '/Patient?birthdate=1970-06-15')).body), [mueller.id]);
    assert.deepEqual(ids((await fhir('GET', '/Patient?birthdate=1970')).body), [mueller.id, mullins.id].sort());
    assert.deepEqual(ids((await fhir('GET', '/Patient?birthdate=1970-11')).body), [mullins.id]);
    assert.deepEqual(ids((await fhir('GET', '/Patient?gender=male&birthdate=1970')).body), [mullins.id]);
    const range = await fhir('GET', '/Patient?birthdate=ge1970-01-01');
    assert.equal(range.status, 400);
    assert.equal(range.body.resourceType, 'OperationOutcome');
  });

  test('patient/subject, code, status and date with prefixes', async () => {
    const byPatient = (await fhir('GET', `/Observation?patient=Patient/${mueller.id}`)).body;
    assert.equal(byPatient.total, 2);
    assert.equal((await fhir('GET', `/Observation?subject=${mullins.id}`)).body.total, 1);
    assert.equal((await fhir('GET', `/Observation?code=http://loinc.org|8867-4`)).body.total, 2);
    assert.equal((await fhir('GET', `/Observation?code=8867-4&patient=${mueller.id}`)).body.total, 1);
    assert.equal((await fhir('GET', `/Observation?date=2024`)).body.total, 2);
    assert.equal((await fhir('GET', `/Observation?date=ge2024-04-01`)).body.total, 1);
    assert.equal((await fhir('GET', `/Observation?date=lt2024-01-01`)).body.total, 1);
    assert.equal((await fhir('GET', `/Observation?date=ge2024-01-01&date=le2024-03-31`)).body.total, 1);
    assert.equal((await fhir('GET', `/Encounter?status=in-progress`)).body.total, 1);
    assert.equal((await fhir('GET', `/Encounter?date=2024-02-02`)).body.total, 0, 'eq needs the encounter inside the day');
    assert.equal((await fhir('GET', `/Encounter?date=ge2024-02-02&date=le2024-02-02`)).body.total, 1, 'overlap via ge/le');
    assert.equal((await fhir('GET', `/Encounter?date=ge2030-01-01`)).body.total, 1, 'an open period reaches into the future');
  });

  test('_id and _lastUpdated', async () => {
    assert.deepEqual(ids((await fhir('GET', `/Patient?_id=${mueller.id},${other.id}`)).body), [mueller.id, other.id].sort());
    assert.ok((await fhir('GET', '/Patient?_lastUpdated=ge2000-01-01')).body.total >= 3);
    assert.equal((await fhir('GET', '/Patient?_lastUpdated=lt2000-01-01')).body.total, 0);
  });

  test('_count pages with next/previous links that work', async () => {
    const first = (await fhir('GET', '/Patient?_count=2')).body;
    assert.equal(first.type, 'searchset');
    assert.equal(first.entry.length, 2);
    assert.equal(first.total, 3);
    const next = first.link.find((l: any) => l.relation === 'next').url as string;
    const second = (await call(s.url, 'GET', new URL(next).pathname + new URL(next).search, { token })).body;
    assert.equal(second.entry.length, 1);
    assert.ok(second.link.some((l: any) => l.relation === 'previous'));
    assert.ok(!second.link.some((l: any) => l.relation === 'next'));
    const all = [...first.entry, ...second.entry].map((e: any) => e.resource.id).sort();
    assert.deepEqual(all, [mueller.id, mullins.id, other.id].sort());
    const count = (await fhir('GET', '/Patient?_summary=count')).body;
    assert.equal(count.total, 3);
    assert.equal(count.entry?.length ?? 0, 0);
  });

  test('POST _search takes form parameters and answers like GET', async () => {
    const res = await fhir('POST', '/Patient/_search', {
      raw: 'family=mullins&birthdate=1970',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(res.status, 200);
    assert.deepEqual(ids(res.body), [mullins.id]);
  });

  test('unknown parameters, modifiers and one-letter names are refused with an OperationOutcome', async () => {
    for (const q of ['/Patient?nickname=x', '/Patient?name:exact=Mullins', '/Patient?family=m', '/Observation?date=yesterday', '/Patient?_count=abc']) {
      const res = await fhir('GET', q);
      assert.equal(res.status, 400, q);
      assert.equal(res.body.resourceType, 'OperationOutcome', q);
    }
  });

  test('search results do not include deleted resources', async () => {
    const p = (await fhir('POST', '/Patient', { body: patient('Vanishing') })).body;
    assert.equal((await fhir('GET', '/Patient?family=vanish')).body.total, 1);
    await fhir('DELETE', `/Patient/${p.id}`);
    assert.equal((await fhir('GET', '/Patient?family=vanish')).body.total, 0);
  });
});
