/**
 * FHIR Group and Group-level Bulk Data export (issue 30). A Group is reached by role (physicians
 * and nurses) but names patients: each member is shown, matched by a search and exported only to
 * someone who may see that patient. The attacks tried here: reading, searching, updating and
 * exporting a Group that names a patient the caller has no care relationship with, and writing a
 * Group that names one.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Group, Resource } from '@medplum/fhirtypes';
import { SYSTEM } from '../src/shared/index.js';
import { call, startTestServer, type TestServer } from './helpers/harness.js';
import { systemClientKey } from './helpers/systemClient.js';
import { observation } from './helpers/fixtures.js';

describe('FHIR Group and Group-level export', () => {
  let s: TestServer;
  let doctor: string;
  let colleague: string;
  let officer: string;
  let receptionist: string;
  let mine: string;
  let other: string;
  let groupId: string;
  const count = async (sql: string) => (await s.cw.db.query<{ n: number }>(sql)).rows[0].n;
  const members = (g: Group) => (g.member ?? []).map((m) => m.entity.reference);

  before(async () => {
    s = await startTestServer({ audit: { intervalSeconds: 0 } });
    doctor = await s.login(['physician'], 'dr-group');
    colleague = await s.login(['physician'], 'dr-colleague');
    officer = await s.login(['privacy-officer'], 'po-group');
    receptionist = await s.login(['receptionist'], 'front-group');
    const patient = async (family: string, gp: string) =>
      (await s.cw.fhir.create(SYSTEM, 'Patient', { resourceType: 'Patient', name: [{ family }], generalPractitioner: [{ reference: s.practitionerOf(gp) }] }))
        .id;
    mine = await patient('Gruppemann', doctor);
    other = await patient('Verborgen', colleague);
    for (const p of [mine, other, other]) await s.cw.fhir.create(SYSTEM, 'Observation', observation(p) as Resource);
    // Made by the system (an import, say): it names a patient the doctor has no care relationship with.
    groupId = (
      await s.cw.fhir.create(SYSTEM, 'Group', {
        resourceType: 'Group',
        type: 'person',
        actual: true,
        name: 'Diabetes registry',
        quantity: 2,
        text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">Gruppemann, Verborgen</div>' },
        member: [{ entity: { reference: `Patient/${mine}` } }, { entity: { reference: `Patient/${other}` } }],
      })
    ).id;
  });
  after(() => s?.close());

  test('a Group shows each reader only the members they may see, and says it is subsetted', async () => {
    const read = await call(s.url, 'GET', `/fhir/Group/${groupId}`, { token: doctor });
    assert.equal(read.status, 200);
    assert.deepEqual(members(read.body), [`Patient/${mine}`]);
    assert.equal(read.body.quantity, undefined, 'not even how many were left out');
    assert.equal(read.body.text, undefined, 'nor a narrative naming them');
    assert.ok(read.body.meta.tag.some((t: { code: string }) => t.code === 'SUBSETTED'));
    // The colleague sees the other patient only; the system (no rule narrower) sees both, untagged.
    assert.deepEqual(members((await call(s.url, 'GET', `/fhir/Group/${groupId}`, { token: colleague })).body), [`Patient/${other}`]);
    const whole = (await s.cw.fhir.read(SYSTEM, 'Group', groupId)).resource as Group;
    assert.equal(members(whole).length, 2);
    assert.equal(whole.meta?.tag, undefined);
    // Search, history and vread show the same.
    const found = await call(s.url, 'GET', `/fhir/Group?name=diab&type=person&actual=true`, { token: doctor });
    assert.equal(found.body.total, 1);
    assert.deepEqual(members(found.body.entry[0].resource), [`Patient/${mine}`]);
    const history = await call(s.url, 'GET', `/fhir/Group/${groupId}/_history`, { token: doctor });
    assert.ok(!JSON.stringify(history.body).includes(other));
    assert.ok(!JSON.stringify((await call(s.url, 'GET', `/fhir/Group/${groupId}/_history/1`, { token: doctor })).body).includes(other));
    // Included through a Patient search: shown the same way.
    const revinclude = await call(s.url, 'GET', `/fhir/Patient?_id=${mine}&_revinclude=Group:member`, { token: doctor });
    assert.ok(revinclude.body.entry.some((e: { resource: Resource }) => e.resource.resourceType === 'Group'));
    assert.ok(!JSON.stringify(revinclude.body).includes(other));
  });

  test('a search by member never tells whether a hidden patient is in a group', async () => {
    const byMine = await call(s.url, 'GET', `/fhir/Group?member=Patient/${mine}`, { token: doctor });
    assert.equal(byMine.body.total, 1);
    for (const q of [`member=Patient/${other}`, `member=${other}`, `member=Patient/${other}&_summary=count`]) {
      const r = await call(s.url, 'GET', `/fhir/Group?${q}`, { token: doctor });
      assert.equal(r.status, 200);
      assert.equal(r.body.total, 0, q);
    }
    // The colleague, whose patient it is, finds it: the rule is the patient's, not a blanket refusal.
    assert.equal((await call(s.url, 'GET', `/fhir/Group?member=Patient/${other}`, { token: colleague })).body.total, 1);
  });

  test('writing a Group: only patients the writer may see, hidden members kept, roles without the right refused', async () => {
    const groups = () => count(`select count(*)::int as n from records_resource where resource_type = 'Group'`);
    const before = await groups();
    const naming = (ids: string[]) => ({
      resourceType: 'Group',
      type: 'person',
      actual: true,
      member: ids.map((id) => ({ entity: { reference: `Patient/${id}` } })),
    });
    const sneaky = await call(s.url, 'POST', '/fhir/Group', { token: doctor, body: naming([mine, other]) });
    assert.equal(sneaky.status, 403);
    assert.equal(sneaky.body.resourceType, 'OperationOutcome');
    assert.ok(!JSON.stringify(sneaky.body).includes(other), 'the refusal does not name the patient');
    assert.equal((await call(s.url, 'POST', '/fhir/Group', { token: doctor, body: naming(['no-such-patient']) })).status, 403, 'nor one that does not exist');
    // Groups of anything but patients, or members not named as Patient/<id>, are refused as input.
    const device = await call(s.url, 'POST', '/fhir/Group', { token: doctor, body: { resourceType: 'Group', type: 'device', actual: true } });
    assert.equal(device.status, 422);
    assert.equal(device.body.resourceType, 'OperationOutcome');
    const practitioner = { ...naming([]), member: [{ entity: { reference: s.practitionerOf(doctor) } }] };
    assert.equal((await call(s.url, 'POST', '/fhir/Group', { token: doctor, body: practitioner })).status, 422);
    // Nor may a patient be named where members are not filtered: contained, or in a characteristic.
    const contained = {
      ...naming([mine]),
      contained: [{ resourceType: 'Patient', id: 'x', name: [{ family: 'Copied' }] }],
      characteristic: [{ code: { text: 'copied' }, valueReference: { reference: '#x' }, exclude: false }],
    };
    assert.equal((await call(s.url, 'POST', '/fhir/Group', { token: doctor, body: contained })).status, 422);
    const characteristic = {
      ...naming([]),
      characteristic: [{ code: { text: 'sibling of' }, valueReference: { reference: `Patient/${other}` }, exclude: false }],
    };
    const refused = await call(s.url, 'POST', '/fhir/Group', { token: doctor, body: characteristic });
    assert.equal(refused.status, 422);
    assert.ok(!JSON.stringify(refused.body).includes(other));
    assert.equal((await call(s.url, 'POST', '/fhir/Group', { token: receptionist, body: naming([]) })).status, 403);
    assert.equal((await call(s.url, 'GET', `/fhir/Group/${groupId}`, { token: receptionist })).status, 403);
    assert.equal((await call(s.url, 'GET', `/fhir/Group?member=Patient/${mine}`, { token: officer })).status, 403);
    assert.equal(await groups(), before, 'nothing was stored');

    const made = await call(s.url, 'POST', '/fhir/Group', { token: doctor, body: naming([mine]) });
    assert.equal(made.status, 201);
    assert.deepEqual(members(made.body), [`Patient/${mine}`]);

    // The doctor renames the registry they were shown without the colleague's patient: that patient stays in it.
    const shown = (await call(s.url, 'GET', `/fhir/Group/${groupId}`, { token: doctor })).body as Group;
    const renamed = await call(s.url, 'PUT', `/fhir/Group/${groupId}`, { token: doctor, body: { ...shown, name: 'Diabetes registry 2026' } });
    assert.equal(renamed.status, 200);
    assert.deepEqual(members(renamed.body), [`Patient/${mine}`]);
    const stored = (await s.cw.fhir.read(SYSTEM, 'Group', groupId)).resource as Group;
    assert.deepEqual(members(stored).sort(), [`Patient/${mine}`, `Patient/${other}`].sort());
    assert.equal(stored.name, 'Diabetes registry 2026');
    assert.ok(!(stored.meta?.tag ?? []).some((t) => t.code === 'SUBSETTED'), 'the mark of a subsetted view is not stored');
  });

  const kickOff = (token: string, path: string, init: RequestInit = {}) =>
    fetch(`${s.url}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${token}`, prefer: 'respond-async', accept: 'application/fhir+json', 'content-type': 'application/fhir+json' },
    });
  const get = (token: string, url: string) => fetch(url, { headers: { authorization: `Bearer ${token}` } });
  /** Kick-off, approval by the privacy officer, the run; the manifest's files as resources by type. */
  const exportAs = async (token: string, path: string, init?: RequestInit) => {
    const started = await kickOff(token, path, init);
    assert.equal(started.status, 202, await started.clone().text());
    const location = started.headers.get('content-location')!;
    const id = location.split('/').pop()!;
    assert.equal((await get(token, location)).status, 202, 'waits for a second person');
    assert.equal((await call(s.url, 'POST', `/api/exports/${id}/approve`, { token: officer, body: {} })).status, 200);
    await s.cw.exports.running.get(id);
    const manifest = (await (await get(token, location)).json()) as { request: string; output: Array<{ type: string; url: string }> };
    const out: Record<string, Resource[]> = {};
    for (const o of manifest.output)
      for (const line of (await (await get(token, o.url)).text()).trim().split('\n')) (out[o.type] ??= []).push(JSON.parse(line) as Resource);
    return { id, manifest, out, location };
  };
  const patientsIn = (out: Record<string, Resource[]>) =>
    new Set(
      Object.values(out)
        .flat()
        .map((r) => (r.resourceType === 'Patient' ? r.id : (r as { subject?: { reference: string } }).subject?.reference.replace('Patient/', ''))),
    );

  test('a Group-level export holds the data of the members the requester may see, and nothing of the others', async () => {
    const mineOnly = await exportAs(doctor, `/fhir/Group/${groupId}/$export?_type=Patient,Observation`);
    assert.deepEqual([...patientsIn(mineOnly.out)], [mine]);
    assert.deepEqual(
      mineOnly.out.Patient.map((p) => p.id),
      [mine],
    );
    assert.equal(mineOnly.out.Observation.length, 1);
    assert.equal(mineOnly.manifest.request, `${s.url}/fhir/Group/${groupId}/$export?_type=Patient,Observation`);
    const job = (await call(s.url, 'GET', `/api/exports/${mineOnly.id}`, { token: officer })).body;
    assert.deepEqual([job.level, job.group, job.contents.patients], ['group', groupId, [`Patient/${mine}`]]);
    // The same Group exported by the colleague: their patient's data, and not the doctor's (so the
    // doctor's export above left the other patient out by rule, not by accident).
    const theirs = await exportAs(colleague, `/fhir/Group/${groupId}/$export`, {
      method: 'POST',
      body: JSON.stringify({ resourceType: 'Parameters', parameter: [{ name: '_type', valueString: 'Patient,Observation' }] }),
    });
    assert.deepEqual([...patientsIn(theirs.out)], [other]);
    assert.equal(theirs.out.Observation.length, 2);
  });

  test('system clients: a wildcard reaches every member; without Patient in its scopes, no member is seen', async () => {
    const { tokenFor } = await systemClientKey(s, 'grp-1');
    const registry = await tokenFor(['system/*.read'], 'registry-feed');
    const everyone = await exportAs(registry, `/fhir/Group/${groupId}/$export?_type=Patient,Observation`);
    assert.deepEqual([...patientsIn(everyone.out)].sort(), [mine, other].sort());
    const narrow = await tokenFor(['system/Group.read', 'system/Observation.read'], 'observations-only');
    assert.equal((await call(s.url, 'GET', `/fhir/Group/${groupId}`, { token: narrow })).body.member, undefined);
    const none = await exportAs(narrow, `/fhir/Group/${groupId}/$export?_type=Observation`);
    assert.deepEqual(none.manifest.output, []);
  });

  test('Group-level kick-offs that are refused: unknown or unreadable Group, patient parameter, no role', async () => {
    const jobs = () => count('select count(*)::int as n from bulk_export_job');
    const before = await jobs();
    const missing = await kickOff(doctor, '/fhir/Group/no-such-group/$export');
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as Resource).resourceType, 'OperationOutcome');
    assert.equal((await kickOff(doctor, `/fhir/Group/${groupId}/$export?patient=Patient/${mine}`)).status, 400);
    assert.equal((await kickOff(receptionist, `/fhir/Group/${groupId}/$export?_type=Patient`)).status, 403);
    assert.equal((await kickOff(doctor, `/fhir/Group/${groupId}/$export?_type=Practitioner`)).status, 400, 'not patient data');
    assert.equal(await jobs(), before, 'no job was stored');
  });
});
