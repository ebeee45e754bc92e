/**
 * Attacks on the access rules by an insider: a physician with a valid account and no relationship
 * to the victim tries every way in. Each attempt must fail and reveal nothing (not even that the
 * records exist). _include, _revinclude, _has, compartment search and conditional create/update
 * are attacked in fhir-search-advanced.test.ts; expired emergency grants in access-grants.test.ts.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, test } from 'node:test';
import type { Resource } from '@medplum/fhirtypes';
import { SYSTEM } from '../src/shared/index.js';
import { call, startTestServer, type TestServer } from './helpers/harness.js';
import { observation } from './helpers/fixtures.js';

let s: TestServer;
let attacker: string;
let victim: Resource & { id: string };
let victimObservation: Resource & { id: string };
let teamId: string;
const NAME = { family: 'Vulnerabile', given: 'Quintessa' };
const MRN = 'urn:carewall:test:mrn|MRN-VICTIM-77';

before(async () => {
  s = await startTestServer();
  attacker = await s.login(['physician'], 'dr-curious');
  const make = async (body: Resource) => (await s.cw.fhir.create(SYSTEM, body.resourceType, body)).resource as Resource & { id: string };
  victim = await make({
    resourceType: 'Patient',
    identifier: [{ system: 'urn:carewall:test:mrn', value: 'MRN-VICTIM-77' }],
    name: [{ family: NAME.family, given: [NAME.given] }],
    birthDate: '1955-07-14',
  });
  // The attacker was on the victim's care team once: the relationship has ended since.
  const team = await make({
    resourceType: 'CareTeam',
    status: 'active',
    subject: { reference: `Patient/${victim.id}` },
    participant: [{ member: { reference: s.practitionerOf(attacker) } }],
  });
  teamId = team.id;
  victimObservation = await make(observation(victim.id, '8867-4', 88) as Resource);
});

after(() => s?.close());

const get = (path: string, token = attacker) => call(s.url, 'GET', path, { token });

/** A refusal names nothing of the patient. */
function assertRevealsNothing(body: unknown): void {
  const text = JSON.stringify(body);
  for (const secret of [NAME.family, NAME.given, 'MRN-VICTIM-77', victim.id, '1955-07-14']) assert.ok(!text.includes(secret), 'refusal reveals patient data');
}

test('while the care relationship lasts the attacker can read; once it ends, old versions and history are closed too', async () => {
  assert.equal((await get(`/fhir/Observation/${victimObservation.id}/_history/1`)).status, 200);
  const team = (await s.cw.fhir.read(SYSTEM, 'CareTeam', teamId)).resource!;
  await s.cw.fhir.update(SYSTEM, 'CareTeam', teamId, { ...team, status: 'inactive' });

  for (const path of [
    `/fhir/Patient/${victim.id}`,
    `/fhir/Patient/${victim.id}/_history/1`,
    `/fhir/Patient/${victim.id}/_history`,
    `/fhir/Observation/${victimObservation.id}/_history/1`,
    `/fhir/Observation/${victimObservation.id}/_history`,
  ]) {
    const res = await get(path);
    assert.equal(res.status, 403, path);
    assert.equal(res.body.resourceType, 'OperationOutcome');
    assertRevealsNothing(res.body);
  }
});

test('guessing ids: an existing hidden record and a made-up id answer alike', async () => {
  const hidden = await get(`/fhir/Observation/${victimObservation.id}`);
  const invented = await get(`/fhir/Observation/${crypto.randomUUID()}`);
  assert.equal(hidden.status, 403);
  assert.equal(invented.status, 403);
  assert.deepEqual(hidden.body, invented.body);
  const inventedVersion = await get(`/fhir/Observation/${victimObservation.id}/_history/99`);
  assert.equal(inventedVersion.status, 403);
});

test('searching by name, identifier, birth date or patient finds nothing, and counts nothing', async () => {
  for (const query of [
    `/fhir/Patient?name=${NAME.family}`,
    `/fhir/Patient?family=Vulner`,
    `/fhir/Patient?given=${NAME.given}`,
    `/fhir/Patient?identifier=${encodeURIComponent(MRN)}`,
    '/fhir/Patient?birthdate=1955-07-14',
    `/fhir/Patient?_id=${victim.id}`,
    `/fhir/Observation?patient=${victim.id}`,
    `/fhir/Observation?subject=Patient/${victim.id}&_summary=count`,
    `/fhir/Observation?code=8867-4&_total=accurate`,
    `/fhir/Patient?name=${NAME.family}&_summary=count`,
  ]) {
    const res = await get(query);
    assert.equal(res.status, 200, query);
    assert.equal(res.body.total, 0, query);
    assert.equal((res.body.entry ?? []).length, 0, query);
    assert.ok(!(res.body.link ?? []).some((l: { relation: string }) => l.relation === 'next'), `${query}: paging hints at hidden records`);
  }
  // Control: the same queries do find the patient for the system, so the queries themselves are right.
  const control = await s.cw.fhir.search(SYSTEM, 'Patient', { identifier: [MRN] }, new URL('http://x/fhir/Patient'));
  assert.equal(control.total, 1);
});

test("type-level history shows none of the victim's versions", async () => {
  for (const type of ['Patient', 'Observation', 'CareTeam']) {
    const res = await get(`/fhir/${type}/_history?_count=1000`);
    assert.equal(res.status, 200);
    assert.equal(res.body.total, 0, type);
  }
});

test('Bundle entries are decided one by one like the same requests on their own', async () => {
  const batch = await call(s.url, 'POST', '/fhir', {
    token: attacker,
    body: {
      resourceType: 'Bundle',
      type: 'batch',
      entry: [
        { request: { method: 'GET', url: `Patient/${victim.id}` } },
        { request: { method: 'GET', url: `Observation?patient=${victim.id}` } },
        { request: { method: 'POST', url: 'Observation' }, resource: observation(victim.id, '8867-4', 1) },
      ],
    },
  });
  assert.equal(batch.status, 200);
  assert.equal(batch.body.entry[0].response.status, '403');
  assert.equal(batch.body.entry[1].resource.total, 0);
  assert.equal(batch.body.entry[2].response.status, '403');
  // (The search entry's self link repeats the attacker's own query; the refusals say nothing.)
  assertRevealsNothing(batch.body.entry[0]);
  assertRevealsNothing(batch.body.entry[2]);

  const tx = await call(s.url, 'POST', '/fhir', {
    token: attacker,
    body: {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [{ request: { method: 'POST', url: 'Observation' }, resource: observation(victim.id, '8867-4', 2) }],
    },
  });
  assert.equal(tx.status, 403);
  assertRevealsNothing(tx.body);
  // A transaction is checked entry after entry against what the entries before it wrote: a care team
  // naming the attacker, written in passing, opens nothing for the entries after it.
  const sneaky = await call(s.url, 'POST', '/fhir', {
    token: attacker,
    body: {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          request: { method: 'POST', url: 'CareTeam' },
          resource: {
            resourceType: 'CareTeam',
            status: 'active',
            subject: { reference: `Patient/${victim.id}` },
            participant: [{ member: { reference: s.practitionerOf(attacker) } }],
          },
        },
        { request: { method: 'POST', url: 'Observation' }, resource: observation(victim.id, '8867-4', 3) },
      ],
    },
  });
  assert.equal(sneaky.status, 403);
  const stored = await s.cw.fhir.search(SYSTEM, 'Observation', { patient: [victim.id] }, new URL('http://x/fhir/Observation'));
  assert.equal(stored.total, 1, 'nothing was written into the chart');
});

test('writing into the chart is refused and changes nothing: create, update, delete, moving a record in', async () => {
  const before = (await s.cw.fhir.read(SYSTEM, 'Observation', victimObservation.id)).versionId;
  const create = await call(s.url, 'POST', '/fhir/Observation', { token: attacker, body: observation(victim.id, '8867-4', 3) });
  assert.equal(create.status, 403);
  const current = (await s.cw.fhir.read(SYSTEM, 'Observation', victimObservation.id)).resource!;
  assert.equal(
    (await call(s.url, 'PUT', `/fhir/Observation/${victimObservation.id}`, { token: attacker, body: { ...current, status: 'entered-in-error' } })).status,
    403,
  );
  assert.equal((await call(s.url, 'DELETE', `/fhir/Observation/${victimObservation.id}`, { token: attacker })).status, 403);
  assert.equal((await s.cw.fhir.read(SYSTEM, 'Observation', victimObservation.id)).versionId, before);

  // Moving one of the attacker's own patient's records into the victim's chart is a write there too.
  const own = await call(s.url, 'POST', '/fhir/Patient', {
    token: attacker,
    body: { resourceType: 'Patient', name: [{ family: 'Ownpatient' }], generalPractitioner: [{ reference: s.practitionerOf(attacker) }] },
  });
  assert.equal(own.status, 201);
  const ownObs = await call(s.url, 'POST', '/fhir/Observation', { token: attacker, body: observation(own.body.id) });
  assert.equal(ownObs.status, 201);
  const moved = await call(s.url, 'PUT', `/fhir/Observation/${ownObs.body.id}`, {
    token: attacker,
    body: { ...ownObs.body, subject: { reference: `Patient/${victim.id}` } },
  });
  assert.equal(moved.status, 403);
  assert.equal((await s.cw.fhir.read(SYSTEM, 'Observation', ownObs.body.id)).resource!.id, ownObs.body.id);
  assert.equal(
    ((await s.cw.fhir.read(SYSTEM, 'Observation', ownObs.body.id)).resource as { subject: { reference: string } }).subject.reference,
    `Patient/${own.body.id}`,
  );
});

test('an insider cannot create the relationship that would let them in', async () => {
  const me = { reference: s.practitionerOf(attacker) };
  const subject = { reference: `Patient/${victim.id}` };
  const attempts: Resource[] = [
    { resourceType: 'CareTeam', status: 'active', subject, participant: [{ member: me }] },
    {
      resourceType: 'Encounter',
      status: 'in-progress',
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
      subject,
      participant: [{ individual: me }],
    },
    { resourceType: 'EpisodeOfCare', status: 'active', patient: subject, careManager: me },
    { resourceType: 'ServiceRequest', status: 'active', intent: 'order', subject, performer: [me], code: { text: 'referral' } },
  ];
  for (const body of attempts)
    assert.equal((await call(s.url, 'POST', `/fhir/${body.resourceType}`, { token: attacker, body })).status, 403, body.resourceType);
  // Nor join a ward or department: the directory is the administrator's.
  const role = await call(s.url, 'POST', '/fhir/PractitionerRole', { token: attacker, body: { resourceType: 'PractitionerRole', practitioner: me } });
  assert.equal(role.status, 403);
  // Nor name themselves the victim's general practitioner.
  const patient = (await s.cw.fhir.read(SYSTEM, 'Patient', victim.id)).resource!;
  assert.equal((await call(s.url, 'PUT', `/fhir/Patient/${victim.id}`, { token: attacker, body: { ...patient, generalPractitioner: [me] } })).status, 403);
  assert.equal((await get(`/fhir/Patient/${victim.id}`)).status, 403);
});

test('the token of a disabled user opens nothing', async () => {
  const token = await s.login(['physician'], 'dr-leaving');
  const subject = { reference: `Patient/${victim.id}` };
  await s.cw.fhir.create(SYSTEM, 'CareTeam', {
    resourceType: 'CareTeam',
    status: 'active',
    subject,
    participant: [{ member: { reference: s.practitionerOf(token) } }],
  });
  assert.equal((await get(`/fhir/Patient/${victim.id}`, token)).status, 200);
  await s.cw.identity.disableAccount('dr-leaving');
  const res = await get(`/fhir/Patient/${victim.id}`, token);
  assert.equal(res.status, 401);
  assertRevealsNothing(res.body);
});
