/**
 * The live monitor inside the server: misuse made through the real API (a physician breaking the
 * glass into a colleague's chart, a member of staff labelled EMP) is found by the live scan from
 * Carewall's own audit log, while the legitimate accesses around it are not; the case workflow end
 * to end; a case closed as legitimate stops the same pattern being flagged; privacy officers only.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SYSTEM } from '../src/shared/index.js';
import type { Alert } from '../src/monitor/catalog.js';
import { call, startTestServer, type TestServer } from './helpers/harness.js';

const JUSTIFICATION = 'patient collapsed in the corridor, checking allergies before treatment';
const STAFF_FAMILY = 'Wintermantel';

describe('live insider-misuse monitor', () => {
  let s: TestServer;
  let officer: string;
  let snooper: string;
  let colleague: string;
  let staffPatient: string;
  let ordinaryPatient: string;
  const api = (method: string, path: string, token?: string, body?: unknown) =>
    call(s.url, method, path, { token, body, headers: body === undefined ? {} : { 'content-type': 'application/json' } });

  before(async () => {
    s = await startTestServer();
    officer = await s.login(['privacy-officer'], 'po-live');
    snooper = await s.login(['physician'], 'dr-snoop');
    colleague = await s.login(['physician'], 'dr-treating');
    // A member of staff who is also a patient (EMP label), treated by dr-treating.
    staffPatient = (
      await s.cw.fhir.create(SYSTEM, 'Patient', {
        resourceType: 'Patient',
        meta: { security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'EMP' }] },
        name: [{ family: STAFF_FAMILY, given: ['Ilse'] }],
        birthDate: '1979-05-02',
      })
    ).id;
    ordinaryPatient = (
      await s.cw.fhir.create(SYSTEM, 'Patient', { resourceType: 'Patient', name: [{ family: 'Ordinaryfolk', given: ['Tom'] }], birthDate: '1950-01-01' })
    ).id;
    const start = new Date(Date.now() - 3_600_000).toISOString();
    const encounter = (patient: string, practitioner: string) =>
      s.cw.fhir.create(SYSTEM, 'Encounter', {
        resourceType: 'Encounter',
        status: 'in-progress',
        class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
        subject: { reference: `Patient/${patient}` },
        participant: [{ individual: { reference: practitioner } }],
        period: { start },
      });
    await encounter(staffPatient, s.practitionerOf(colleague));
    await encounter(ordinaryPatient, s.practitionerOf(snooper));
  });
  after(() => s.close());

  it('finds a colleague snooping through break-the-glass, and not the care around it', async () => {
    // Legitimate: the treating physician reads her patient; the snooper reads his own patient.
    assert.equal((await api('GET', `/fhir/Patient/${staffPatient}`, colleague)).status, 200);
    assert.equal((await api('GET', `/fhir/Encounter?patient=${staffPatient}`, colleague)).status, 200);
    assert.equal((await api('GET', `/fhir/Patient/${ordinaryPatient}`, snooper)).status, 200);
    // Misuse: no relationship to the staff member's chart, so he claims an emergency and reads it.
    assert.equal((await api('GET', `/fhir/Patient/${staffPatient}`, snooper)).status, 403);
    assert.equal(
      (await api('POST', '/api/break-glass', snooper, { patient: `Patient/${staffPatient}`, reason: 'emergency-treatment', justification: JUSTIFICATION }))
        .status,
      201,
    );
    assert.equal((await api('GET', `/fhir/Patient/${staffPatient}`, snooper)).status, 200);
    assert.equal((await api('GET', `/fhir/Encounter?patient=${staffPatient}`, snooper)).status, 200);

    const scan = await api('POST', '/api/monitor/scan', officer);
    assert.equal(scan.status, 200);
    assert.ok(scan.body.processed > 0, 'the new audit records were read');
    assert.ok(scan.body.alerts >= 1, 'at least one new alert');

    const { alerts } = (await api('GET', '/api/monitor/alerts', officer)).body as { alerts: Array<Alert & { caseId: string | null; createdAt: string }> };
    const found = alerts.find((a) => a.user === s.practitionerOf(snooper) && a.patients.includes(`Patient/${staffPatient}`));
    assert.ok(found, 'the snooping is an alert');
    assert.equal(found.scenario, 'coworker');
    assert.equal(found.caseId, null);
    assert.ok(found.score > 0 && found.score <= 1);
    assert.ok(found.evidence.some((e) => /member of staff/.test(e)));
    assert.ok(Date.parse(found.firstAccess) <= Date.parse(found.lastAccess) && !Number.isNaN(Date.parse(found.createdAt)));
    // The care around it is not flagged.
    assert.ok(!alerts.some((a) => a.user === s.practitionerOf(colleague)), 'the treating physician is not flagged');
    assert.ok(!alerts.some((a) => a.patients.includes(`Patient/${ordinaryPatient}`)), "the snooper's own patient is not flagged");

    // Privacy officers are told, without the patient's name.
    const notes = (await api('GET', '/api/notifications', officer)).body.notifications as Array<{ kind: string; message: string }>;
    const note = notes.find((n) => n.kind === 'monitor-alert' && n.message.includes(found.id));
    assert.ok(note);
    assert.ok(!note.message.includes(STAFF_FAMILY) && !note.message.includes(staffPatient));

    // A second run reads only what came since (the officer's own queries) and raises nothing twice.
    const again = await api('POST', '/api/monitor/scan', officer);
    assert.equal(again.status, 200);
    assert.equal(again.body.alerts, 0);
    assert.ok(again.body.processed < scan.body.processed);
  });

  it('runs a case from alert to decision, and a legitimate decision suppresses the pattern', async () => {
    const alerts = (await api('GET', '/api/monitor/alerts?status=new', officer)).body.alerts as Alert[];
    const alert = alerts.find((a) => a.user === s.practitionerOf(snooper))!;
    assert.ok(alert);

    const created = await api('POST', '/api/monitor/cases', officer, { alerts: [alert.id], title: 'Break-the-glass into a colleague' });
    assert.equal(created.status, 201);
    const id = created.body.id as string;
    assert.equal(created.body.status, 'open');
    assert.equal(created.body.title, 'Break-the-glass into a colleague');
    assert.equal(created.body.resolution, null);
    assert.equal(created.body.user, alert.user);
    assert.deepEqual(created.body.scenarios, [alert.scenario]);
    assert.equal(created.body.alertCount, 1);
    assert.equal((await api('POST', '/api/monitor/cases', officer, { alerts: [alert.id] })).status, 409, 'an alert belongs to one case');
    assert.ok(!(await api('GET', '/api/monitor/alerts', officer)).body.alerts.some((a: Alert) => a.id === alert.id), 'no longer new');
    assert.ok(
      (await api('GET', '/api/monitor/alerts?status=cased', officer)).body.alerts.some(
        (a: { id: string; caseId: string }) => a.id === alert.id && a.caseId === id,
      ),
    );

    // Given only to an active privacy officer: a typo, a physician or a disabled officer is refused.
    await s.login(['privacy-officer'], 'po-left');
    await s.cw.identity.disableAccount('po-left');
    const assignees = await api('GET', '/api/monitor/assignees', officer);
    assert.equal(assignees.status, 200);
    assert.deepEqual(
      (assignees.body.assignees as Array<{ username: string; name: string }>).map((p) => [p.username, p.name]),
      [['po-live', 'po-live']],
      'the active privacy officers only, each with a name to show',
    );
    for (const assignee of ['po-lvie', 'dr-snoop', 'po-left']) {
      const refused = await api('POST', `/api/monitor/cases/${id}/assign`, officer, { assignee });
      assert.equal(refused.status, 400, `assigned to ${assignee}`);
      assert.equal(refused.body.error, 'the assignee must be an active privacy officer');
    }
    assert.equal((await api('GET', `/api/monitor/cases/${id}`, officer)).body.assignee, null, 'the refusals changed nothing');
    assert.equal((await api('POST', `/api/monitor/cases/${id}/assign`, officer, { assignee: 'po-live' })).status, 204);
    assert.equal((await api('POST', `/api/monitor/cases/${id}/notes`, officer, { text: `Asked ${STAFF_FAMILY}'s manager about the rota` })).status, 204);
    assert.equal((await api('POST', `/api/monitor/cases/${id}/status`, officer, { status: 'closed' })).status, 400, 'closing needs a resolution');
    for (const note of [undefined, '', '   ']) {
      const noNote = await api('POST', `/api/monitor/cases/${id}/status`, officer, { status: 'closed', resolution: 'violation', note });
      assert.equal(noNote.status, 400, `closing with note ${JSON.stringify(note)}`);
      assert.equal(noNote.body.error, 'closing needs a note saying what was found');
    }
    assert.equal((await api('GET', `/api/monitor/cases/${id}`, officer)).body.status, 'open', 'a refused closing leaves the case open');
    assert.equal((await api('POST', `/api/monitor/cases/${id}/status`, officer, { status: 'investigating' })).status, 204);
    assert.equal((await api('GET', '/api/monitor/cases?status=investigating', officer)).body.cases.length, 1);
    assert.equal((await api('GET', '/api/monitor/cases?status=open', officer)).body.cases.length, 0);
    assert.equal(
      (await api('POST', `/api/monitor/cases/${id}/status`, officer, { status: 'closed', resolution: 'legitimate', note: 'covering the ward that night' }))
        .status,
      204,
    );
    assert.equal((await api('POST', `/api/monitor/cases/${id}/status`, officer, { status: 'investigating' })).status, 409, 'a closed case stays closed');
    assert.equal((await api('POST', `/api/monitor/cases/${id}/assign`, officer, { assignee: 'po-live' })).status, 409, 'a closed case is given to nobody');

    const detail = await api('GET', `/api/monitor/cases/${id}`, officer);
    assert.equal(detail.status, 200);
    assert.equal(detail.body.status, 'closed');
    assert.equal(detail.body.resolution, 'legitimate');
    assert.equal(detail.body.assignee, 'po-live');
    assert.deepEqual(
      detail.body.alerts.map((a: Alert) => a.id),
      [alert.id],
    );
    assert.deepEqual(
      detail.body.timeline.map((t: { kind: string }) => t.kind),
      ['opened', 'assigned', 'note', 'status', 'status', 'note'],
    );
    assert.ok(detail.body.timeline.every((t: { by: string; at: string }) => t.by === 'po-live' && !Number.isNaN(Date.parse(t.at))));
    assert.equal(detail.body.timeline[2].text, `Asked ${STAFF_FAMILY}'s manager about the rota`, 'notes are sealed at rest, opened for officers');
    assert.equal(detail.body.timeline[4].text, 'closed as legitimate');
    const accesses = detail.body.accesses as Array<{ time: string; action: string; patient: string; resource: string | null; outcome: string }>;
    assert.ok(
      accesses.some(
        (a) => a.action === 'read' && a.patient === `Patient/${staffPatient}` && a.resource === `Patient/${staffPatient}` && a.outcome === 'success',
      ),
    );
    assert.ok(
      accesses.every((a) => a.patient === `Patient/${staffPatient}`),
      'only the alerts’ patients',
    );
    const listed = (await api('GET', '/api/monitor/cases', officer)).body.cases.find((c: { id: string }) => c.id === id);
    assert.equal(listed.status, 'closed');
    assert.ok(Date.parse(listed.updatedAt) >= Date.parse(listed.createdAt));

    // The feedback, live: the same user opening the same chart again is not flagged again.
    assert.equal((await api('GET', `/fhir/Patient/${staffPatient}`, snooper)).status, 200);
    assert.equal((await api('POST', '/api/monitor/scan', officer)).body.alerts, 0);
    // And directly, with no overlap to hide behind: a new alert of that user, patient and scenario
    // a month later is dropped, while the same user on another staff patient is still stored.
    const later = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString();
    const seed = (id: string, patient: string): Alert => ({
      id,
      user: alert.user,
      patients: [patient],
      scenario: 'coworker',
      score: 0.7,
      firstAccess: later(30),
      lastAccess: later(30),
      evidence: ['the patient is a member of staff'],
    });
    assert.equal((await s.cw.monitor.addAlerts([seed('mon-suppressed', `Patient/${staffPatient}`)])).length, 0);
    assert.equal((await s.cw.monitor.addAlerts([seed('mon-other', 'Patient/someone-else')])).length, 1);
    assert.ok(!(await api('GET', '/api/monitor/alerts?status=all', officer)).body.alerts.some((a: Alert) => a.id === 'mon-suppressed'));

    // Another user doing the same to that chart is flagged: the suppression is per user.
    const other = await s.login(['physician'], 'dr-other');
    assert.equal(
      (await api('POST', '/api/break-glass', other, { patient: `Patient/${staffPatient}`, reason: 'other', justification: JUSTIFICATION })).status,
      201,
    );
    assert.equal((await api('GET', `/fhir/Patient/${staffPatient}`, other)).status, 200);
    assert.ok((await api('POST', '/api/monitor/scan', officer)).body.alerts >= 1);
    assert.ok(
      (await api('GET', '/api/monitor/alerts', officer)).body.alerts.some((a: Alert) => a.user === s.practitionerOf(other) && a.scenario === 'coworker'),
    );
  });

  it('addAlerts stores and notifies like the live scan, once', async () => {
    const a: Alert = {
      id: 'mon-seeded-1',
      user: s.practitionerOf(colleague),
      patients: [`Patient/${ordinaryPatient}`],
      scenario: 'curiosity',
      score: 0.6,
      firstAccess: new Date(Date.now() - 60_000).toISOString(),
      lastAccess: new Date().toISOString(),
      evidence: ['no clinical action and nothing else in the records explains it'],
    };
    assert.equal((await s.cw.monitor.addAlerts([a])).length, 1);
    assert.equal((await s.cw.monitor.addAlerts([a])).length, 0, 'the same alert is not stored twice');
    const listed = (await api('GET', '/api/monitor/alerts', officer)).body.alerts.find((x: Alert) => x.id === a.id);
    assert.deepEqual({ ...listed, createdAt: undefined }, { ...a, caseId: null, createdAt: undefined });
    assert.ok((await api('GET', '/api/notifications', officer)).body.notifications.some((n: { message: string }) => n.message.includes(a.id)));
    await assert.rejects(s.cw.monitor.addAlerts([{ ...a, id: 'x y', scenario: 'nope' as Alert['scenario'] }]));
  });

  it('scans once at a time: another process holding the lease is waited out, not raced', async () => {
    const cursor = async () => Number((await s.cw.db.query<{ next_index: string }>('select next_index from monitor_cursor')).rows[0].next_index);
    // Another process's live lease: this one reads nothing and moves nothing.
    await s.cw.db.query(`update monitor_cursor set lease_holder = 'other-process', lease_until = now() + interval '5 minutes'`);
    const before = await cursor();
    assert.deepEqual(await s.cw.monitor.scanNow(), { processed: 0, alerts: 0 });
    assert.equal(await cursor(), before);
    // Its lease expired (the process died): taken over.
    await s.cw.db.query(`update monitor_cursor set lease_until = now() - interval '1 second'`);
    const [a, b] = await Promise.all([s.cw.monitor.scanNow(), s.cw.monitor.scanNow()]);
    assert.ok(a.processed > 0, 'the first run reads what came since');
    assert.equal(a.alerts + b.alerts, 0, 'nothing new, nothing twice');
    assert.ok((await cursor()) > before);
    assert.equal((await s.cw.db.query<{ lease_holder: string | null }>('select lease_holder from monitor_cursor')).rows[0].lease_holder, null, 'released');
  });

  it('is for privacy officers only, and every call is on the record', async () => {
    const doctor = await s.login(['physician']);
    const admin = await s.login(['admin']);
    const calls: Array<[string, string, unknown?]> = [
      ['GET', '/api/monitor/alerts'],
      ['POST', '/api/monitor/scan'],
      ['POST', '/api/monitor/cases', { alerts: ['mon-seeded-1'] }],
      ['GET', '/api/monitor/cases'],
      ['GET', '/api/monitor/cases/case-x'],
      ['GET', '/api/monitor/assignees'],
      ['POST', '/api/monitor/cases/case-x/assign', { assignee: 'x' }],
      ['POST', '/api/monitor/cases/case-x/notes', { text: 'x' }],
      ['POST', '/api/monitor/cases/case-x/status', { status: 'investigating' }],
    ];
    for (const [method, path, body] of calls) {
      assert.equal((await api(method, path, undefined, body)).status, 401, `${method} ${path} unauthenticated`);
      assert.equal((await api(method, path, doctor, body)).status, 403, `${method} ${path} physician`);
      assert.equal((await api(method, path, admin, body)).status, 403, `${method} ${path} admin`);
    }
    assert.equal(
      (await api('GET', '/api/monitor/alerts?status=new', officer)).body.alerts.some((x: Alert) => x.id === 'mon-seeded-1'),
      true,
      'nothing was cased by the refused calls',
    );
    const refused = await s.cw.audit.search({ actions: ['monitor.case.create'], outcome: 'denied', count: 10, offset: 0 });
    assert.equal(refused.total, 2, 'the physician and the admin');
    const allowed = await s.cw.audit.search({ actions: ['monitor.alerts'], outcome: 'success', count: 1, offset: 0 });
    assert.ok(allowed.total > 0);
  });

  it('refuses bad input with a 400 and changes nothing', async () => {
    const bad = async (method: string, path: string, body?: unknown, status = 400) => {
      const r = await api(method, path, officer, body);
      assert.equal(r.status, status, `${method} ${path} ${JSON.stringify(body)}`);
      assert.equal(typeof r.body.error, 'string');
    };
    await bad('GET', '/api/monitor/alerts?status=old');
    await bad('GET', '/api/monitor/cases?status=new');
    await bad('POST', '/api/monitor/cases', { alerts: [] });
    await bad('POST', '/api/monitor/cases', { alerts: 'mon-seeded-1' });
    await bad('POST', '/api/monitor/cases', { alerts: ['mon-seeded-1', 'no-such-alert'] });
    await bad('POST', '/api/monitor/cases', { alerts: ['mon-seeded-1'], title: 7 });
    const raw = await call(s.url, 'POST', '/api/monitor/cases', { token: officer, raw: '{not json', headers: { 'content-type': 'application/json' } });
    assert.equal(raw.status, 400);
    assert.ok(
      (await api('GET', '/api/monitor/alerts', officer)).body.alerts.some((x: Alert) => x.id === 'mon-seeded-1'),
      'still new',
    );
    const created = await api('POST', '/api/monitor/cases', officer, { alerts: ['mon-seeded-1'] });
    assert.equal(created.status, 201);
    const id = created.body.id as string;
    await bad('POST', `/api/monitor/cases/${id}/assign`, { assignee: '' });
    await bad('POST', `/api/monitor/cases/${id}/notes`, { text: '   ' });
    await bad('POST', `/api/monitor/cases/${id}/status`, { status: 'reopened' });
    await bad('POST', `/api/monitor/cases/${id}/status`, { status: 'closed', resolution: 'maybe' });
    await bad('POST', `/api/monitor/cases/${id}/status`, { status: 'investigating', resolution: 'violation' });
    await bad('POST', `/api/monitor/cases/no-such-case/notes`, { text: 'x' }, 404);
    await bad('GET', `/api/monitor/cases/no-such-case`, undefined, 404);
    const detail = (await api('GET', `/api/monitor/cases/${id}`, officer)).body;
    assert.equal(detail.status, 'open');
    assert.equal(detail.assignee, null);
    assert.deepEqual(
      detail.timeline.map((t: { kind: string }) => t.kind),
      ['opened'],
    );
    assert.match(detail.title, /curiosity/);
    assert.equal(
      (await api('POST', `/api/monitor/cases/${id}/status`, officer, { status: 'closed', resolution: 'violation', note: 'confirmed with the ward' })).status,
      204,
      'open may be closed directly',
    );
  });
});

describe('which audit records the live monitor reads', () => {
  it('an emergency look-up is a search over the people it found, never a chart opened; a refused one is nothing seen', async () => {
    const { toMonitorEvent } = await import('../src/monitor/live/auditRecords.js');
    const lookup = {
      time: '2026-12-01T10:00:00.000Z',
      action: 'lookup',
      outcome: 'success' as const,
      user: { account: 'a1', username: 'dr', practitioner: 'Practitioner/p1', roles: ['physician'] },
      patient: 'pat-9',
    };
    assert.equal(toMonitorEvent(lookup)?.interaction, 'search');
    assert.equal(toMonitorEvent({ ...lookup, action: 'read' })?.interaction, 'read');
    assert.equal(toMonitorEvent({ ...lookup, outcome: 'denied' as const }), undefined);
  });
});
