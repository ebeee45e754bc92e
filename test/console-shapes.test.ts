/**
 * The console's checked requests (web/src/api.ts): an answer that is not its route's shape is
 * refused with a sentence for the user that names where, and never what was found there. Run in
 * Node with the browser's fetch and sessionStorage stood in for.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AccountList, Me, MyPatients } from '../src/api/index.js';

/** What the stand-in fetch answers next, and what it was asked. */
let next: { status: number; type: string; text: string } = { status: 200, type: 'application/json', text: '{}' };
const asked: string[] = [];

let web: typeof import('../web/src/api.js');
/**
 * The globals stood in for, put back afterwards: the suite runs several files in one process
 * (test/run.mjs), and a file after this one that posts with fetch (webhooks) must reach the network.
 */
const original = { fetch: globalThis.fetch, sessionStorage: (globalThis as { sessionStorage?: unknown }).sessionStorage };
after(() => Object.assign(globalThis, original));
before(async () => {
  const store = new Map<string, string>();
  Object.assign(globalThis, {
    sessionStorage: {
      getItem: (k: string) => store.get(k) ?? null,
      setItem: (k: string, v: string) => store.set(k, v),
      removeItem: (k: string) => store.delete(k),
    },
    fetch: async (url: string) => {
      asked.push(url);
      return new Response(next.status === 204 ? null : next.text, { status: next.status, headers: { 'content-type': next.type } });
    },
  });
  web = await import('../web/src/api.js');
});

const answer = (body: unknown, status = 200) => (next = { status, type: 'application/json', text: JSON.stringify(body) });

describe('console: checked answers', () => {
  test('an answer of the route’s shape is returned as it came', async () => {
    const me = { username: 'dr-a', name: 'Dr Ann Able', roles: ['physician'], practitioner: null, idleMinutes: 15 };
    answer(me);
    assert.deepEqual(await web.get(Me, '/api/me'), me);
    assert.equal(asked.at(-1), '/api/me');
  });

  test('a field of the wrong type is refused, naming the route and the place but not the value', async () => {
    answer({ total: 1, patients: [{ id: 'p1', name: 'Ann Secret-Name', birthDate: 19700101, gender: null, why: [] }] });
    const err = await web.get(MyPatients, '/api/my-patients?name=Secret-Name').then(
      () => assert.fail('a malformed answer was accepted'),
      (e: Error) => e,
    );
    assert.ok(err instanceof web.ShapeError, `not a ShapeError: ${err.name}`);
    assert.equal(err.at, '/patients/0/birthDate');
    assert.match(err.message, /answer to \/api\/my-patients is not in the form this console expects \(at \/patients\/0\/birthDate/);
    // The query string and the answer's values can name a patient: neither is repeated.
    assert.doesNotMatch(err.message, /Secret|19700101/);
  });

  test('a missing field, a list where an object belongs, and a page that is not JSON are refused', async () => {
    answer({ username: 'dr-a', name: 'Dr Ann Able', roles: ['physician'], practitioner: null });
    await assert.rejects(web.get(Me, '/api/me'), (e: Error) => e instanceof web.ShapeError && e.at === '/idleMinutes');
    answer([{ username: 'x' }]);
    await assert.rejects(web.get(AccountList, '/api/users'), (e: Error) => e instanceof web.ShapeError && e.at === '');
    next = { status: 200, type: 'text/html', text: '<html>a proxy’s sign-in page</html>' };
    await assert.rejects(web.get(Me, '/api/me'), (e: Error) => e instanceof web.ShapeError && /the whole answer/.test(e.message));
  });

  test('a FHIR answer of another resource type, or a Bundle holding one, is refused', async () => {
    answer({ resourceType: 'Observation', id: 'o1' });
    await assert.rejects(web.fhirRead('Patient', '/fhir/Patient/o1'), (e: Error) => e instanceof web.ShapeError && e.at === '/resourceType');
    answer({ resourceType: 'Bundle', type: 'searchset', total: 1, entry: [{ resource: { resourceType: 'Patient', id: 'p1' } }] });
    await assert.rejects(
      web.fhirSearch('Observation', '/fhir/Observation'),
      (e: Error) => e instanceof web.ShapeError && e.at === '/entry/0/resource/resourceType',
    );
    const ok = await web.fhirSearch('Patient', '/fhir/Patient');
    assert.deepEqual(
      ok.resources.map((p) => p.id),
      ['p1'],
    );
  });

  test('the elements a screen reads are checked with their R4 datatypes; everything else passes as it came', async () => {
    const chart = {
      resourceType: 'Patient',
      id: 'p1',
      meta: { versionId: '3' },
      extension: [{ url: 'https://example.org/not-read-by-any-screen', valueBoolean: true }],
      name: [{ family: 'Quennell', given: ['Ottoline'] }],
      birthDate: '1961-04-12',
      identifier: [{ type: { coding: [{ code: 'MR' }] }, value: 'MRN-1' }],
      address: [{ line: ['1 Mill Lane'], city: 'Arden', postalCode: 'AR1 1AA' }],
    };
    answer(chart);
    assert.deepEqual(await web.fhirRead('Patient', '/fhir/Patient/p1'), chart);

    const refusedAt = async (body: unknown, read: () => Promise<unknown>) => {
      answer(body);
      const err = await read().then(
        () => assert.fail('a malformed resource was accepted'),
        (e: Error) => e,
      );
      assert.ok(err instanceof web.ShapeError, `not a ShapeError: ${err.name}`);
      assert.doesNotMatch(err.message, /Quennell|1961|72 beats/, 'the value found is not repeated');
      return err.at;
    };
    assert.equal(await refusedAt({ ...chart, birthDate: 19610412 }, () => web.fhirRead('Patient', '/fhir/Patient/p1')), '/birthDate');
    assert.equal(await refusedAt({ ...chart, name: 'Quennell' }, () => web.fhirRead('Patient', '/fhir/Patient/p1')), '/name');
    const observation = { resourceType: 'Observation', id: 'o1', code: { text: 'Heart rate' }, valueQuantity: { value: 72, unit: '/min' } };
    const searchset = (resource: object) => ({ resourceType: 'Bundle', type: 'searchset', entry: [{ resource }] });
    const observations = () => web.fhirSearch('Observation', '/fhir/Patient/p1/Observation');
    assert.equal(await refusedAt(searchset({ ...observation, code: 'Heart rate' }), observations), '/entry/0/resource/code');
    assert.equal(
      await refusedAt(searchset({ ...observation, component: [{ code: { text: 'Systolic' }, valueQuantity: { value: '72 beats' } }] }), observations),
      '/entry/0/resource/component/0/valueQuantity/value',
    );
    answer(searchset(observation));
    assert.deepEqual((await observations()).resources, [observation]);
  });

  test('an error answer is an ApiError with the server’s sentence, in either error shape', async () => {
    answer({ error: 'access denied' }, 403);
    await assert.rejects(web.get(Me, '/api/me'), (e: Error) => e instanceof web.ApiError && e.status === 403 && e.message === 'access denied');
    answer({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-found', diagnostics: 'resource not found' }] }, 404);
    await assert.rejects(web.fhirRead('Patient', '/fhir/Patient/x'), (e: Error) => e instanceof web.ApiError && e.message === 'resource not found');
    answer({ something: 'else' }, 502);
    await assert.rejects(web.get(Me, '/api/me'), (e: Error) => e instanceof web.ApiError && e.message === 'the server answered 502');
  });
});

test("the console's CSV downloads quote every cell and never hand a spreadsheet a formula", async () => {
  const { csvCell, csvText } = await import('../web/src/csv.js');
  assert.equal(csvCell('plain'), '"plain"');
  assert.equal(csvCell('say "hi", then'), '"say ""hi"", then"');
  for (const formula of ['=HYPERLINK("http://x")', '+1+1', '-2+3', '@SUM(A1)', '\tx', '\rx']) {
    assert.ok(csvCell(formula).startsWith(`"'`), `neutralised: ${JSON.stringify(formula)}`);
  }
  assert.equal(csvCell('2026-12-06'), '"2026-12-06"', 'a date is not a formula');
  assert.equal(
    csvText([
      ['a', 'b'],
      ['c', 'd'],
    ]),
    '"a","b"\r\n"c","d"\r\n',
  );
});
