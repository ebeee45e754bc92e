/**
 * Break-the-glass, privacy investigations, the review queue, notifications and the access
 * explanation: the ways to reach a chart without a care relationship, and how each is watched.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Reference, Resource } from '@medplum/fhirtypes';
import { SYSTEM } from '../src/shared/index.js';
import type { AccessEvent } from '../src/access/index.js';
import { call, startTestServer, type TestServer } from './helpers/harness.js';
import { observation } from './helpers/fixtures.js';
import { databaseClockPast } from './helpers/poll.js';

type Stored = Resource & { id: string };

const JUSTIFICATION = 'Unconscious on arrival, no carer reachable, allergies unknown';
const NAME = { family: 'Glasbrecher', given: 'Philomena' };
let mrn = 0;

async function make(s: TestServer, body: Resource): Promise<Stored> {
  return (await s.cw.fhir.create(SYSTEM, body.resourceType, body)).resource as Stored;
}
const ref = (r: { resourceType: string; id: string }): Reference => ({ reference: `${r.resourceType}/${r.id}` });

/** A patient (with an identifier and a name worth hiding) and one Observation in their chart. */
async function chart(s: TestServer) {
  const identifier = `MRN-GLASS-${++mrn}-${Math.random().toString(36).slice(2, 8)}`;
  const patient = await make(s, {
    resourceType: 'Patient',
    identifier: [{ system: 'urn:carewall:test:mrn', value: identifier }],
    name: [{ family: NAME.family, given: [NAME.given] }],
    birthDate: '1949-11-02',
  } as Resource);
  const obs = await make(s, observation(patient.id) as Resource);
  return { patient, obs, identifier };
}

/** The body of a refusal names nothing of the patient. */
function assertRevealsNothing(body: unknown, secrets: string[]): void {
  const text = JSON.stringify(body);
  for (const secret of secrets) assert.ok(!text.includes(secret), `the answer reveals ${secret}`);
}

interface GrantJson {
  id: string;
  kind: string;
  username: string;
  patient: string;
  reason: string;
  justification: string;
  active: boolean;
  status: string;
  review?: { by: string; decision: string; note: string };
  uses: Array<{ username: string; patient: string; action: string; resource: string; reviewed: boolean; kind: string }>;
}

describe('break-the-glass, investigations and explanations', () => {
  let s: TestServer;
  const events: AccessEvent[] = [];
  let officer: string;
  let officerName: string;

  before(async () => {
    s = await startTestServer({}, (cw) => cw.access.onEvent((e) => void events.push(e)));
    officerName = 'po-grants';
    officer = await s.login(['privacy-officer'], officerName);
  });
  after(() => s?.close());

  const get = (path: string, token?: string) => call(s.url, 'GET', path, { token });
  const post = (path: string, body: unknown, token?: string) => call(s.url, 'POST', path, { token, body, headers: { 'content-type': 'application/json' } });
  const grantsOf = async (status: string) => {
    const r = await get(`/api/break-glass?status=${status}`, officer);
    assert.equal(r.status, 200);
    return r.body.grants as GrantJson[];
  };

  test('an unrelated physician breaks the glass: refused before, allowed after, each access on emergency grounds', async () => {
    const doctor = await s.login(['physician'], 'dr-emergency');
    const { patient, obs } = await chart(s);
    assert.equal((await get(`/fhir/Patient/${patient.id}`, doctor)).status, 403);
    assert.equal((await get(`/fhir/Observation/${obs.id}`, doctor)).status, 403);

    const bg = await post('/api/break-glass', { patient: `Patient/${patient.id}`, reason: 'emergency-treatment', justification: JUSTIFICATION }, doctor);
    assert.equal(bg.status, 201, JSON.stringify(bg.body));
    assert.equal(bg.body.patient, patient.id);
    assert.ok(typeof bg.body.id === 'string' && bg.body.id.length > 0);
    assert.ok(Number.isFinite(Date.parse(bg.body.expiresAt)), 'expiresAt is a date');
    assert.ok(Date.parse(bg.body.expiresAt) > Date.now(), 'the grant has not expired yet');

    const from = events.length;
    assert.equal((await get(`/fhir/Patient/${patient.id}`, doctor)).status, 200);
    assert.equal((await get(`/fhir/Observation/${obs.id}`, doctor)).status, 200);
    const search = await get(`/fhir/Observation?patient=${patient.id}`, doctor);
    assert.equal(search.body.total, 1);

    const mine = events.slice(from).filter((e) => e.who.username === 'dr-emergency' && e.patientId === patient.id);
    assert.ok(mine.length >= 3, 'every access is reported');
    for (const e of mine) {
      assert.equal(e.decision.allowed, true);
      assert.equal(e.decision.grounds?.basis, 'break-glass');
      assert.equal(e.decision.grounds?.purposeOfUse, 'ETREAT');
      assert.equal(e.decision.grounds?.grantId, bg.body.id);
    }
    // Others are not let in by someone else's grant.
    const colleague = await s.login(['physician']);
    assert.equal((await get(`/fhir/Patient/${patient.id}`, colleague)).status, 403);
  });

  test('privacy officers are notified, without the patient, and review the grant and its uses', async () => {
    const doctor = await s.login(['nurse'], 'nurse-night');
    const { patient, obs, identifier } = await chart(s);
    const bg = await post('/api/break-glass', { patient: patient.id, reason: 'covering-clinician', justification: JUSTIFICATION }, doctor);
    assert.equal(bg.status, 201);
    const grantId = bg.body.id as string;

    const notes = await get('/api/notifications', officer);
    assert.equal(notes.status, 200);
    const note = (notes.body.notifications as Array<{ grant: string; message: string; kind: string; read: boolean }>).find((n) => n.grant === grantId);
    assert.ok(note, 'a notification names the grant');
    assert.equal(note.kind, 'break-glass');
    assert.ok(note.message.includes('nurse-night'), 'the notification names who broke the glass');
    assertRevealsNothing(note, [patient.id, identifier, NAME.family, NAME.given, JUSTIFICATION]);

    // Each officer reads at their own pace: marking read is one's own, and what comes later stays unread.
    const colleague = await s.login(['privacy-officer'], 'po-colleague');
    const unreadBefore = notes.body.unread as number;
    assert.ok(unreadBefore >= 1);
    assert.equal(note.read, false);
    assert.equal((await post('/api/notifications/read', { upTo: notes.body.notifications[0].id }, officer)).status, 204);
    const afterRead = await get('/api/notifications', officer);
    assert.equal(afterRead.body.unread, 0);
    assert.ok(afterRead.body.notifications.every((n: { read: boolean }) => n.read));
    assert.equal((await get('/api/notifications', colleague)).body.unread, unreadBefore, "one officer's reading is not another's");
    for (const upTo of ['0', 'abc', '999999999', 7]) {
      assert.equal((await post('/api/notifications/read', { upTo }, officer)).status, 400, `upTo ${JSON.stringify(upTo)}`);
    }
    const older = notes.body.notifications.at(-1).id as string;
    assert.equal((await post('/api/notifications/read', { upTo: older }, officer)).status, 204);
    assert.equal((await get('/api/notifications', officer)).body.unread, 0, 'marking an older one read never un-reads newer ones');
    const next = await post('/api/break-glass', { patient: (await chart(s)).patient.id, reason: 'covering-clinician', justification: JUSTIFICATION }, doctor);
    assert.equal(next.status, 201);
    assert.equal((await get('/api/notifications', officer)).body.unread, 1, 'a new one is unread');

    // Two accesses under the grant: two uses.
    assert.equal((await get(`/fhir/Patient/${patient.id}`, doctor)).status, 200);
    assert.equal((await get(`/fhir/Observation/${obs.id}`, doctor)).status, 200);
    let grant = (await grantsOf('unreviewed')).find((g) => g.id === grantId);
    assert.ok(grant, 'the grant is in the unreviewed queue');
    assert.equal(grant.kind, 'break-glass');
    assert.equal(grant.username, 'nurse-night');
    assert.equal(grant.patient, patient.id);
    assert.equal(grant.reason, 'covering-clinician');
    assert.equal(grant.justification, JUSTIFICATION);
    assert.equal(grant.active, true);
    assert.equal(grant.status, 'unreviewed');
    assert.deepEqual(grant.uses.map((u) => u.resource).sort(), [`Observation/${obs.id}`, `Patient/${patient.id}`].sort());
    assert.ok(grant.uses.every((u) => u.username === 'nurse-night' && u.patient === patient.id && u.action === 'read' && !u.reviewed));

    const review = await post(`/api/break-glass/${grantId}/review`, { decision: 'appropriate', note: 'night cover confirmed with the rota' }, officer);
    assert.equal(review.status, 204);
    assert.ok(!(await grantsOf('unreviewed')).some((g) => g.id === grantId), 'reviewed grants leave the queue');
    grant = (await grantsOf('reviewed')).find((g) => g.id === grantId);
    assert.ok(grant);
    assert.equal(grant.status, 'reviewed');
    assert.deepEqual(grant.review && { by: grant.review.by, decision: grant.review.decision, note: grant.review.note }, {
      by: officerName,
      decision: 'appropriate',
      note: 'night cover confirmed with the rota',
    });
    assert.ok(grant.uses.every((u) => u.reviewed));
    assert.ok((await grantsOf('all')).some((g) => g.id === grantId));

    // A new use after the review puts the grant back in the queue.
    assert.equal((await get(`/fhir/Observation/${obs.id}`, doctor)).status, 200);
    grant = (await grantsOf('unreviewed')).find((g) => g.id === grantId);
    assert.ok(grant, 'a later use makes the grant unreviewed again');
    assert.equal(grant.uses.length, 3);
    assert.equal(grant.uses.filter((u) => !u.reviewed).length, 1);
    assert.ok(!(await grantsOf('reviewed')).some((g) => g.id === grantId));
  });

  test('who may not break the glass, and malformed requests', async () => {
    const { patient } = await chart(s);
    const body = { patient: patient.id, reason: 'emergency-treatment', justification: JUSTIFICATION };
    for (const role of ['receptionist', 'billing', 'lab', 'biomedical-engineer', 'privacy-officer'] as const) {
      const token = await s.login([role]);
      const r = await post('/api/break-glass', body, token);
      assert.equal(r.status, 403, role);
      assert.ok(typeof r.body.error === 'string', role);
      assert.equal((await get(`/fhir/Patient/${patient.id}`, token)).status, role === 'receptionist' ? 200 : 403, role);
    }
    const doctor = await s.login(['physician']);
    assert.equal((await post('/api/break-glass', { ...body, reason: 'curiosity' }, doctor)).status, 400);
    assert.equal((await post('/api/break-glass', { ...body, reason: undefined }, doctor)).status, 400);
    assert.equal((await post('/api/break-glass', { ...body, justification: 'because' }, doctor)).status, 400);
    assert.equal((await post('/api/break-glass', { ...body, justification: '          ' + 'x' }, doctor)).status, 400);
    assert.equal((await post('/api/break-glass', { ...body, patient: 'no-such-patient' }, doctor)).status, 404);
    assert.equal((await post('/api/break-glass', { ...body, patient: 'Patient/../../etc' }, doctor)).status, 400);
    assert.equal((await post('/api/break-glass', body)).status, 401);
    // None of these opened anything.
    assert.equal((await get(`/fhir/Patient/${patient.id}`, doctor)).status, 403);
    assert.ok(!(await grantsOf('all')).some((g) => g.patient === patient.id));
  });

  test('only privacy officers list, review and read notifications', async () => {
    const doctor = await s.login(['physician']);
    const { patient } = await chart(s);
    const bg = await post('/api/break-glass', { patient: patient.id, reason: 'urgent-result', justification: JUSTIFICATION }, doctor);
    assert.equal(bg.status, 201);
    const others = [doctor, await s.login(['receptionist']), await s.login(['biomedical-engineer']), await s.login(['admin'])];
    for (const token of [...others, undefined]) {
      const want = token ? 403 : 401;
      assert.equal((await get('/api/break-glass?status=unreviewed', token)).status, want);
      assert.equal((await get('/api/investigations', token)).status, want);
      assert.equal((await get('/api/notifications', token)).status, want);
      assert.equal((await post('/api/notifications/read', { upTo: '1' }, token)).status, want);
      assert.equal((await get('/api/access/flags', token)).status, want);
      assert.equal((await post(`/api/break-glass/${bg.body.id}/review`, { decision: 'appropriate' }, token)).status, want);
    }
    assert.equal((await grantsOf('unreviewed')).find((g) => g.id === bg.body.id)?.status, 'unreviewed', 'nobody else reviewed it');
    // The privacy officer: bad decisions, unknown grants, bad status.
    assert.equal((await post(`/api/break-glass/${bg.body.id}/review`, { decision: 'fine' }, officer)).status, 400);
    assert.equal((await post('/api/break-glass/no-such-grant/review', { decision: 'appropriate' }, officer)).status, 404);
    assert.equal((await get('/api/break-glass?status=everything', officer)).status, 400);
  });

  test('an investigation lets a privacy officer read, never write, the chart', async () => {
    const { patient, obs } = await chart(s);
    assert.equal((await get(`/fhir/Observation/${obs.id}`, officer)).status, 403, 'no investigation yet');
    assert.equal((await get(`/fhir/Observation?patient=${patient.id}`, officer)).body.total, 0);

    assert.equal((await post('/api/investigations', { patient: patient.id, reason: 'short' }, officer)).status, 400);
    const doctor = await s.login(['physician']);
    assert.equal((await post('/api/investigations', { patient: patient.id, reason: 'complaint 2024-117 about record access' }, doctor)).status, 403);

    const from = events.length;
    const inv = await post('/api/investigations', { patient: patient.id, reason: 'complaint 2024-117 about record access' }, officer);
    assert.equal(inv.status, 201, JSON.stringify(inv.body));
    assert.equal(inv.body.patient, patient.id);
    const read = await get(`/fhir/Observation/${obs.id}`, officer);
    assert.equal(read.status, 200);
    assert.equal((await get(`/fhir/Observation?patient=${patient.id}`, officer)).body.total, 1);
    const put = await call(s.url, 'PUT', `/fhir/Observation/${obs.id}`, { token: officer, body: { ...read.body, status: 'amended' } });
    assert.equal(put.status, 403);
    assert.equal((await s.cw.fhir.read(SYSTEM, 'Observation', obs.id)).versionId, 1, 'nothing was written');
    const grounds = events.slice(from).find((e) => e.who.username === officerName && e.id === obs.id && e.decision.allowed)?.decision.grounds;
    assert.equal(grounds?.basis, 'investigation');
    assert.equal(grounds?.purposeOfUse, 'HCOMPL');

    const list = await get('/api/investigations?status=all', officer);
    assert.equal(list.status, 200);
    const g = (list.body.grants as GrantJson[]).find((x) => x.id === inv.body.id);
    assert.ok(g, 'the investigation is listed');
    assert.equal(g.kind, 'investigation');
    assert.equal(g.patient, patient.id);
    assert.equal(g.username, officerName);
    assert.ok(g.uses.some((u) => u.resource === `Observation/${obs.id}`));
    assert.ok((await get('/api/notifications', officer)).body.notifications.some((n: { grant: string }) => n.grant === inv.body.id));
  });

  test('a grant is reviewed under its own kind, and never by its holder', async () => {
    const { patient } = await chart(s);
    const inv = await post('/api/investigations', { patient: patient.id, reason: 'complaint 2024-118 about record access' }, officer);
    assert.equal(inv.status, 201);
    // An investigation is not a break-the-glass grant, and its holder does not judge it.
    assert.equal((await post(`/api/break-glass/${inv.body.id}/review`, { decision: 'appropriate' }, officer)).status, 404);
    assert.equal((await post(`/api/investigations/${inv.body.id}/review`, { decision: 'appropriate' }, officer)).status, 403);
    const colleague = await s.login(['privacy-officer'], 'po-second');
    assert.equal((await post(`/api/investigations/${inv.body.id}/review`, { decision: 'appropriate', note: 'complaint closed' }, colleague)).status, 204);
    const reviewed = (await get('/api/investigations?status=reviewed', colleague)).body.grants.find((g: GrantJson) => g.id === inv.body.id);
    assert.equal(reviewed?.review?.by, 'po-second');
  });

  test('explain: why a user can or cannot open a chart', async () => {
    const carer = await s.login(['physician'], 'dr-carer');
    await s.login(['physician'], 'dr-stranger');
    const { patient } = await chart(s);
    const team = await make(s, {
      resourceType: 'CareTeam',
      status: 'active',
      subject: ref(patient),
      participant: [{ member: { reference: s.practitionerOf(carer) } }],
    } as Resource);

    const yes = await get(`/api/access/explain?user=dr-carer&patient=${patient.id}`, officer);
    assert.equal(yes.status, 200, JSON.stringify(yes.body));
    assert.equal(yes.body.allowed, true);
    assert.equal(yes.body.grounds.basis, 'relationship');
    assert.deepEqual(
      yes.body.grounds.relationships.map((r: { kind: string; source: string; principal: string; direct: boolean }) => ({ ...r })),
      [{ kind: 'care-team', source: `CareTeam/${team.id}`, principal: s.practitionerOf(carer), direct: true }],
    );

    const no = await get(`/api/access/explain?user=dr-stranger&patient=Patient/${patient.id}`, officer);
    assert.equal(no.status, 200);
    assert.equal(no.body.allowed, false);
    assert.ok(typeof no.body.reason === 'string' && no.body.reason.length > 0);
    assert.equal(no.body.grounds, undefined);

    assert.equal((await get(`/api/access/explain?user=dr-stranger&patient=${patient.id}`, carer)).status, 403);
    assert.equal((await get(`/api/access/explain?user=dr-stranger&patient=${patient.id}`)).status, 401);
    assert.equal((await get(`/api/access/explain?user=nobody-by-that-name&patient=${patient.id}`, officer)).status, 404);
    assert.equal((await get(`/api/access/explain?user=dr-carer`, officer)).status, 400);

    // A receptionist is allowed any patient on file, not an id that names nobody.
    await s.login(['receptionist'], 'desk-explained');
    assert.equal((await get(`/api/access/explain?user=desk-explained&patient=${patient.id}`, officer)).body.allowed, true);
    const nobody = await get('/api/access/explain?user=desk-explained&patient=no-such-patient', officer);
    assert.equal(nobody.status, 200);
    assert.equal(nobody.body.allowed, false);

    // Once the team ends, the explanation says no.
    await s.cw.fhir.update(SYSTEM, 'CareTeam', team.id, { ...team, status: 'inactive' });
    assert.equal((await get(`/api/access/explain?user=dr-carer&patient=${patient.id}`, officer)).body.allowed, false);
  });

  test('break-the-glass is not narrowed by consent or sensitive labels, and a restricted patient is still flagged', async () => {
    const doctor = await s.login(['physician'], 'dr-override');
    const me = { reference: s.practitionerOf(doctor) };
    const { patient, obs } = await chart(s);
    const psy = await make(s, {
      ...observation(patient.id),
      meta: { security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'PSY' }] },
    } as Resource);
    await make(s, { resourceType: 'CareTeam', status: 'active', subject: ref(patient), participant: [{ member: me }] } as Resource);
    assert.equal((await get(`/fhir/Observation/${obs.id}`, doctor)).status, 200);
    assert.equal((await get(`/fhir/Observation/${psy.id}`, doctor)).status, 403, 'PSY is not for physicians by default');
    await make(s, {
      resourceType: 'Consent',
      status: 'active',
      scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
      category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
      patient: ref(patient),
      policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN' }] },
      provision: {
        type: 'deny',
        actor: [{ role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'PRCP' }] }, reference: me }],
      },
    } as Resource);
    assert.equal((await get(`/fhir/Observation/${obs.id}`, doctor)).status, 403, 'the consent denies this physician');

    const bg = await post('/api/break-glass', { patient: patient.id, reason: 'emergency-treatment', justification: JUSTIFICATION }, doctor);
    assert.equal(bg.status, 201);
    assert.equal((await get(`/fhir/Observation/${obs.id}`, doctor)).status, 200);
    assert.equal((await get(`/fhir/Observation/${psy.id}`, doctor)).status, 200, 'breakGlassRevealsSensitive defaults to true');
    assert.equal((await get(`/fhir/Observation?patient=${patient.id}`, doctor)).body.total, 2);

    // A restricted patient reached by breaking the glass: a grant use and a flagged access.
    const vip = await make(s, {
      resourceType: 'Patient',
      meta: { security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'V' }] },
      name: [{ family: 'Secreta' }],
    } as Resource);
    assert.equal((await post('/api/break-glass', { patient: vip.id, reason: 'other', justification: JUSTIFICATION }, doctor)).status, 201);
    assert.equal((await get(`/fhir/Patient/${vip.id}`, doctor)).status, 200);
    const flags = (await get('/api/access/flags?status=unreviewed', officer)).body.uses as Array<{ patient: string; username: string }>;
    assert.ok(flags.some((u) => u.patient === vip.id && u.username === 'dr-override'));
    const grant = (await grantsOf('unreviewed')).find((g) => g.patient === vip.id);
    assert.equal(grant?.uses.length, 1);
  });

  test("a notification's kind does not depend on the user's name", async () => {
    const doctor = await s.login(['nurse'], 'investigation-nurse');
    const { patient } = await chart(s);
    const bg = await post('/api/break-glass', { patient: patient.id, reason: 'other', justification: JUSTIFICATION }, doctor);
    assert.equal(bg.status, 201);
    const note = ((await get('/api/notifications', officer)).body.notifications as Array<{ grant: string; kind: string }>).find((n) => n.grant === bg.body.id);
    assert.equal(note?.kind, 'break-glass');
  });

  test('refusals reveal nothing of the patient', async () => {
    const stranger = await s.login(['physician']);
    const { patient, obs, identifier } = await chart(s);
    const secrets = [patient.id, identifier, NAME.family, NAME.given];
    const refusals = [
      await get(`/fhir/Patient/${patient.id}`, stranger),
      await get(`/fhir/Observation/${obs.id}`, stranger),
      await get(`/fhir/Patient/${patient.id}/_history`, stranger),
      await call(s.url, 'PUT', `/fhir/Patient/${patient.id}`, { token: stranger, body: { ...patient, gender: 'other' } }),
      await call(s.url, 'POST', '/fhir/Observation', { token: stranger, body: observation(patient.id) }),
    ];
    for (const r of refusals) {
      assert.equal(r.status, 403);
      assert.equal(r.body.resourceType, 'OperationOutcome');
      assertRevealsNothing(r.body, secrets);
    }
    const search = await get(`/fhir/Patient?identifier=${identifier}`, stranger);
    assert.equal(search.body.total, 0);
    assertRevealsNothing(search.body.entry ?? [], secrets);
    // The refused break-the-glass of someone who may not: an /api error, also naming nothing.
    const refusedGlass = await post('/api/break-glass', { patient: patient.id, reason: 'other', justification: JUSTIFICATION }, await s.login(['billing']));
    assert.equal(refusedGlass.status, 403);
    assertRevealsNothing(refusedGlass.body, [...secrets, JUSTIFICATION]);
    const badGlass = await post('/api/break-glass', { patient: patient.id, reason: `other ${NAME.family}`, justification: JUSTIFICATION }, stranger);
    assert.equal(badGlass.status, 400);
    assertRevealsNothing(badGlass.body, [...secrets, JUSTIFICATION]);
  });
});

describe('short grants and notification webhooks', () => {
  let s: TestServer;
  let hook: http.Server;
  const deliveries: Array<{ method?: string; contentType?: string; url?: string; body: string }> = [];
  const waiting: Array<() => void> = [];

  /** The webhook delivery about this grant, once it has arrived. */
  async function deliveryFor(grantId: string) {
    for (;;) {
      const found = deliveries.find((d) => d.body.includes(grantId));
      if (found) return found;
      await new Promise<void>((r) => waiting.push(r));
    }
  }

  before(async () => {
    hook = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        deliveries.push({ method: req.method, contentType: req.headers['content-type'], url: req.url, body });
        res.statusCode = 204;
        res.end();
        for (const w of waiting.splice(0)) w();
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    const port = (hook.address() as AddressInfo).port;
    // Emergency grants of about three seconds.
    s = await startTestServer({ access: { breakGlassMinutes: 0.05, notifyWebhooks: [`http://127.0.0.1:${port}/hook`] } });
  });
  after(async () => {
    await s?.close();
    await new Promise<void>((r) => hook.close(() => r()));
  });

  const breakGlass = (token: string, patient: string, reason = 'emergency-treatment') =>
    call(s.url, 'POST', '/api/break-glass', {
      token,
      body: { patient, reason, justification: JUSTIFICATION },
      headers: { 'content-type': 'application/json' },
    });

  test('read under the grant, refused once it has expired; the grant stays in the review queue', async () => {
    const doctor = await s.login(['physician'], 'dr-brief');
    const officer = await s.login(['privacy-officer']);
    const { patient, obs } = await chart(s);
    const bg = await breakGlass(doctor, patient.id);
    assert.equal(bg.status, 201);
    assert.equal((await call(s.url, 'GET', `/fhir/Observation/${obs.id}`, { token: doctor })).status, 200);

    await databaseClockPast(s.cw.db, bg.body.expiresAt);
    assert.equal((await call(s.url, 'GET', `/fhir/Observation/${obs.id}`, { token: doctor })).status, 403);
    assert.equal((await call(s.url, 'GET', `/fhir/Patient/${patient.id}`, { token: doctor })).status, 403);
    assert.equal((await call(s.url, 'GET', `/fhir/Observation?patient=${patient.id}`, { token: doctor })).body.total, 0);

    const listed = await call(s.url, 'GET', '/api/break-glass?status=unreviewed', { token: officer });
    const grant = (listed.body.grants as GrantJson[]).find((g) => g.id === bg.body.id);
    assert.ok(grant);
    assert.equal(grant.active, false);
    assert.equal(grant.uses.length, 1);
  });

  test('each break-the-glass POSTs JSON to the webhook, naming neither the patient nor the justification', { timeout: 60_000 }, async () => {
    const doctor = await s.login(['physician'], 'dr-hooked');
    const { patient, identifier } = await chart(s);
    const bg = await breakGlass(doctor, patient.id, 'patient-unable-to-consent');
    assert.equal(bg.status, 201);
    const got = await deliveryFor(bg.body.id);
    assert.equal(got.method, 'POST');
    assert.equal(got.url, '/hook');
    assert.match(got.contentType ?? '', /application\/json/);
    const payload = JSON.parse(got.body);
    assert.equal(payload.grant, bg.body.id);
    assert.ok(String(payload.message).includes('dr-hooked'));
    assertRevealsNothing(payload, [patient.id, identifier, NAME.family, NAME.given, JUSTIFICATION]);
    assert.equal(deliveries.filter((d) => d.body.includes(bg.body.id)).length, 1, 'one delivery per grant');
  });
});
