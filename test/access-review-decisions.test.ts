/**
 * Review decisions that cannot be made by accident: finding a break-the-glass access inappropriate
 * needs a note saying why, and ends the grant at once (the chart is refused again).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SYSTEM } from '../src/shared/index.js';
import { call, startTestServer, type TestServer } from './helpers/harness.js';

describe('break-the-glass review decisions', () => {
  let s: TestServer;
  let doctor: string;
  let officer: string;
  let patient = '';
  const open = async () => {
    const r = await call(s.url, 'POST', '/api/break-glass', {
      token: doctor,
      body: { patient, reason: 'emergency-treatment', justification: 'Found unresponsive in the corridor' },
    });
    assert.equal(r.status, 201);
    return r.body as { id: string; expiresAt: string };
  };
  const review = (id: string, body: unknown) => call(s.url, 'POST', `/api/break-glass/${id}/review`, { token: officer, body });

  before(async () => {
    s = await startTestServer();
    doctor = await s.login(['physician'], 'dr-review');
    officer = await s.login(['privacy-officer'], 'po-review');
    patient = (
      await s.cw.fhir.create(SYSTEM, 'Patient', {
        resourceType: 'Patient',
        name: [{ given: ['Ingrid'], family: 'Sorensen' }],
        birthDate: '1948-02-11',
        identifier: [{ type: { coding: [{ code: 'MR' }] }, value: 'MRN-4471' }],
      })
    ).id;
  });
  after(() => s?.close());

  test('inappropriate without a note, or with a token one, is refused and changes nothing', async () => {
    const grant = await open();
    for (const body of [{ decision: 'inappropriate' }, { decision: 'inappropriate', note: '' }, { decision: 'inappropriate', note: '   no   ' }]) {
      const r = await review(grant.id, body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.match(JSON.stringify(r.body), /needs a note/);
    }
    const list = await call(s.url, 'GET', '/api/break-glass?status=unreviewed', { token: officer });
    const g = list.body.grants.find((x: { id: string }) => x.id === grant.id);
    assert.equal(g.status, 'unreviewed');
    assert.equal(g.active, true);
    assert.equal((await call(s.url, 'GET', `/fhir/Patient/${patient}`, { token: doctor })).status, 200, 'the grant still holds');
  });

  test('inappropriate with a note ends the grant at once: the chart is refused again', async () => {
    const grant = await open();
    assert.equal((await call(s.url, 'GET', `/fhir/Patient/${patient}`, { token: doctor })).status, 200);
    const r = await review(grant.id, { decision: 'inappropriate', note: 'No emergency on the ward log at that time' });
    assert.equal(r.status, 204);
    // Both grants were this doctor's: end the first one too, so nothing else lets them in.
    const first = (await call(s.url, 'GET', '/api/break-glass?status=all', { token: officer })).body.grants.filter(
      (x: { id: string; active: boolean }) => x.id !== grant.id && x.active,
    );
    for (const other of first) assert.equal((await review(other.id, { decision: 'inappropriate', note: 'Same episode, same finding' })).status, 204);
    const all = (await call(s.url, 'GET', '/api/break-glass?status=all', { token: officer })).body.grants;
    const ended = all.find((x: { id: string }) => x.id === grant.id);
    assert.equal(ended.active, false);
    assert.ok(Date.parse(ended.expiresAt) < Date.parse(grant.expiresAt), 'the end moved to the review');
    assert.equal(ended.review.decision, 'inappropriate');
    assert.equal((await call(s.url, 'GET', `/fhir/Patient/${patient}`, { token: doctor })).status, 403);
  });

  test('appropriate needs no note and leaves the grant running', async () => {
    const grant = await open();
    assert.equal((await review(grant.id, { decision: 'appropriate' })).status, 204);
    const g = (await call(s.url, 'GET', '/api/break-glass?status=all', { token: officer })).body.grants.find((x: { id: string }) => x.id === grant.id);
    assert.equal(g.active, true);
  });

  test('the queue names people: the user and the reviewer by name and roles, the patient by who they are; each patient named is recorded', async () => {
    const practitioner = s.practitionerOf(doctor).replace('Practitioner/', '');
    await s.cw.fhir.update(SYSTEM, 'Practitioner', practitioner, {
      resourceType: 'Practitioner',
      id: practitioner,
      name: [{ prefix: ['Dr'], given: ['Ana'], family: 'Ruiz' }],
    });
    const officerRecord = s.practitionerOf(officer).replace('Practitioner/', '');
    await s.cw.fhir.update(SYSTEM, 'Practitioner', officerRecord, { resourceType: 'Practitioner', id: officerRecord, name: [{ text: 'Paula Oyelaran' }] });
    const grant = await open();
    const before = (await s.cw.audit.search({ actions: ['lookup'], count: 0, offset: 0 })).total;
    const listed = (await call(s.url, 'GET', '/api/break-glass?status=all', { token: officer })).body.grants;
    const g = listed.find((x: { id: string }) => x.id === grant.id);
    assert.deepEqual(g.user, { name: 'Dr Ana Ruiz', roles: ['physician'] });
    assert.deepEqual(g.patientIdentity, { name: 'Ingrid Sorensen', birthDate: '1948-02-11', mrn: 'MRN-4471' });
    assert.equal(g.reviewerName, undefined, 'not reviewed yet');
    const named = await s.cw.audit.search({ actions: ['lookup'], count: 100, offset: 0, newestFirst: true });
    assert.equal(named.total - before, 1, 'one patient named (every grant listed is on the same patient): one lookup record');
    const rec = named.entries[0]!.record;
    assert.deepEqual([rec.user?.username, rec.patient, rec.purposeOfUse], ['po-review', patient, 'HCOMPL']);

    assert.equal((await review(grant.id, { decision: 'appropriate' })).status, 204);
    const reviewed = (await call(s.url, 'GET', '/api/break-glass?status=all', { token: officer })).body.grants.find((x: { id: string }) => x.id === grant.id);
    assert.equal(reviewed.reviewerName, 'Paula Oyelaran');
    // Nobody else reads the queue, with or without names.
    assert.equal((await call(s.url, 'GET', '/api/break-glass?status=all', { token: doctor })).status, 403);
  });
});
