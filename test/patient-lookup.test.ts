/**
 * A clinician's emergency look-up of any patient (GET /api/patients/lookup): who may ask, what is
 * asked for, what comes back (who the person is, nothing clinical), and that each look-up is in the
 * audit log; the chart itself stays refused until access is given.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { checkShape, PatientLookup } from '../src/api/index.js';
import { SYSTEM } from '../src/shared/index.js';
import { call, startTestServer, type TestServer } from './helpers/harness.js';

const lookup = (s: TestServer, q: string, token?: string) => call(s.url, 'GET', `/api/patients/lookup?q=${encodeURIComponent(q)}`, token ? { token } : {});

describe('emergency patient look-up', () => {
  let s: TestServer;
  let doctor: string;
  let nurse: string;
  let stranger = '';
  before(async () => {
    s = await startTestServer();
    doctor = await s.login(['physician'], 'dr-lookup');
    nurse = await s.login(['nurse'], 'rn-lookup');
    stranger = (
      await s.cw.fhir.create(SYSTEM, 'Patient', {
        resourceType: 'Patient',
        name: [{ family: 'Vasquez', given: ['Elena'] }],
        birthDate: '1950-02-17',
        gender: 'female',
        telecom: [{ system: 'phone', value: '+1 555 0100' }],
        address: [{ line: ['1 Harbour Road'], city: 'Port Town' }],
        identifier: [
          { system: 'urn:other', value: 'INS-77' },
          { system: 'urn:mrn', value: 'MRN-40417', type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }] } },
        ],
      } as never)
    ).id;
    await s.cw.fhir.create(SYSTEM, 'Condition', {
      resourceType: 'Condition',
      subject: { reference: `Patient/${stranger}` },
      code: { text: 'Type 1 diabetes' },
    } as never);
    for (let i = 0; i < 25; i++) await s.cw.fhir.create(SYSTEM, 'Patient', { resourceType: 'Patient', name: [{ family: 'Many', given: [`P${i}`] }] });
  });
  after(() => s?.close());

  test('a physician finds anyone by name, full birth date or record number: who they are, nothing else', async () => {
    for (const q of ['vasq', 'Elena Vasquez', '1950-02-17', 'MRN-40417']) {
      const r = await lookup(s, q, doctor);
      assert.equal(r.status, 200, q);
      checkShape(PatientLookup, r.body, 'lookup');
      assert.deepEqual(r.body.patients, [{ id: stranger, name: 'Elena Vasquez', birthDate: '1950-02-17', mrn: 'MRN-40417' }], q);
      assert.equal(r.headers.get('cache-control'), 'no-store');
    }
    const text = JSON.stringify((await lookup(s, 'Vasquez', nurse)).body);
    for (const clinical of ['female', '555', 'Harbour', 'diabetes', 'INS-77']) assert.ok(!text.includes(clinical), `nothing but identity: ${clinical}`);
    // Looking someone up gives no access to the chart.
    assert.equal((await call(s.url, 'GET', `/fhir/Patient/${stranger}`, { token: doctor })).status, 403);
  });

  test('at most 20 people per look-up', async () => {
    const r = await lookup(s, 'Many', doctor);
    assert.equal(r.status, 200);
    assert.equal(r.body.patients.length, 20);
  });

  test('short or vague queries are refused with a clear error that does not repeat them', async () => {
    for (const q of ['', 'Va', '  e ', '12', 'x'.repeat(101)]) {
      const r = await lookup(s, q, doctor);
      assert.equal(r.status, 400, JSON.stringify(q));
      if (q.trim().length >= 2) assert.ok(!JSON.stringify(r.body).includes(q.trim()), 'the error does not repeat the query');
    }
    assert.equal((await call(s.url, 'GET', '/api/patients/lookup', { token: doctor })).status, 400);
  });

  test('a privacy officer finds the patient whose accesses they examine, recorded as compliance work the monitor leaves out', async () => {
    const officer = await s.login(['privacy-officer'], 'po-lookup');
    const r = await lookup(s, 'Vasquez', officer);
    assert.equal(r.status, 200);
    assert.ok(
      r.body.patients.some((p: { id: string }) => p.id === stranger),
      'found by name',
    );
    const recorded = (await s.cw.audit.search({ actions: ['lookup'], count: 100, offset: 0, newestFirst: true })).entries
      .map((e) => e.record)
      .find((rec) => rec.user?.username === 'po-lookup' && rec.patient === stranger);
    assert.ok(recorded, 'the look-up is recorded with the patient it named');
    assert.deepEqual([recorded.outcome, recorded.purposeOfUse, (recorded.explanation as { basis: string }).basis], ['success', 'HCOMPL', 'identify']);
    // Identity only: the chart itself still needs an investigation.
    assert.equal((await call(s.url, 'GET', `/fhir/Patient/${stranger}`, { token: officer })).status, 403);
  });

  test('the patients an audit search names are identified by id, under the same rule, each one recorded', async () => {
    const officer = await s.login(['privacy-officer'], 'po-identify');
    const identify = (ids: string, token?: string) => call(s.url, 'GET', `/api/patients/identify?ids=${encodeURIComponent(ids)}`, token ? { token } : {});
    const r = await identify(`${stranger},no-such-patient`, officer);
    assert.equal(r.status, 200);
    checkShape(PatientLookup, r.body, 'identify');
    assert.deepEqual(
      r.body.patients,
      [{ id: stranger, name: 'Elena Vasquez', birthDate: '1950-02-17', mrn: 'MRN-40417' }],
      'an id that names nobody is left out',
    );
    const recorded = (await s.cw.audit.search({ actions: ['lookup'], count: 100, offset: 0, newestFirst: true })).entries
      .map((e) => e.record)
      .find((rec) => rec.user?.username === 'po-identify' && rec.patient === stranger);
    assert.equal(recorded?.purposeOfUse, 'HCOMPL', 'recorded as the look-up is');
    const admin = await s.login(['admin']);
    assert.equal((await identify(stranger, admin)).status, 403);
    assert.equal((await identify(stranger)).status, 401);
    for (const bad of ['', 'a b', 'Patient/x', Array.from({ length: 101 }, (_, i) => `p${i}`).join(',')]) {
      assert.equal((await identify(bad, officer)).status, 400, JSON.stringify(bad.slice(0, 20)));
    }
  });

  test('receptionists, billing, lab and other roles may not look up; nor may anyone signed out', async () => {
    assert.equal((await lookup(s, 'Vasquez')).status, 401);
    for (const role of ['receptionist', 'billing', 'lab', 'admin', 'biomedical-engineer', 'security-admin'] as const) {
      const token = await s.login([role]);
      const r = await lookup(s, 'Vasquez', token);
      assert.equal(r.status, 403, role);
      assert.ok(!JSON.stringify(r.body).includes('Vasquez'));
    }
  });

  test('every look-up is in the audit log: each person named, the query sealed, refusals too', async () => {
    const before = (await s.cw.audit.search({ actions: ['lookup'], count: 0, offset: 0 })).total;
    await lookup(s, 'MRN-40417', nurse);
    await lookup(s, 'Nobody-Such-99', nurse);
    const billing = await s.login(['billing'], 'billing-lookup');
    await lookup(s, 'Vasquez', billing);
    const found = await s.cw.audit.search({ actions: ['lookup'], count: 100, offset: 0, newestFirst: true });
    assert.equal(found.total, before + 3);
    const [refused, none, named] = found.entries.map((e) => e.record);
    const namedLeaf = found.entries[2].leaf.toString('utf8');
    assert.deepEqual([named.outcome, named.user?.username, named.patient, named.resource?.type], ['success', 'rn-lookup', stranger, 'Patient']);
    assert.equal((named.explanation as { basis: string }).basis, 'identify');
    assert.ok(named.query === 'q=MRN-40417' && !namedLeaf.includes('MRN-40417'), 'the query is sealed in the leaf');
    assert.deepEqual([none.outcome, none.patient], ['success', undefined]);
    assert.deepEqual([refused.outcome, refused.user?.username], ['denied', 'billing-lookup']);
    // The patient's access report names the look-up.
    const mine = await s.cw.audit.search({ patient: stranger, actions: ['lookup'], count: 100, offset: 0 });
    assert.ok(mine.total >= 1);
  });
});
