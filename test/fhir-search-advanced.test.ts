/**
 * Reference search parameters, _include/_revinclude, _has, Patient compartment search, _total and
 * conditional create/update: each works for a caller who treats the patient, and each is attacked
 * by a physician with no relationship to the patient (and a receptionist, who sees demographics
 * but no clinical records): nothing hidden may be returned, included, counted or matched on.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Resource } from '@medplum/fhirtypes';
import { SYSTEM } from '../src/shared/index.js';
import { call, startTestServer, type TestServer } from './helpers/harness.js';
import { encounter, observation, patient, treatedBy } from './helpers/fixtures.js';

type Res = Resource & { id: string };

const MRN = 'urn:carewall:test:mrn';
const SECRET = { family: 'Zwiebelhaupt', given: 'Philomena', mrn: 'ADV-SECRET-1' };
const PSY = { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'PSY' };

describe('FHIR advanced search and conditional writes', () => {
  let s: TestServer;
  let doc: string;
  let other: string;
  let desk: string;
  let docPrac: string;
  let otherPrac: string;
  // Treated by doc only.
  let p: Res;
  let p2: Res;
  let enc: Res;
  let o1: Res;
  let o2: Res;
  let sr: Res;
  let dr: Res;
  // Treated by both physicians; one observation is labelled PSY, which physicians may not see by default.
  let shared: Res;
  let sharedPsy: Res;
  let sharedPlain: Res;

  const as =
    (token: string) =>
    (method: string, path: string, opts: Parameters<typeof call>[3] = {}) =>
      call(s.url, method, `/fhir${path}`, { token, ...opts });
  const ids = (bundle: any, mode = 'match') =>
    (bundle.entry ?? [])
      .filter((e: any) => e.search?.mode === mode)
      .map((e: any) => `${e.resource.resourceType}/${e.resource.id}`)
      .sort();
  const sys = async (type: string, query: Record<string, string[]>) => s.cw.fhir.search(SYSTEM, type, query, new URL(`http://x/fhir/${type}`));
  const versions = async () => (await s.cw.db.query<{ n: number }>('select count(*)::int as n from records_version')).rows[0].n;
  const ok = (res: { status: number; body: any }, status = 200) => {
    assert.equal(res.status, status, JSON.stringify(res.body));
    return res.body;
  };

  /** A refusal or an empty answer names nothing of the patient. */
  function revealsNothing(body: unknown): void {
    const text = JSON.stringify(body);
    for (const secret of [SECRET.family, SECRET.given, SECRET.mrn, p.id, o1.id, enc.id]) assert.ok(!text.includes(secret), 'the answer reveals patient data');
  }

  before(async () => {
    s = await startTestServer();
    doc = await s.login(['physician'], 'dr-advanced');
    other = await s.login(['physician'], 'dr-unrelated');
    desk = await s.login(['receptionist'], 'front-desk');
    docPrac = s.practitionerOf(doc);
    otherPrac = s.practitionerOf(other);
    treatedBy(docPrac);
    const d = as(doc);
    p = ok(await d('POST', '/Patient', { body: patient(SECRET.family, SECRET.given, { identifier: [{ system: MRN, value: SECRET.mrn }] }) }), 201);
    p2 = ok(await d('POST', '/Patient', { body: patient('Quastenflosser', 'Ida', { identifier: [{ system: MRN, value: 'ADV-2' }] }) }), 201);
    enc = ok(
      await d('POST', '/Encounter', {
        body: { ...encounter(p.id, '2024-02-01T08:00:00Z', '2024-02-01T09:00:00Z'), participant: [{ individual: { reference: docPrac } }] },
      }),
      201,
    );
    o1 = ok(
      await d('POST', '/Observation', {
        body: { ...observation(p.id, '1234-5'), encounter: { reference: `Encounter/${enc.id}` }, performer: [{ reference: docPrac }] },
      }),
      201,
    );
    o2 = ok(await d('POST', '/Observation', { body: { ...observation(p.id, '8867-4'), encounter: { reference: `Encounter/${enc.id}` } } }), 201);
    sr = ok(
      await d('POST', '/ServiceRequest', {
        body: {
          resourceType: 'ServiceRequest',
          status: 'active',
          intent: 'order',
          code: { text: 'panel' },
          subject: { reference: `Patient/${p.id}` },
          requester: { reference: docPrac },
        },
      }),
      201,
    );
    dr = ok(
      await d('POST', '/DiagnosticReport', {
        body: {
          resourceType: 'DiagnosticReport',
          status: 'final',
          code: { text: 'panel' },
          subject: { reference: `Patient/${p.id}` },
          encounter: { reference: `Encounter/${enc.id}` },
          basedOn: [{ reference: `ServiceRequest/${sr.id}` }],
          result: [{ reference: `Observation/${o1.id}` }],
        },
      }),
      201,
    );
    const make = async (body: Resource) => (await s.cw.fhir.create(SYSTEM, body.resourceType, body)).resource as Res;
    shared = await make({ resourceType: 'Patient', name: [{ family: 'Gemeinsam' }], generalPractitioner: [{ reference: docPrac }, { reference: otherPrac }] });
    sharedPsy = await make({ ...observation(shared.id, 'psy-1'), meta: { security: [PSY] } } as Resource);
    sharedPlain = await make(observation(shared.id, 'plain-1') as Resource);
  });
  after(() => s?.close());

  describe('a physician who treats the patient', () => {
    test('reference parameters search the reference index, by Type/id or id', async () => {
      const d = as(doc);
      assert.deepEqual(ids(ok(await d('GET', `/Observation?encounter=Encounter/${enc.id}`))), [`Observation/${o1.id}`, `Observation/${o2.id}`].sort());
      assert.equal(ok(await d('GET', `/Observation?encounter=${enc.id}`)).total, 2);
      assert.equal(ok(await d('GET', `/Observation?encounter=${enc.id}&code=1234-5`)).total, 1);
      assert.deepEqual(ids(ok(await d('GET', `/Observation?performer=${docPrac}`))), [`Observation/${o1.id}`]);
      assert.deepEqual(ids(ok(await d('GET', `/DiagnosticReport?result=Observation/${o1.id}`))), [`DiagnosticReport/${dr.id}`]);
      assert.deepEqual(ids(ok(await d('GET', `/DiagnosticReport?based-on=${sr.id}`))), [`DiagnosticReport/${dr.id}`]);
      assert.deepEqual(ids(ok(await d('GET', `/ServiceRequest?requester=${docPrac}`))), [`ServiceRequest/${sr.id}`]);
      assert.deepEqual(ids(ok(await d('GET', `/Encounter?practitioner=${docPrac}`))), [`Encounter/${enc.id}`]);
      assert.deepEqual(
        ids(ok(await d('GET', `/Patient?general-practitioner=${docPrac}`))),
        [`Patient/${p.id}`, `Patient/${p2.id}`, `Patient/${shared.id}`].sort(),
      );
      assert.equal(ok(await d('GET', `/Observation?encounter=Encounter/not-there`)).total, 0);
      for (const bad of [
        `/Observation?encounter=Patient/${p.id}`,
        '/Observation?encounter=http://elsewhere.example/fhir/Encounter/1',
        '/Observation?performer:Practitioner=x',
      ]) {
        const res = await d('GET', bad);
        assert.equal(res.status, 400, bad);
        assert.equal(res.body.resourceType, 'OperationOutcome');
      }
    });

    test('the reference index follows updates and deletions', async () => {
      const d = as(doc);
      const o = ok(await d('POST', '/Observation', { body: { ...observation(p2.id, '2345-6'), encounter: { reference: `Encounter/${enc.id}` } } }), 201);
      assert.equal(ok(await d('GET', `/Observation?encounter=${enc.id}&code=2345-6`)).total, 1);
      const { encounter: _dropped, ...withoutEncounter } = o;
      ok(await d('PUT', `/Observation/${o.id}`, { body: withoutEncounter }));
      assert.equal(ok(await d('GET', `/Observation?encounter=${enc.id}&code=2345-6`)).total, 0);
      ok(await d('PUT', `/Observation/${o.id}`, { body: o }));
      assert.equal(ok(await d('GET', `/Observation?encounter=${enc.id}&code=2345-6`)).total, 1);
      assert.equal((await d('DELETE', `/Observation/${o.id}`)).status, 204);
      assert.equal(ok(await d('GET', `/Observation?encounter=${enc.id}&code=2345-6`)).total, 0);
    });

    test('_include adds what the matches point to, marked include and not counted', async () => {
      const d = as(doc);
      const b = ok(
        await d('GET', '/Observation?code=1234-5&_include=Observation:encounter&_include=Observation:patient&_include=Observation:performer:Practitioner'),
      );
      assert.equal(b.total, 1);
      assert.deepEqual(ids(b), [`Observation/${o1.id}`]);
      assert.deepEqual(ids(b, 'include'), [`Encounter/${enc.id}`, `Patient/${p.id}`, docPrac].sort());
      // Two matches pointing at one encounter include it once.
      const both = ok(await d('GET', `/Observation?encounter=${enc.id}&_include=Observation:encounter`));
      assert.deepEqual(ids(both, 'include'), [`Encounter/${enc.id}`]);
      const report = ok(await d('GET', `/DiagnosticReport?_id=${dr.id}&_include=DiagnosticReport:result&_include=DiagnosticReport:based-on`));
      assert.deepEqual(ids(report, 'include'), [`Observation/${o1.id}`, `ServiceRequest/${sr.id}`].sort());
      assert.ok(report.entry.every((e: any) => e.fullUrl.endsWith(`/fhir/${e.resource.resourceType}/${e.resource.id}`)));
    });

    test('_revinclude adds what points to the matches', async () => {
      const d = as(doc);
      const b = ok(await d('GET', `/Patient?_id=${p.id}&_revinclude=Observation:subject`));
      assert.equal(b.total, 1);
      assert.deepEqual(ids(b), [`Patient/${p.id}`]);
      assert.deepEqual(ids(b, 'include'), [`Observation/${o1.id}`, `Observation/${o2.id}`].sort());
      const e = ok(await d('GET', `/Encounter?_id=${enc.id}&_revinclude=Observation:encounter&_revinclude=DiagnosticReport:encounter`));
      assert.deepEqual(ids(e, 'include'), [`DiagnosticReport/${dr.id}`, `Observation/${o1.id}`, `Observation/${o2.id}`].sort());
      const pr = ok(await d('GET', `/Practitioner?_id=${docPrac.split('/')[1]}&_revinclude=Observation:performer`));
      assert.deepEqual(ids(pr, 'include'), [`Observation/${o1.id}`]);
    });

    test('_include and _revinclude refuse what they cannot do', async () => {
      const d = as(doc);
      for (const q of [
        '/Observation?_include:iterate=Observation:encounter',
        '/Observation?_include=*',
        '/Observation?_include=Encounter:subject',
        '/Observation?_include=Observation:code',
        '/Observation?_include=Observation:encounter:Patient',
        '/Patient?_revinclude=Observation:encounter',
        '/Patient?_revinclude=Nonsense:subject',
      ]) {
        const res = await d('GET', q);
        assert.equal(res.status, 400, q);
        assert.equal(res.body.resourceType, 'OperationOutcome', q);
      }
    });

    test('_has finds resources by what points to them', async () => {
      const d = as(doc);
      assert.deepEqual(ids(ok(await d('GET', '/Patient?_has:Observation:subject:code=1234-5'))), [`Patient/${p.id}`]);
      assert.deepEqual(ids(ok(await d('GET', '/Patient?_has:Observation:patient:code=8867-4'))), [`Patient/${p.id}`]);
      assert.deepEqual(ids(ok(await d('GET', '/Encounter?_has:Observation:encounter:code=1234-5'))), [`Encounter/${enc.id}`]);
      assert.deepEqual(ids(ok(await d('GET', `/Observation?_has:DiagnosticReport:result:_id=${dr.id}`))), [`Observation/${o1.id}`]);
      assert.equal(ok(await d('GET', '/Patient?_has:Observation:subject:code=0000-0')).total, 0);
      assert.equal(ok(await d('GET', '/Patient?_has:Observation:subject:code=1234-5&family=Quasten')).total, 0, 'ANDed with the other parameters');
      for (const q of [
        '/Patient?_has:Observation:subject:_has:Encounter:subject:status=finished',
        '/Patient?_has:Observation:subject=1',
        '/Patient?_has:Observation:encounter:code=1234-5',
        '/Patient?_has:Observation:subject:code:text=x',
        '/Patient?_has:Unknown:subject:code=1',
      ]) {
        const res = await d('GET', q);
        assert.equal(res.status, 400, q);
        assert.equal(res.body.resourceType, 'OperationOutcome', q);
      }
    });

    test('Patient compartment search', async () => {
      const d = as(doc);
      assert.deepEqual(ids(ok(await d('GET', `/Patient/${p.id}/Observation`))), [`Observation/${o1.id}`, `Observation/${o2.id}`].sort());
      assert.deepEqual(ids(ok(await d('GET', `/Patient/${p.id}/Observation?code=1234-5`))), [`Observation/${o1.id}`]);
      assert.deepEqual(ids(ok(await d('GET', `/Patient/${p.id}/Patient`))), [`Patient/${p.id}`]);
      assert.deepEqual(ids(ok(await d('GET', `/Patient/${p.id}/Encounter`))), [`Encounter/${enc.id}`]);
      assert.equal(ok(await d('GET', `/Patient/${p2.id}/Encounter`)).total, 0);
      assert.equal(ok(await d('GET', `/Patient/${p.id}/Observation?_summary=count`)).total, 2);
      const paged = ok(await d('GET', `/Patient/${p.id}/Observation?_count=1`));
      assert.ok(new URL(paged.link.find((l: any) => l.relation === 'next').url).pathname.endsWith(`/Patient/${p.id}/Observation`));
      assert.equal((await d('GET', `/Patient/${p.id}/Practitioner`)).status, 400);
      assert.equal((await d('GET', `/Patient/${p.id}/Unknown`)).status, 404);
      // Instance history and vread of a Patient are not taken for a compartment search.
      const history = ok(await d('GET', `/Patient/${p.id}/_history`));
      assert.equal(history.type, 'history');
      assert.equal(ok(await d('GET', `/Patient/${p.id}/_history/1`)).id, p.id);
      assert.equal(ok(await d('GET', `/Observation/${o1.id}/_history`)).type, 'history');
    });

    test('_total=none leaves the total out but still pages', async () => {
      const d = as(doc);
      const none = ok(await d('GET', `/Observation?patient=${p.id}&_total=none&_count=1`));
      assert.equal(none.total, undefined);
      assert.equal(none.entry.length, 1);
      assert.ok(none.link.some((l: any) => l.relation === 'next'));
      const last = ok(await d('GET', `/Observation?patient=${p.id}&_total=none&_count=1&_offset=1`));
      assert.equal(last.entry.length, 1);
      assert.ok(!last.link.some((l: any) => l.relation === 'next'));
      assert.equal(ok(await d('GET', `/Observation?patient=${p.id}&_total=accurate`)).total, 2);
      assert.equal(ok(await d('GET', `/Observation?patient=${p.id}&_total=estimate`)).total, 2);
      assert.equal((await d('GET', `/Observation?patient=${p.id}&_total=some`)).status, 400);
    });

    test('conditional create: none creates, one returns it without writing, several is 412', async () => {
      const d = as(doc);
      const body = { ...observation(p.id, '9999-1'), identifier: [{ system: 'urn:obs', value: 'C-1' }] };
      const first = await d('POST', '/Observation', { body, headers: { 'if-none-exist': 'identifier=urn:obs|C-1' } });
      assert.equal(first.status, 201);
      assert.ok(first.headers.get('location'));
      const before = await versions();
      const again = await d('POST', '/Observation', { body, headers: { 'if-none-exist': 'identifier=urn:obs|C-1' } });
      assert.equal(again.status, 200);
      assert.equal(again.body.id, first.body.id);
      assert.equal(await versions(), before, 'nothing was written');
      const existingPatient = await d('POST', '/Patient', { body: patient('Anders'), headers: { 'if-none-exist': `identifier=${MRN}|${SECRET.mrn}` } });
      assert.equal(existingPatient.status, 200);
      assert.equal(existingPatient.body.id, p.id);
      ok(await d('POST', '/Observation', { body }), 201);
      const many = await d('POST', '/Observation', { body, headers: { 'if-none-exist': 'identifier=urn:obs|C-1' } });
      assert.equal(many.status, 412);
      assert.equal(many.body.resourceType, 'OperationOutcome');
      for (const criteria of ['', '_count=1', 'nonsense=1']) {
        const res = await d('POST', '/Observation', { body, headers: { 'if-none-exist': criteria } });
        assert.equal(res.status, 400, criteria);
      }
    });

    test('conditional update: one match is updated, none creates, several is 412', async () => {
      const d = as(doc);
      const current = ok(await d('GET', `/Patient/${p2.id}`));
      const { id: _id, meta: _meta, ...withoutId } = current;
      const updated = await d('PUT', `/Patient?identifier=${encodeURIComponent(`${MRN}|ADV-2`)}`, { body: { ...withoutId, gender: 'other' } });
      assert.equal(updated.status, 200, JSON.stringify(updated.body));
      assert.equal(updated.body.id, p2.id);
      assert.equal(updated.body.meta.versionId, '2');
      assert.equal(updated.body.gender, 'other');
      const wrongId = await d('PUT', `/Patient?identifier=${encodeURIComponent(`${MRN}|ADV-2`)}`, { body: { ...withoutId, id: p.id } });
      assert.equal(wrongId.status, 400);
      const created = await d('PUT', `/Patient?identifier=${encodeURIComponent(`${MRN}|ADV-NEW`)}`, {
        body: patient('Neuling', 'Ada', { identifier: [{ system: MRN, value: 'ADV-NEW' }] }),
      });
      assert.equal(created.status, 201);
      assert.notEqual(created.body.id, p2.id);
      const twice = await d('PUT', `/Patient?identifier=${encodeURIComponent(`${MRN}|ADV-NEW`)}`, {
        body: patient('Neuling', 'Ada', { identifier: [{ system: MRN, value: 'ADV-NEW' }] }),
      });
      assert.equal(twice.status, 200);
      assert.equal(twice.body.id, created.body.id);
      const many = await d('PUT', `/Patient?general-practitioner=${docPrac}`, { body: patient('Viele') });
      assert.equal(many.status, 412);
      assert.equal((await d('PUT', '/Patient', { body: patient('Ohne') })).status, 400);
    });

    test('conditional entries in transaction and batch Bundles', async () => {
      const d = as(doc);
      const urn = 'urn:uuid:0b8b2d3e-5c55-4b35-9a56-7d2f3a1b2c3d';
      const obs = { ...observation('placeholder', '5555-5'), subject: { reference: urn } };
      const tx = ok(
        await d('POST', '', {
          body: {
            resourceType: 'Bundle',
            type: 'transaction',
            entry: [
              { fullUrl: urn, resource: patient('Doppelt'), request: { method: 'POST', url: 'Patient', ifNoneExist: `identifier=${MRN}|${SECRET.mrn}` } },
              { resource: obs, request: { method: 'POST', url: 'Observation' } },
              { resource: { ...p2, gender: 'unknown' }, request: { method: 'PUT', url: `Patient?identifier=${encodeURIComponent(`${MRN}|ADV-2`)}` } },
            ],
          },
        }),
      );
      assert.match(tx.entry[0].response.status, /^200/);
      assert.equal(tx.entry[0].resource.id, p.id);
      assert.match(tx.entry[1].response.status, /^201/);
      assert.equal(tx.entry[1].resource.subject.reference, `Patient/${p.id}`, 'a reference to the matched entry points at the existing resource');
      assert.match(tx.entry[2].response.status, /^200/);
      assert.equal(tx.entry[2].resource.id, p2.id);
      assert.equal(tx.entry[2].resource.gender, 'unknown');

      const batch = ok(
        await d('POST', '', {
          body: {
            resourceType: 'Bundle',
            type: 'batch',
            entry: [
              { resource: patient('Stapel'), request: { method: 'POST', url: 'Patient', ifNoneExist: `identifier=${MRN}|${SECRET.mrn}` } },
              {
                resource: patient('Stapel', 'Neu', { identifier: [{ system: MRN, value: 'ADV-BATCH' }] }),
                request: { method: 'PUT', url: `Patient?identifier=${MRN}|ADV-BATCH` },
              },
              { resource: patient('Stapel'), request: { method: 'POST', url: 'Patient', ifNoneExist: `general-practitioner=${docPrac}` } },
              { request: { method: 'DELETE', url: `Patient?identifier=${MRN}|ADV-BATCH` } },
            ],
          },
        }),
      );
      assert.match(batch.entry[0].response.status, /^200/);
      assert.equal(batch.entry[0].resource.id, p.id);
      assert.match(batch.entry[1].response.status, /^201/);
      assert.equal(batch.entry[2].response.status, '412');
      assert.equal(batch.entry[3].response.status, '400', 'conditional delete is not supported');
    });

    test('the CapabilityStatement lists the new parameters, inclusions and conditional writes', async () => {
      const res = ok(await call(s.url, 'GET', '/fhir/metadata'));
      const obs = res.rest[0].resource.find((r: any) => r.type === 'Observation');
      const pat = res.rest[0].resource.find((r: any) => r.type === 'Patient');
      assert.equal(obs.conditionalCreate, true);
      assert.equal(obs.conditionalUpdate, true);
      for (const name of ['encounter', 'based-on', 'performer'])
        assert.ok(
          obs.searchParam.some((sp: any) => sp.name === name && sp.type === 'reference'),
          name,
        );
      assert.ok(obs.searchInclude.includes('Observation:encounter'));
      assert.ok(obs.searchInclude.includes('Observation:patient'));
      assert.ok(pat.searchRevInclude.includes('Observation:subject'));
      assert.ok(pat.searchParam.some((sp: any) => sp.name === 'general-practitioner'));
    });
  });

  describe('a physician with no relationship to the patient', () => {
    test('reference search, _include and _revinclude show and count nothing hidden', async () => {
      const o = as(other);
      for (const q of [
        `/Observation?encounter=Encounter/${enc.id}`,
        `/Observation?encounter=${enc.id}&_summary=count`,
        `/Observation?performer=${docPrac}&_total=accurate`,
        `/Observation?code=1234-5&_include=Observation:encounter&_include=Observation:patient`,
        `/DiagnosticReport?result=Observation/${o1.id}&_include=DiagnosticReport:result`,
        `/Patient?_id=${p.id}&_revinclude=Observation:subject`,
        `/Encounter?_revinclude=Observation:encounter`,
        `/Practitioner?_id=${docPrac.split('/')[1]}&_revinclude=Observation:performer&_revinclude=Encounter:practitioner&_revinclude=ServiceRequest:requester`,
      ]) {
        const b = ok(await o('GET', q));
        const hidden = (b.entry ?? []).filter((e: any) => e.resource.resourceType !== 'Practitioner');
        assert.deepEqual(hidden, [], q);
        if (!q.startsWith('/Practitioner')) assert.equal(b.total, 0, q);
        revealsNothing(b.entry ?? []);
      }
      // The Practitioner itself is clinic directory, visible to all staff; what points to it from doc's patients is not,
      // except the shared patient, whom both physicians treat.
      const pr = ok(await o('GET', `/Practitioner?_id=${docPrac.split('/')[1]}&_revinclude=Patient:general-practitioner`));
      assert.deepEqual(ids(pr, 'include'), [`Patient/${shared.id}`]);
    });

    test('an included resource is decided on its own: a visible record pointing at a hidden one includes nothing', async () => {
      const o = as(other);
      const own = ok(
        await o('POST', '/Patient', { body: { resourceType: 'Patient', name: [{ family: 'Eigen' }], generalPractitioner: [{ reference: otherPrac }] } }),
        201,
      );
      const obs = ok(await o('POST', '/Observation', { body: { ...observation(own.id, '7777-7'), encounter: { reference: `Encounter/${enc.id}` } } }), 201);
      const b = ok(await o('GET', `/Observation?_id=${obs.id}&_include=Observation:encounter&_include=Observation:patient`));
      assert.deepEqual(ids(b), [`Observation/${obs.id}`]);
      assert.deepEqual(ids(b, 'include'), [`Patient/${own.id}`], 'the encounter of the other patient is not included');
      // The same include for doc, who may see the encounter, does include it: the reference is indexed.
      const control = await s.cw.fhir.search(
        SYSTEM,
        'Observation',
        { _id: [obs.id], _include: ['Observation:encounter'] },
        new URL('http://x/fhir/Observation'),
      );
      assert.ok(control.entry!.some((e) => e.resource?.id === enc.id));
    });

    test('_has does not match on records the caller may not see', async () => {
      const o = as(other);
      for (const q of [
        '/Patient?_has:Observation:subject:code=1234-5',
        '/Patient?_has:Observation:patient:code=1234-5&_summary=count',
        '/Patient?_has:Observation:subject:code=1234-5&_total=accurate',
        `/Encounter?_has:Observation:encounter:code=1234-5`,
      ]) {
        const b = ok(await o('GET', q));
        assert.equal(b.total, 0, q);
        assert.equal((b.entry ?? []).length, 0, q);
      }
      // Practitioners are clinic directory, visible to all staff: which patients or records point to them is not.
      const pracId = docPrac.split('/')[1];
      for (const q of [`/Practitioner?_has:Patient:general-practitioner:family=${SECRET.family}`, '/Practitioner?_has:Observation:performer:code=1234-5']) {
        assert.deepEqual(ids(ok(await as(doc)('GET', q))), [docPrac], `control: ${q}`);
        assert.equal(ok(await o('GET', q)).total, 0, q);
        assert.equal(ok(await o('GET', `${q}&_id=${pracId}&_summary=count`)).total, 0, q);
      }
      // The shared patient is visible to this physician, its PSY-labelled observation is not: _has must not tell.
      assert.deepEqual(ids(ok(await o('GET', '/Patient?_has:Observation:subject:code=plain-1'))), [`Patient/${shared.id}`]);
      assert.equal(ok(await o('GET', '/Patient?_has:Observation:subject:code=psy-1')).total, 0);
      assert.equal(ok(await o('GET', '/Patient?_has:Observation:subject:code=psy-1&_summary=count')).total, 0);
      assert.equal((await sys('Patient', { '_has:Observation:subject:code': ['psy-1'] })).total, 1, 'the query itself is right');
      const rev = ok(await o('GET', `/Patient?_id=${shared.id}&_revinclude=Observation:subject`));
      assert.deepEqual(ids(rev, 'include'), [`Observation/${sharedPlain.id}`]);
      assert.ok(!JSON.stringify(rev).includes(sharedPsy.id));
    });

    test('Patient compartment search of a hidden patient is empty and counts nothing', async () => {
      const o = as(other);
      for (const type of ['Observation', 'Encounter', 'Patient', 'DiagnosticReport']) {
        for (const q of ['', '?_summary=count', '?_total=accurate', `?_include=${type}:patient`]) {
          if (type === 'Patient' && q.includes('_include')) continue;
          const b = ok(await o('GET', `/Patient/${p.id}/${type}${q}`));
          assert.equal(b.total, 0, `${type}${q}`);
          assert.equal((b.entry ?? []).length, 0, `${type}${q}`);
          assert.ok(!(b.link ?? []).some((l: any) => l.relation === 'next'));
        }
      }
      const none = ok(await o('GET', `/Patient/${p.id}/Observation?_total=none&_count=1`));
      assert.equal((none.entry ?? []).length, 0);
      assert.ok(!none.link.some((l: any) => l.relation === 'next'), '_total=none paging hints at nothing');
    });

    test('conditional create into a hidden chart is refused alike whether or not the criteria match', async () => {
      const o = as(other);
      const before = await versions();
      const body = { ...observation(p.id, '1234-5'), identifier: [{ system: 'urn:obs', value: 'PROBE' }] };
      const matching = await o('POST', '/Observation', { body, headers: { 'if-none-exist': `code=1234-5&patient=${p.id}` } });
      const notMatching = await o('POST', '/Observation', { body, headers: { 'if-none-exist': 'code=0000-0' } });
      assert.equal(matching.status, 403);
      assert.equal(notMatching.status, 403);
      assert.deepEqual(matching.body, notMatching.body);
      revealsNothing(matching.body);
      assert.equal(await versions(), before, 'nothing was written');
      // A Patient with the hidden patient's identifier: the hidden one does not match, a new chart is registered.
      const reg = await o('POST', '/Patient', {
        body: { resourceType: 'Patient', name: [{ family: 'Probe' }] },
        headers: { 'if-none-exist': `identifier=${MRN}|${SECRET.mrn}` },
      });
      assert.equal(reg.status, 201);
      assert.notEqual(reg.body.id, p.id);
      revealsNothing(reg.body);
    });

    test("conditional update probing with a hidden patient's identifier does not touch it", async () => {
      const o = as(other);
      const before = await s.cw.fhir.read(SYSTEM, 'Patient', p.id);
      const res = await o('PUT', `/Patient?identifier=${encodeURIComponent(`${MRN}|${SECRET.mrn}`)}`, {
        body: { resourceType: 'Patient', name: [{ family: 'Hijacked' }], generalPractitioner: [{ reference: otherPrac }] },
      });
      assert.equal(res.status, 201, 'treated as no match: a new chart');
      assert.notEqual(res.body.id, p.id);
      revealsNothing(res.body);
      const after = await s.cw.fhir.read(SYSTEM, 'Patient', p.id);
      assert.equal(after.versionId, before.versionId);
      assert.deepEqual(after.resource, before.resource);
      // With the hidden patient's id in the body: still no match, so a new chart with a server id.
      const withId = await o('PUT', `/Patient?identifier=${encodeURIComponent(`${MRN}|${SECRET.mrn}`)}&family=${SECRET.family}`, {
        body: { resourceType: 'Patient', id: p.id, name: [{ family: 'Hijacked' }] },
      });
      assert.equal(withId.status, 201);
      assert.notEqual(withId.body.id, p.id);
      assert.equal((await s.cw.fhir.read(SYSTEM, 'Patient', p.id)).versionId, before.versionId);
      // An Observation of the hidden chart cannot be reached by criteria either.
      const obs = await o('PUT', `/Observation?_id=${o1.id}`, { body: { ...o1, status: 'entered-in-error' } });
      assert.equal(obs.status, 403, 'no visible match, and creating into that chart is refused');
      assert.equal((await s.cw.fhir.read(SYSTEM, 'Observation', o1.id)).versionId, 1);
    });

    test('conditional Bundle entries reveal nothing either', async () => {
      const o = as(other);
      const tx = await o('POST', '', {
        body: {
          resourceType: 'Bundle',
          type: 'transaction',
          entry: [
            { resource: { ...observation(p.id, '1234-5') }, request: { method: 'POST', url: 'Observation', ifNoneExist: `patient=${p.id}&code=1234-5` } },
          ],
        },
      });
      assert.equal(tx.status, 403);
      revealsNothing(tx.body);
      const batch = ok(
        await o('POST', '', {
          body: {
            resourceType: 'Bundle',
            type: 'batch',
            entry: [
              { resource: observation(p.id, '1234-5'), request: { method: 'POST', url: 'Observation', ifNoneExist: `patient=${p.id}&code=1234-5` } },
              { resource: { ...o1, status: 'cancelled' }, request: { method: 'PUT', url: `Observation?_id=${o1.id}` } },
            ],
          },
        }),
      );
      assert.equal(batch.entry[0].response.status, '403');
      assert.equal(batch.entry[1].response.status, '403');
      revealsNothing(batch.entry);
      assert.equal((await s.cw.fhir.read(SYSTEM, 'Observation', o1.id)).versionId, 1);
    });
  });

  describe('a receptionist (demographics, no clinical records)', () => {
    test('sees the patient but cannot find it through its clinical records', async () => {
      const r = as(desk);
      assert.deepEqual(ids(ok(await r('GET', `/Patient?_id=${p.id}`))), [`Patient/${p.id}`]);
      assert.equal(ok(await r('GET', '/Patient?_has:Observation:subject:code=1234-5')).total, 0);
      assert.equal(ok(await r('GET', '/Patient?_has:Observation:subject:code=1234-5&_summary=count')).total, 0);
      assert.equal(ok(await r('GET', '/Patient?_has:Encounter:subject:status=finished')).total, 0);
      const rev = ok(await r('GET', `/Patient?_id=${p.id}&_revinclude=Observation:subject&_revinclude=Encounter:subject`));
      assert.deepEqual(ids(rev), [`Patient/${p.id}`]);
      assert.deepEqual(ids(rev, 'include'), []);
      assert.equal((await r('GET', `/Patient/${p.id}/Observation`)).status, 403);
      assert.deepEqual(ids(ok(await r('GET', `/Patient/${p.id}/Patient`))), [`Patient/${p.id}`]);
    });
  });
});
