/**
 * A search across patients whose own conditions find few rows (a name) decides each row as a read
 * of it is (src/records/searchByRows.ts); one that finds more goes the set predicate's way. Both
 * must show the same: the caller's own patients only, labelled rows only where the caller's roles
 * allow the category, totals and pages of what is shown, each shown patient recorded once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Patient } from '@medplum/fhirtypes';
import { SYSTEM } from '../src/shared/index.js';
import { MAX_ROWS } from '../src/records/searchByRows.js';
import { compileSearch, searchQuery } from '../src/records/search.js';
import { call, startTestServer, type TestServer } from './helpers/harness.js';

describe('a search across patients, decided row by row', () => {
  let s: TestServer;
  let mine: string;
  let theirs: string;
  const own = { Fewname: [] as string[], Crowdname: [] as string[] };

  before(async () => {
    s = await startTestServer();
    mine = await s.login(['physician']);
    theirs = await s.login(['physician']);
    const add = async (family: keyof typeof own, gp: string, security?: string) => {
      const body: Patient = {
        resourceType: 'Patient',
        name: [{ family, given: ['Alex'] }],
        generalPractitioner: [{ reference: s.practitionerOf(gp) }],
        ...(security ? { meta: { security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: security }] } } : {}),
      };
      const { id } = await s.cw.fhir.create(SYSTEM, 'Patient', body);
      if (gp === mine && security !== 'PSY') own[family].push(id);
      return id;
    };
    await add('Fewname', mine);
    await add('Fewname', theirs);
    await add('Fewname', mine, 'HIV'); // a physician's category: shown over their direct relationship
    await add('Fewname', mine, 'PSY'); // not a physician's: hidden although theirs
    await add('Fewname', mine);
    await add('Fewname', theirs);
    await add('Fewname', mine);
    // More rows than are decided one by one, a few of them the caller's.
    for (let i = 0; i < MAX_ROWS + 5; i++) await add('Crowdname', i % 20 === 0 ? mine : theirs);
  });
  after(() => s.close());

  const search = async (query: string, token = mine) => {
    const res = await call(s.url, 'GET', `/fhir/Patient?${query}`, { token });
    assert.equal(res.status, 200);
    return res.body;
  };
  const ids = (bundle: any): string[] => (bundle.entry ?? []).map((e: any) => e.resource.id);

  for (const family of ['Fewname', 'Crowdname'] as const) {
    test(`${family}: the caller's own patients, as many as the count alone says, newest first, page by page`, async () => {
      const all = await search(`family=${family}&_count=1000`);
      assert.deepEqual([...ids(all)].sort(), [...own[family]].sort());
      assert.equal(all.total, own[family].length);
      assert.deepEqual(ids(all), [...own[family]].reverse(), 'newest first');
      // The count alone is the set predicate's.
      assert.equal((await search(`family=${family}&_summary=count`)).total, own[family].length);
      const second = await search(`family=${family}&_count=1&_offset=1`);
      assert.deepEqual(ids(second), [own[family].at(-2)]);
      assert.equal(second.total, own[family].length);
      assert.ok(second.link.some((l: any) => l.relation === 'next'));
      const last = await search(`family=${family}&_count=2&_offset=${own[family].length - 1}&_total=none`);
      assert.deepEqual(ids(last), [own[family][0]]);
      assert.equal(last.total, undefined);
      assert.ok(!last.link.some((l: any) => l.relation === 'next'));
    });
  }

  test('names, identifiers and ids are decided row by row; codes, statuses and dates by the set predicate', () => {
    const narrow = (type: string, query: string) => compileSearch(type, searchQuery(new URLSearchParams(query)), s.cw.keyring.blindIndex).narrow;
    assert.equal(narrow('Patient', 'family=Fewname'), true);
    assert.equal(narrow('Patient', 'identifier=urn:mrn|A-1'), true);
    assert.equal(narrow('Observation', '_id=x'), true);
    assert.equal(narrow('Observation', 'code=http://loinc.org|8867-4'), false);
    assert.equal(narrow('Observation', 'status=final&date=ge2024'), false);
  });

  test('each patient shown is one recorded access, and no other is', async () => {
    const events: string[] = [];
    s.cw.access.onEvent((e) => {
      if (e.action === 'search') events.push(`${e.patientId} ${e.decision.allowed}`);
    });
    await search('family=Fewname');
    assert.deepEqual(events.sort(), own.Fewname.map((id) => `${id} true`).sort());
  });

  test('another physician sees their own namesakes only', async () => {
    const found = await search('family=Fewname', theirs);
    assert.equal(found.total, 2);
    assert.ok(ids(found).every((id) => !own.Fewname.includes(id)));
  });
});
