/**
 * Learning from the privacy officer (issue 28, item 4): a case closed as a false positive weighs its
 * pattern down for the user's role and department, so that the same kind of look by another nurse
 * of that ward goes to the watch list instead of raising an alert, while a nurse of another
 * department is still flagged; the weight is capped, so one officer closing fifty cases cannot
 * switch the detector off (a look ten times more improbable still alerts); every change is recorded
 * (a row per closure and an audit record) and readable by privacy officers only.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Alert } from '../src/monitor/catalog.js';
import { call, startTestServer, type TestServer } from './helpers/harness.js';
import { accessRecord, addResource, appendAccesses, appendRecords, loadResources } from './helpers/liveClinic.js';
import { clinicWith, SNOOP } from './helpers/streetClinic.js';

interface Learning {
  weights: Array<{ scenario: string; role: string; department: string | null; departmentName: string | null; weight: number }>;
  changes: Array<{ by: string; caseId: string; resolution: string; scenario: string; role: string; department: string | null; before: number; after: number }>;
}

describe('live monitor: learning from closed cases', () => {
  let s: TestServer;
  let officer: string;
  /** When the clinic's last day ends, as loaded (an hour before the test began). */
  let end = 0;
  const api = (method: string, path: string, token?: string, body?: unknown) =>
    call(s.url, method, path, { token, body, headers: body === undefined ? {} : { 'content-type': 'application/json' } });
  const learning = async () => (await api('GET', '/api/monitor/learning', officer)).body as Learning;
  const alertsOf = async (user: string) =>
    ((await api('GET', '/api/monitor/alerts?status=all', officer)).body.alerts as Alert[]).filter((a) => a.user === `Practitioner/${user}`);
  const watchOf = async (user: string) =>
    ((await api('GET', '/api/monitor/watch', officer)).body.watch as Array<{ user: string; scenario: string; weight?: number; evidence: string[] }>).filter(
      (w) => w.user === `Practitioner/${user}`,
    );
  const closeAs = async (alertIds: string[], resolution: string) => {
    const created = await api('POST', '/api/monitor/cases', officer, { alerts: alertIds });
    assert.equal(created.status, 201);
    const closed = await api('POST', `/api/monitor/cases/${created.body.id}/status`, officer, { status: 'closed', resolution, note: 'asked the ward manager' });
    assert.equal(closed.status, 204);
    return created.body.id as string;
  };
  /** A patient on `line` nothing links to any nurse, opened once by `user` an hour ago. */
  const unlinkedLook = async (user: string, patient: string, line: string) => {
    await addResource(s, 'Patient', {
      resourceType: 'Patient',
      id: patient,
      name: [{ family: `Neighbour${patient}`, given: ['Em'] }],
      birthDate: '1960-07-07',
      address: [{ line: [line], city: 'Springfield', postalCode: '10001' }],
    });
    await appendRecords(s, [accessRecord(user, patient, end - 1_800_000)]);
  };

  before(async () => {
    s = await startTestServer();
    officer = await s.login(['privacy-officer'], 'po-learn');
    // Treating neighbours is rare on this ward: the first nurse's look at hers is an alert.
    const clinic = clinicWith('Far Away Street');
    const now = Date.now();
    await appendAccesses(s, clinic, await loadResources(s, clinic, now));
    end = now - 3_600_000;
  });
  after(() => s.close());

  it('a false positive weighs the pattern down for the role and department: the next such look goes to the watch list', async () => {
    assert.equal((await api('POST', '/api/monitor/scan', officer)).status, 200);
    const [first] = await alertsOf(SNOOP);
    assert.equal(first?.scenario, 'neighbour', 'the first look is an alert');
    assert.deepEqual(await learning(), { weights: [], changes: [] });

    const caseId = await closeAs([first.id], 'false-positive');
    const taught = await learning();
    assert.deepEqual(
      taught.weights.map((w) => [w.scenario, w.role, w.department, w.departmentName, w.weight]),
      [['neighbour', 'nurse', 'org-cardio', 'Cardiology', 2]],
    );
    assert.deepEqual(
      taught.changes.map((c) => [c.by, c.caseId, c.resolution, c.scenario, c.role, c.department, c.before, c.after]),
      [['po-learn', caseId, 'false-positive', 'neighbour', 'nurse', 'org-cardio', 1, 2]],
    );
    const audited = await s.cw.audit.search({ actions: ['monitor.pattern.weight'], count: 10, offset: 0 });
    assert.equal(audited.total, 1, 'the change is an audit record too');
    assert.equal(audited.entries[0].record.user?.username, 'po-learn');
    assert.equal(audited.entries[0].record.patient, undefined, 'no patient in it');

    // Another cardiology nurse, the same kind of look at another neighbour on her street.
    await unlinkedLook('street-nurse-2', 'next-door-2', '92 Lilac Road');
    // A surgery nurse's look at her own neighbour: another department, not weighed down.
    await unlinkedLook('surgery-nurse-1', 'next-door-3', '9 Nursesurgery1 Road');
    assert.equal((await api('POST', '/api/monitor/scan', officer)).status, 200);
    assert.deepEqual(await alertsOf('street-nurse-2'), [], 'not an alert any more');
    const watched = (await watchOf('street-nurse-2')).find((w) => w.scenario === 'neighbour');
    assert.ok(watched, 'on the watch list instead: never dropped');
    assert.equal(watched.weight, 2);
    assert.ok(watched.evidence.some((e) => /× 2\.0: privacy officers closed such cases for this role and department/.test(e)));
    assert.deepEqual(
      (await alertsOf('surgery-nurse-1')).map((a) => a.scenario),
      ['neighbour'],
      'the other department is still flagged',
    );
  });

  it('fifty closures by one officer cannot switch the pattern off: the weight stops at 10, a stronger look still alerts', async () => {
    const later = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString();
    const seeded: Alert[] = Array.from({ length: 50 }, (_, i) => ({
      id: `mon-attack-${i}`,
      user: `Practitioner/street-nurse-4`,
      patients: [`Patient/local-${1 + (i % 10)}`],
      scenario: 'neighbour',
      score: 0.7,
      firstAccess: later(30 + 2 * i),
      lastAccess: later(30 + 2 * i),
      evidence: ["the patient lives on the user's street"],
    }));
    assert.equal((await s.cw.monitor.addAlerts(seeded)).length, 50);
    for (const a of seeded) await closeAs([a.id], 'legitimate');
    const taught = await learning();
    assert.deepEqual(
      taught.weights.map((w) => [w.scenario, w.department, w.weight]),
      [['neighbour', 'org-cardio', 10]],
      'capped at 10',
    );
    const mine = taught.changes.filter((c) => c.resolution === 'legitimate');
    assert.equal(mine.length, 50, 'every closure recorded, the ones the cap held too');
    assert.deepEqual(
      mine.slice(0, 3).map((c) => [c.before, c.after]),
      [
        [10, 10],
        [10, 10],
        [10, 10],
      ],
      'newest first: the cap held',
    );
    assert.equal((await s.cw.audit.search({ actions: ['monitor.pattern.weight'], count: 1, offset: 0 })).total, 51);

    // A cardiology nurse opening three neighbours nothing links her to: far past ten times the level.
    for (const [i, patient] of ['n-a', 'n-b', 'n-c'].entries()) await unlinkedLook('street-nurse-3', patient, `${94 + i} Lilac Road`);
    assert.equal((await api('POST', '/api/monitor/scan', officer)).status, 200);
    const alerted = (await alertsOf('street-nurse-3')).find((a) => a.scenario === 'neighbour');
    assert.ok(alerted, 'still an alert at the cap');
    assert.deepEqual([...alerted.patients].sort(), ['Patient/n-a', 'Patient/n-b', 'Patient/n-c']);
    assert.ok(
      alerted.evidence.some((e) => /× 10:/.test(e)),
      alerted.evidence.join('; '),
    );

    // A violation raises the pattern's weight back, halving it, and is recorded as well.
    await closeAs([alerted.id], 'violation');
    const back = await learning();
    assert.equal(back.weights[0].weight, 5);
    assert.deepEqual([back.changes[0].resolution, back.changes[0].before, back.changes[0].after], ['violation', 10, 5]);
  });

  it('is for privacy officers only, and every call is on the record', async () => {
    const doctor = await s.login(['physician']);
    const admin = await s.login(['admin']);
    assert.equal((await api('GET', '/api/monitor/learning')).status, 401);
    for (const token of [doctor, admin]) {
      const refused = await api('GET', '/api/monitor/learning', token);
      assert.equal(refused.status, 403);
      assert.equal(refused.body.weights, undefined);
    }
    assert.equal((await s.cw.audit.search({ actions: ['monitor.learning'], outcome: 'denied', count: 10, offset: 0 })).total, 2);
  });
});
