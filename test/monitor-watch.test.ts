/**
 * The watch list in the live monitor: what the alert budget holds back (a look at a neighbour where
 * treating neighbours is everyday work) is stored by the live scan and served to privacy officers
 * only, ranked, with why it ranked where it did; a privacy officer can open a case from an entry,
 * with the reason on record; every call is audited and bad input changes nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { call, startTestServer, type TestServer } from './helpers/harness.js';
import { appendAccesses, loadResources } from './helpers/liveClinic.js';
import { clinicWith, SNOOP } from './helpers/streetClinic.js';

interface Watched {
  id: string;
  user: string;
  scenario: string;
  patients: string[];
  p: number;
  level: number;
  evidence: string[];
}

describe('live monitor: the watch list', () => {
  let s: TestServer;
  let officer: string;
  /** How far the clinic's times were moved to end an hour ago. */
  let by = 0;
  const api = (method: string, path: string, token?: string, body?: unknown) =>
    call(s.url, method, path, { token, body, headers: body === undefined ? {} : { 'content-type': 'application/json' } });
  const watchList = async () => (await api('GET', '/api/monitor/watch', officer)).body.watch as Watched[];

  before(async () => {
    s = await startTestServer();
    officer = await s.login(['privacy-officer'], 'po-watch');
    const clinic = clinicWith('Lilac Road');
    by = await loadResources(s, clinic, Date.now());
    await appendAccesses(s, clinic, by);
  });
  after(() => s.close());

  it('a live scan stores what the budget held back, and privacy officers see it ranked with why', async () => {
    assert.equal((await api('POST', '/api/monitor/scan', officer)).status, 200);
    const alerts = (await api('GET', '/api/monitor/alerts?status=all', officer)).body.alerts as Array<{ user: string }>;
    assert.ok(!alerts.some((a) => a.user === `Practitioner/${SNOOP}`), 'the look is not an accusation');
    const watch = await watchList();
    const item = watch.find((w) => w.user === `Practitioner/${SNOOP}` && w.scenario === 'neighbour');
    assert.ok(item, JSON.stringify(watch));
    assert.deepEqual(item.patients, ['Patient/next-door']);
    assert.ok(item.p > item.level && item.p < 0.2, `p ${item.p} above the level ${item.level}`);
    assert.ok(item.evidence.some((e) => /are neighbours/.test(e) && /the scan's level/.test(e)));
    for (let i = 1; i < watch.length; i++) assert.ok(watch[i - 1].p <= watch[i].p, 'most improbable first');

    // The same look again a minute later: a later scan with the user active replaces the user's
    // entries, one entry, not two.
    const again = clinicWith('Lilac Road');
    await appendAccesses(s, again, by + 60_000, again.events.length - 1);
    assert.equal((await api('POST', '/api/monitor/scan', officer)).status, 200);
    assert.equal((await watchList()).filter((w) => w.user === `Practitioner/${SNOOP}` && w.scenario === 'neighbour').length, 1);
  });

  it('is for privacy officers only, and every call is on the record', async () => {
    const doctor = await s.login(['physician']);
    const admin = await s.login(['admin']);
    const id = (await watchList())[0].id;
    for (const [method, path, body] of [
      ['GET', '/api/monitor/watch', undefined],
      ['POST', `/api/monitor/watch/${id}/case`, { reason: 'looks odd' }],
    ] as const) {
      assert.equal((await api(method, path, undefined, body)).status, 401, `${method} ${path} unauthenticated`);
      for (const token of [doctor, admin]) {
        const refused = await api(method, path, token, body);
        assert.equal(refused.status, 403, `${method} ${path}`);
        assert.equal(refused.body.watch, undefined, 'nothing of the list in a refusal');
      }
    }
    assert.ok(
      (await watchList()).some((w) => w.id === id),
      'the refused calls opened no case',
    );
    const denied = await s.cw.audit.search({ actions: ['monitor.watch'], outcome: 'denied', count: 10, offset: 0 });
    assert.equal(denied.total, 2, 'the physician and the admin');
    const allowed = await s.cw.audit.search({ actions: ['monitor.watch'], outcome: 'success', count: 1, offset: 0 });
    assert.ok(allowed.total > 0);
  });

  it('a privacy officer opens a case from an entry, with the reason on record; bad input changes nothing', async () => {
    const item = (await watchList()).find((w) => w.user === `Practitioner/${SNOOP}`)!;
    for (const body of [{}, { reason: '   ' }, { reason: 7 }, { reason: 'x', title: '' }]) {
      const r = await api('POST', `/api/monitor/watch/${item.id}/case`, officer, body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(typeof r.body.error, 'string');
    }
    assert.equal((await api('POST', '/api/monitor/watch/watch-nothing/case', officer, { reason: 'x' })).status, 404);
    assert.ok(
      (await watchList()).some((w) => w.id === item.id),
      'still on the watch list',
    );
    assert.equal((await api('GET', '/api/monitor/cases', officer)).body.cases.length, 0, 'no case opened');

    const opened = await api('POST', `/api/monitor/watch/${item.id}/case`, officer, { reason: 'her neighbour complained' });
    assert.equal(opened.status, 201);
    assert.equal(opened.body.user, `Practitioner/${SNOOP}`);
    assert.deepEqual(opened.body.scenarios, ['neighbour']);
    const detail = (await api('GET', `/api/monitor/cases/${opened.body.id}`, officer)).body;
    assert.deepEqual(detail.alerts[0].patients, ['Patient/next-door']);
    assert.ok(detail.alerts[0].evidence.some((e: string) => /raised from the watch list by a privacy officer/.test(e)));
    assert.ok(
      detail.timeline.some((t: { kind: string; text: string }) => t.kind === 'note' && t.text === 'opened from the watch list: her neighbour complained'),
    );
    assert.ok(!(await watchList()).some((w) => w.id === item.id), 'off the watch list once it is a case');
    const recorded = await s.cw.audit.search({ actions: ['monitor.watch.case'], outcome: 'success', count: 10, offset: 0 });
    assert.ok(
      recorded.entries.some(
        (e) => e.record.resource?.type === 'MonitorWatchItem' && e.record.resource.id === item.id && e.record.user?.username === 'po-watch',
      ),
    );
    assert.equal((await api('POST', `/api/monitor/watch/${item.id}/case`, officer, { reason: 'again' })).status, 404, 'once');
  });
});
