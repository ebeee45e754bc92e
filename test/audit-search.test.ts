/**
 * Searching the log by its search columns (a row per user and append, searchColumns.ts) finds
 * exactly the records a filter over every record finds, in the same order, page by page: for
 * appends of one record and of thousands, users mixed within an append, and records without
 * search columns.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { encodeLeaf, type AuditRecord } from '../src/audit/record.js';
import type { AuditSearch } from '../src/audit/service.js';
import { searchColumnsOf } from '../src/audit/searchColumns.js';
import { startTestServer, type TestServer } from './helpers/harness.js';

let s: TestServer;
before(async () => {
  s = await startTestServer({ audit: { intervalSeconds: 0 } });
});
after(() => s?.close());

const ACTIONS = ['read', 'search', 'update', 'login'];
const OUTCOMES = ['success', 'failure'] as const;
const base = Date.parse('2026-03-01T08:00:00.000Z');

/** Record k: 7 users (each account its practitioner), 40 patients, times a second apart but a few out of order. */
function recordOf(k: number): AuditRecord {
  const u = (k * 5) % 7;
  return {
    time: new Date(base + k * 1000 + (k % 11 === 0 ? -3500 : 0)).toISOString(),
    action: ACTIONS[k % ACTIONS.length],
    outcome: OUTCOMES[k % 5 === 0 ? 1 : 0],
    user: { account: `acct-${u}`, username: `user-${u}`, practitioner: `Practitioner/pr-${u}`, roles: ['physician'] },
    patient: k % 9 === 0 ? undefined : `pat-${(k * 7) % 40}`,
    requestId: `req-${k}`,
  };
}

test('every filter finds what a scan of all records finds, in order, page by page', async () => {
  const first = (await s.cw.audit.log.head()).size;
  const all: Array<{ index: number; record: AuditRecord; searchable: boolean }> = [];
  let k = 0;
  // Appends of 1, 3 and 700 records (a row per user and append; more than 256 of one user in the last) and 40 without columns.
  for (const [count, withColumns] of [
    [1, true],
    [3, true],
    [700, true],
    [40, false],
    [2000, true],
  ] as const) {
    const records = Array.from({ length: count }, () => recordOf(k++));
    const at = await s.cw.audit.log.appendBatch(
      records.map((r) => encodeLeaf(r)),
      withColumns ? records.map(searchColumnsOf) : undefined,
    );
    records.forEach((record, i) => all.push({ index: at + i, record, searchable: withColumns }));
  }
  assert.equal(all[0].index, first);

  const expected = (f: AuditSearch) =>
    all
      .filter(({ record: r, searchable }) => {
        if (!searchable) return false;
        if (f.patient && r.patient !== f.patient) return false;
        if (f.agent && (f.agent.startsWith('Practitioner/') ? r.user?.practitioner : r.user?.account) !== f.agent) return false;
        if (f.actions && !f.actions.includes(r.action)) return false;
        if (f.outcome && r.outcome !== f.outcome) return false;
        if (f.from && Date.parse(r.time) < Date.parse(f.from)) return false;
        if (f.to && Date.parse(r.time) >= Date.parse(f.to)) return false;
        return true;
      })
      .sort((a, b) => (Date.parse(a.record.time) - Date.parse(b.record.time) || a.index - b.index) * (f.newestFirst ? -1 : 1));

  const inWindow = { from: new Date(base + 200_000).toISOString(), to: new Date(base + 1_500_000).toISOString() };
  const filters: Array<Omit<AuditSearch, 'count' | 'offset'>> = [
    { patient: 'pat-3' },
    { patient: 'pat-17', newestFirst: true },
    { agent: 'acct-2' },
    { agent: 'Practitioner/pr-4', newestFirst: true },
    { agent: 'acct-2', patient: 'pat-6' },
    { patient: 'pat-3', actions: ['read', 'update'], outcome: 'success' },
    { ...inWindow },
    { ...inWindow, agent: 'acct-5', newestFirst: true },
    { actions: ['login'], outcome: 'failure' },
    { patient: 'pat-nobody' },
    { agent: 'pat-3' }, // a patient's id is not a user's
  ];
  for (const f of filters) {
    const want = expected(f as AuditSearch);
    const pageSize = 37;
    const got: number[] = [];
    let total = -1;
    for (let offset = 0; offset < want.length || offset === 0; offset += pageSize) {
      const page = await s.cw.audit.search({ ...f, count: pageSize, offset });
      total = page.total;
      got.push(...page.entries.map((e) => e.index));
      for (const e of page.entries) assert.equal(e.record.requestId, all[e.index - first].record.requestId);
      if (page.entries.length < pageSize) break;
    }
    assert.equal(total, want.length, `total for ${JSON.stringify(f)}`);
    assert.deepEqual(
      got,
      want.map((w) => w.index),
      `records for ${JSON.stringify(f)}`,
    );
  }
  // The search of everything counts every searchable record appended here (and those before).
  const everything = await s.cw.audit.search({ count: 1, offset: 0 });
  assert.ok(everything.total >= all.filter((a) => a.searchable).length);
  // The posture's count of actions since an instant (no unpacking of rows wholly inside it) agrees with the search.
  for (const [actions, from] of [
    [['read'], base + 200_000],
    [['read', 'update'], base + 1_234_500],
    [['login'], base - 10_000],
    [['search'], base + 10_000_000],
  ] as Array<[string[], number]>) {
    const searched = await s.cw.audit.search({ actions, from: new Date(from).toISOString(), count: 0, offset: 0 });
    assert.equal(await s.cw.audit.countSince(actions, new Date(from)), searched.total, `${actions.join(',')} since ${new Date(from).toISOString()}`);
    assert.equal(searched.total, expected({ actions, from: new Date(from).toISOString() } as AuditSearch).length);
  }
});
