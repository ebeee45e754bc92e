/**
 * Bulk Data export: a job waits until a second person approves it, then produces NDJSON of what
 * the requester may see (never more); the requester alone downloads it, until it expires; the
 * requester cannot approve their own job; and all of it is in the audit log.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import type { Resource } from '@medplum/fhirtypes';
import { SYSTEM } from '../src/shared/index.js';
import { decodeLeaf } from '../src/audit/record.js';
import { validateBody } from '../src/records/index.js';
import { call, startTestServer, type TestServer } from './helpers/harness.js';
import { observation } from './helpers/fixtures.js';

describe('bulk export', () => {
  let s: TestServer;
  let doctor: string;
  let officer: string;
  let admin: string;
  let mine: string;
  let other: string;
  before(async () => {
    s = await startTestServer({ audit: { intervalSeconds: 0 } });
    doctor = await s.login(['physician'], 'dr-exporter');
    officer = await s.login(['privacy-officer'], 'po-approver');
    admin = await s.login(['physician', 'privacy-officer'], 'dr-both');
    mine = (
      await s.cw.fhir.create(SYSTEM, 'Patient', {
        resourceType: 'Patient',
        name: [{ family: 'Exportata' }],
        generalPractitioner: [{ reference: s.practitionerOf(doctor) }],
      })
    ).id;
    other = (await s.cw.fhir.create(SYSTEM, 'Patient', { resourceType: 'Patient', name: [{ family: 'Elsewhere' }] })).id;
    for (const p of [mine, mine, other]) await s.cw.fhir.create(SYSTEM, 'Observation', observation(p) as Resource);
  });
  after(() => s?.close());

  const kickOff = async (token: string, path: string) => {
    const res = await fetch(`${s.url}${path}`, { headers: { authorization: `Bearer ${token}`, prefer: 'respond-async', accept: 'application/fhir+json' } });
    return { status: res.status, location: res.headers.get('content-location') ?? '' };
  };
  const jobId = (location: string) => location.split('/').pop()!;
  const get = (token: string, url: string) => fetch(url, { headers: { authorization: `Bearer ${token}` } });

  test('a job waits for a second person, then exports only what the requester may see, for them alone', async () => {
    const started = await kickOff(doctor, '/fhir/$export?_type=Patient,Observation');
    assert.equal(started.status, 202);
    assert.match(started.location, /\/fhir\/\$export-status\/[0-9a-f-]{36}$/);
    const id = jobId(started.location);
    const waiting = await get(doctor, started.location);
    assert.equal(waiting.status, 202);
    assert.match(waiting.headers.get('x-progress') ?? '', /awaiting approval/);
    // The requester has no say; a physician cannot approve anyone's.
    assert.equal((await call(s.url, 'POST', `/api/exports/${id}/approve`, { token: doctor, body: {} })).status, 403);
    assert.equal((await get(doctor, started.location)).status, 202, 'still waiting');

    const pending = await call(s.url, 'GET', '/api/exports?status=awaiting-approval', { token: officer });
    assert.ok(pending.body.jobs.some((j: { id: string; requester: { username: string } }) => j.id === id && j.requester.username === 'dr-exporter'));
    const approved = await call(s.url, 'POST', `/api/exports/${id}/approve`, { token: officer, body: { note: 'quarterly registry' } });
    assert.equal(approved.status, 200);
    await s.cw.exports.running.get(id);

    const done = await get(doctor, started.location);
    assert.equal(done.status, 200);
    const manifest = (await done.json()) as { requiresAccessToken: boolean; output: Array<{ type: string; url: string; count: number }> };
    assert.equal(manifest.requiresAccessToken, true);
    assert.deepEqual(
      manifest.output.map((o) => [o.type, o.count]),
      [
        ['Patient', 1],
        ['Observation', 2],
      ],
    );
    const patients = await get(doctor, manifest.output[0].url);
    assert.equal(patients.status, 200);
    assert.match(patients.headers.get('content-type') ?? '', /application\/fhir\+ndjson/);
    const lines = (await patients.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Resource);
    assert.deepEqual(
      lines.map((r) => r.id),
      [mine],
      'the unrelated patient did not leave',
    );
    for (const r of lines) validateBody(r); // valid FHIR R4, as the API would accept it
    const observations = (await (await get(doctor, manifest.output[1].url)).text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { subject: { reference: string } });
    assert.ok(observations.every((o) => o.subject.reference === `Patient/${mine}`));
    // Nobody else downloads it, not even the approver.
    assert.equal((await get(officer, manifest.output[0].url)).status, 404);

    // Files are available for a limited time only.
    await s.cw.db.query(`update bulk_export_job set expires_at = now() - interval '1 second' where id = $1`, [id]);
    assert.equal((await get(doctor, manifest.output[0].url)).status, 410);
    assert.equal((await s.cw.db.query<{ n: number }>('select count(*)::int as n from bulk_export_file where job_id = $1', [id])).rows[0].n, 0);

    // All of it is in the audit log: request, approval, what left, downloads (and the refused ones).
    const { size } = await s.cw.audit.log.head();
    const records = (await s.cw.audit.log.leaves(0, size))
      .map((l) => decodeLeaf(l.leaf))
      .filter((r) => r.action.startsWith('export.') && r.resource?.id === id);
    const seen = records.map((r) => `${r.action}:${r.outcome}:${r.user?.username}`);
    for (const want of [
      'export.request:success:dr-exporter',
      'export.approve:denied:dr-exporter',
      'export.approve:success:po-approver',
      'export.run:success:dr-exporter',
      'export.download:success:dr-exporter',
      'export.download:denied:dr-exporter',
    ]) {
      assert.ok(seen.includes(want), `${want} in ${seen.join(', ')}`);
    }
    const run = records.find((r) => r.action === 'export.run')!;
    assert.deepEqual(run.explanation, { counts: { Patient: 1, Observation: 2 }, patients: 1, files: 2 });
  });

  test('nobody approves their own export; a rejected job says so', async () => {
    const started = await kickOff(admin, '/fhir/$export?_type=Observation');
    assert.equal(started.status, 202);
    const id = jobId(started.location);
    const self = await call(s.url, 'POST', `/api/exports/${id}/approve`, { token: admin, body: {} });
    assert.equal(self.status, 403);
    assert.match(self.body.error, /second person/);
    assert.equal((await call(s.url, 'POST', `/api/exports/${id}/reject`, { token: officer, body: { note: 'no purpose given' } })).status, 200);
    const status = await get(admin, started.location);
    assert.equal(status.status, 403);
    assert.equal((await call(s.url, 'POST', `/api/exports/${id}/approve`, { token: officer, body: {} })).status, 409, 'a decided job stays decided');
  });

  test('a patient-level export confined to a group of patients, and kick-offs that are refused', async () => {
    const started = await kickOff(admin, `/fhir/Patient/$export?_type=Observation&patient=Patient/${other}`);
    assert.equal(started.status, 202);
    const id = jobId(started.location);
    await call(s.url, 'POST', `/api/exports/${id}/approve`, { token: officer, body: {} });
    await s.cw.exports.running.get(id);
    const manifest = (await (await get(admin, started.location)).json()) as { output: Array<{ type: string; count: number }> };
    // dr-both has no relationship to that patient: nothing of theirs may leave.
    assert.deepEqual(manifest.output, []);

    const noPrefer = await fetch(`${s.url}/fhir/$export`, { headers: { authorization: `Bearer ${doctor}` } });
    assert.equal(noPrefer.status, 400);
    // Accept is required (the format of an OperationOutcome answer); FHIR JSON is the only one served.
    const headers = { authorization: `Bearer ${doctor}`, prefer: 'respond-async' };
    const viaHttp = (extra: Record<string, string>) =>
      new Promise<number>((resolve, reject) => {
        // fetch always sends an Accept header: node:http sends none unless told.
        const req = http.get(`${s.url}/fhir/$export?_type=Observation`, { headers: { ...headers, ...extra } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
      });
    assert.equal(await viaHttp({}), 400, 'no Accept header');
    assert.equal(await viaHttp({ accept: 'application/fhir+json' }), 202, 'the same request with Accept starts');
    assert.equal(await viaHttp({ accept: 'application/fhir+xml' }), 406, 'XML alone');
    const future = await kickOff(doctor, '/fhir/$export?_type=Observation&_since=2057-01-01T00:00:00%2B05:00');
    assert.equal(future.status, 400, '_since in the future');
    assert.equal((await kickOff(doctor, '/fhir/$export?_type=Observation&_since=0000-60-01T30:70:80%2B05:00')).status, 400, '_since not a date');
    assert.equal((await kickOff(doctor, '/fhir/$export?_outputFormat=text/csv')).status, 400);
    assert.equal((await kickOff(doctor, '/fhir/Patient/$export?_type=Practitioner')).status, 400, 'not patient data');
    assert.equal((await kickOff(doctor, '/fhir/$export?_type=Nonsense')).status, 400);
    const anonymous = await fetch(`${s.url}/fhir/$export`, { headers: { prefer: 'respond-async' } });
    assert.equal(anonymous.status, 401);
    // What this export does not implement is refused, never silently ignored.
    for (const unsupported of [
      '_typeFilter=Observation%3Fstatus%3Dfinal',
      'includeAssociatedData=LatestProvenanceResources',
      // _elements is honoured, but not for a type the export does not hold, nor a nested path
      '_elements=Patient.name',
      '_elements=code.coding',
    ]) {
      const r = await kickOff(doctor, `/fhir/$export?_type=Observation&${unsupported}`);
      assert.equal(r.status, 400, unsupported);
    }
  });

  test("Prefer: handling=lenient: parameters this server lacks are ignored, each named in the manifest's error file; without it they are refused", async () => {
    const path = '/fhir/$export?_type=Observation&includeAssociatedData=LatestProvenanceResources&_typeFilter=Observation%3Fstatus%3Dfinal';
    const strict = await kickOff(doctor, path);
    assert.equal(strict.status, 400, 'refused unless the client asks for lenience');
    const res = await fetch(`${s.url}${path}`, {
      headers: { authorization: `Bearer ${doctor}`, prefer: 'respond-async, handling=lenient', accept: 'application/fhir+json' },
    });
    assert.equal(res.status, 202);
    const location = res.headers.get('content-location') ?? '';
    const id = jobId(location);
    assert.equal((await call(s.url, 'POST', `/api/exports/${id}/approve`, { token: officer, body: {} })).status, 200);
    await s.cw.exports.running.get(id);
    const manifest = (await (await get(doctor, location)).json()) as { output: Array<{ type: string }>; error: Array<{ type: string; url: string }> };
    assert.deepEqual(
      manifest.output.map((o) => o.type),
      ['Observation'],
      'the export itself ran',
    );
    assert.deepEqual(
      manifest.error.map((e) => e.type),
      ['OperationOutcome'],
    );
    const errors = await get(doctor, manifest.error[0].url);
    assert.equal(errors.status, 200);
    const text = await errors.text();
    const outcomes = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { resourceType: string; issue: Array<{ severity: string; diagnostics: string }> });
    assert.deepEqual(
      outcomes.map((o) => [o.resourceType, o.issue[0].severity]),
      [
        ['OperationOutcome', 'warning'],
        ['OperationOutcome', 'warning'],
      ],
    );
    assert.match(outcomes[0].issue[0].diagnostics, /^_typeFilter /);
    assert.match(outcomes[1].issue[0].diagnostics, /^includeAssociatedData /);
    assert.ok(!text.includes('LatestProvenanceResources') && !text.includes('status'), 'the values sent are not repeated back');
    // The error file is the requester's, as the others are.
    assert.equal((await get(officer, manifest.error[0].url)).status, 404);
    // An export without ignored parameters has no error file.
    const plain = await kickOff(doctor, '/fhir/$export?_type=Observation');
    assert.equal((await call(s.url, 'POST', `/api/exports/${jobId(plain.location)}/approve`, { token: officer, body: {} })).status, 200);
    await s.cw.exports.running.get(jobId(plain.location));
    assert.deepEqual(((await (await get(doctor, plain.location)).json()) as { error: unknown[] }).error, []);
    assert.equal((await get(doctor, `${s.url}/fhir/$export-file/${jobId(plain.location)}/0`)).status, 404);
  });

  test('a POST kick-off with a Parameters body, patients included; the manifest repeats the request as sent', async () => {
    const post = (token: string, path: string, body: unknown) =>
      fetch(`${s.url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, prefer: 'respond-async', 'content-type': 'application/fhir+json' },
        body: JSON.stringify(body),
      });
    const started = await post(admin, '/fhir/Patient/$export', {
      resourceType: 'Parameters',
      parameter: [
        { name: '_type', valueString: 'Observation' },
        { name: '_outputFormat', valueString: 'application/fhir+ndjson' },
        { name: 'patient', valueReference: { reference: `Patient/${mine}` } },
      ],
    });
    assert.equal(started.status, 202);
    const location = started.headers.get('content-location')!;
    const id = jobId(location);
    const job = (await call(s.url, 'GET', `/api/exports/${id}`, { token: officer })).body;
    assert.deepEqual([job.level, job.types, job.patients], ['patient', ['Observation'], [mine]]);
    await call(s.url, 'POST', `/api/exports/${id}/approve`, { token: officer, body: {} });
    await s.cw.exports.running.get(id);
    const manifest = (await (await get(admin, location)).json()) as { request: string };
    assert.equal(manifest.request, `${s.url}/fhir/Patient/$export`);
    // A GET kick-off's manifest names its query exactly.
    const viaGet = await kickOff(doctor, '/fhir/$export?_type=Observation&_since=2020-01-01T00:00:00Z');
    const getId = jobId(viaGet.location);
    await call(s.url, 'POST', `/api/exports/${getId}/approve`, { token: officer, body: {} });
    await s.cw.exports.running.get(getId);
    assert.equal(
      ((await (await get(doctor, viaGet.location)).json()) as { request: string }).request,
      `${s.url}/fhir/$export?_type=Observation&_since=2020-01-01T00:00:00Z`,
    );
    // The requester cancels: 202, the files gone, the job gone from its status URL; a second cancel finds nothing.
    const cancel = (token: string, url: string) => fetch(url, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
    assert.equal((await cancel(officer, location)).status, 404, 'only the requester cancels');
    assert.equal((await cancel(admin, location)).status, 202);
    assert.equal((await get(admin, location)).status, 404);
    assert.equal((await s.cw.db.query<{ n: number }>('select count(*)::int as n from bulk_export_file where job_id = $1', [id])).rows[0].n, 0);
    assert.equal((await cancel(admin, location)).status, 404);
    // A job still awaiting approval leaves the approvers' queue.
    const waiting = await kickOff(doctor, '/fhir/$export?_type=Observation');
    assert.equal((await cancel(doctor, waiting.location)).status, 202);
    const queue = (await call(s.url, 'GET', '/api/exports?status=awaiting-approval', { token: officer })).body.jobs as Array<{ id: string }>;
    assert.ok(!queue.some((j) => j.id === jobId(waiting.location)));
    assert.equal((await call(s.url, 'POST', `/api/exports/${jobId(waiting.location)}/approve`, { token: officer, body: {} })).status, 409);
    // A body that is not Parameters, or a parameter without a value, is refused.
    assert.equal((await post(admin, '/fhir/$export', { resourceType: 'Patient' })).status, 400);
    assert.equal((await post(admin, '/fhir/$export', { resourceType: 'Parameters', parameter: [{ name: '_type' }] })).status, 400);
    assert.equal((await post(admin, '/fhir/$export', { resourceType: 'Parameters', parameter: [{ name: '_typeFilter', valueString: 'x' }] })).status, 400);
  });

  test('_elements: each exported resource keeps the elements named and those FHIR always keeps, marked SUBSETTED', async () => {
    const started = await kickOff(doctor, '/fhir/Patient/$export?_type=Patient,Observation&_elements=Patient.name,code');
    assert.equal(started.status, 202);
    const id = jobId(started.location);
    await call(s.url, 'POST', `/api/exports/${id}/approve`, { token: officer, body: {} });
    await s.cw.exports.running.get(id);
    const manifest = (await (await get(doctor, started.location)).json()) as { output: Array<{ type: string; url: string }> };
    const lines = async (type: string) =>
      (await (await get(doctor, manifest.output.find((o) => o.type === type)!.url)).text())
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, any>);
    const [p] = await lines('Patient');
    assert.deepEqual(Object.keys(p).sort(), ['id', 'meta', 'name', 'resourceType']);
    assert.ok(p.meta.tag.some((t: { code: string }) => t.code === 'SUBSETTED'));
    for (const o of await lines('Observation')) {
      assert.deepEqual(Object.keys(o).sort(), ['code', 'id', 'meta', 'resourceType', 'status']);
      assert.equal(o.subject, undefined);
    }
    // Whose data left is still known (counted before the references were left out).
    const job = (await call(s.url, 'GET', `/api/exports/${id}`, { token: officer })).body;
    assert.deepEqual(job.contents.patients, [`Patient/${mine}`]);
  });
});
