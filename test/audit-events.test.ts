/**
 * What the audit log records beyond chart reads (sign-ins, accounts, grants, writes with their
 * versions, configuration), and the views privacy officers read: FHIR AuditEvents shaped per
 * IHE BALP, searchable by patient, agent, date, action and outcome, and a patient's access report.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import type { AuditEvent, Bundle, Resource } from '@medplum/fhirtypes';
import { SYSTEM } from '../src/shared/index.js';
import { openNote } from '../src/audit/note.js';
import { decodeLeaf, type AuditRecord } from '../src/audit/record.js';
import { verifyLog } from '../src/audit/verify.js';
import { openCarewall } from '../src/runtime.js';
import { createLogger } from '../src/log.js';
import { runCli } from './helpers/cli.js';
import { call, PASSWORD, prepareInstallation, startTestServer, type TestServer } from './helpers/harness.js';
import { observation } from './helpers/fixtures.js';
import { changeStoredLeaf } from './helpers/tamper.js';
import { sharedPostgres, sharedPostgresUnavailable } from './helpers/sharedPostgres.js';

async function allRecords(s: TestServer): Promise<Array<{ index: number; record: AuditRecord }>> {
  const { size } = await s.cw.audit.log.head();
  return (await s.cw.audit.log.leaves(0, size)).map((l) => ({ index: l.index, record: decodeLeaf(l.leaf) }));
}

describe('what is recorded besides reads', () => {
  let s: TestServer;
  let admin: string;
  let doctor: string;
  let officer: string;
  let patientId: string;

  before(async () => {
    s = await startTestServer({ audit: { intervalSeconds: 0 } });
    admin = await s.login(['admin'], 'it-admin');
    doctor = await s.login(['physician'], 'dr-writes');
    officer = await s.login(['privacy-officer'], 'po-events');
    const p = await s.cw.fhir.create(SYSTEM, 'Patient', {
      resourceType: 'Patient',
      name: [{ family: 'Recordata' }],
      generalPractitioner: [{ reference: s.practitionerOf(doctor) }],
    });
    patientId = p.id;
  });
  after(() => s?.close());

  test('sign-in, refused sign-ins, sign-out; a mistyped user name is not kept', async () => {
    const wrong = await call(s.url, 'POST', '/api/session', { body: { username: 'dr-writes', password: 'not the password' } });
    assert.equal(wrong.status, 401);
    const unknown = await call(s.url, 'POST', '/api/session', { body: { username: 'hunter2-typed-as-name', password: 'whatever it is' } });
    assert.equal(unknown.status, 401);
    assert.equal((await call(s.url, 'DELETE', '/api/session', { token: doctor })).status, 204);
    const recs = await allRecords(s);
    const logins = recs.filter((r) => r.record.action === 'login');
    assert.ok(logins.some((r) => r.record.outcome === 'success' && r.record.user?.username === 'dr-writes'));
    const refused = logins.filter((r) => r.record.outcome === 'denied');
    assert.equal(refused.length, 2);
    assert.match(JSON.stringify(refused.find((r) => r.record.user?.username === 'dr-writes')?.record.explanation), /wrong password/);
    assert.ok(refused.some((r) => r.record.user?.username === 'system' && /no such account/.test(JSON.stringify(r.record.explanation))));
    const everything = (await s.cw.audit.log.leaves(0, (await s.cw.audit.log.head()).size)).map((l) => l.leaf.toString('utf8')).join('\n');
    assert.ok(!everything.includes('hunter2'), 'the typed user name is not in the log');
    assert.ok(!everything.includes('not the password') && !everything.includes(PASSWORD), 'no password is in the log');
    assert.ok(recs.some((r) => r.record.action === 'logout' && r.record.user?.username === 'dr-writes'));
    doctor = await (async () => {
      const res = await call(s.url, 'POST', '/api/session', { body: { username: 'dr-writes', password: PASSWORD } });
      return res.body.token as string;
    })();
  });

  test('accounts made and disabled, second factors enrolled, by whom', async () => {
    const made = await call(s.url, 'POST', '/api/users', { token: admin, body: { username: 'nurse-new', password: PASSWORD, roles: ['nurse'] } });
    assert.equal(made.status, 201);
    assert.equal((await call(s.url, 'POST', '/api/users/nurse-new/disable', { token: admin })).status, 204);
    const account = (await s.cw.identity.listAccounts()).find((a) => a.username === 'nurse-new')!;
    await s.cw.identity.enrollTotp(account.id);
    const recs = (await allRecords(s)).filter((r) => r.record.resource?.id === account.id).map((r) => r.record);
    assert.deepEqual(
      recs.map((r) => r.action),
      ['user.create', 'user.disable', 'user.second-factor'],
    );
    assert.equal(recs[0].user?.username, 'it-admin');
    assert.deepEqual((recs[0].explanation as { roles: string[] }).roles, ['nurse']);
    assert.equal(recs[2].user?.username, 'system');
  });

  test('a write is one record carrying the version it stored; a refused write is recorded and stores nothing', async () => {
    const created = await call(s.url, 'POST', '/fhir/Observation', { token: doctor, body: observation(patientId) });
    assert.equal(created.status, 201);
    const id = created.body.id as string;
    const updated = await call(s.url, 'PUT', `/fhir/Observation/${id}`, { token: doctor, body: { ...created.body, status: 'amended' } });
    assert.equal(updated.status, 200);
    const writes = (await allRecords(s)).filter((r) => r.record.resource?.id === id).map((r) => r.record);
    assert.deepEqual(
      writes.map((r) => [r.action, r.resource?.version, r.outcome]),
      [
        ['create', '1', 'success'],
        ['update', '2', 'success'],
      ],
    );
    const stranger = await s.login(['physician'], 'dr-elsewhere');
    const refused = await call(s.url, 'POST', '/fhir/Observation', { token: stranger, body: observation(patientId) });
    assert.equal(refused.status, 403);
    const denied = (await allRecords(s)).filter((r) => r.record.user?.username === 'dr-elsewhere' && r.record.action === 'create');
    assert.equal(denied.length, 1);
    assert.equal(denied[0].record.outcome, 'denied');
    assert.equal(denied[0].record.patient, patientId);
    const stored = await s.cw.db.query<{ n: number }>(
      `select count(*)::int as n from records_resource where resource_type = 'Observation' and patient_id = $1`,
      [patientId],
    );
    assert.equal(stored.rows[0].n, 1);
  });

  test('break-the-glass: its start (ETREAT), each use, and its review', async () => {
    const nurse = await s.login(['physician'], 'dr-night');
    const opened = await call(s.url, 'POST', '/api/break-glass', {
      token: nurse,
      body: { patient: patientId, reason: 'emergency-treatment', justification: 'unconscious on arrival, no GP reachable' },
    });
    assert.equal(opened.status, 201);
    assert.equal((await call(s.url, 'GET', `/fhir/Patient/${patientId}`, { token: nurse })).status, 200);
    assert.equal(
      (await call(s.url, 'POST', `/api/break-glass/${opened.body.id}/review`, { token: officer, body: { decision: 'appropriate', note: 'confirmed by ward' } }))
        .status,
      204,
    );
    const recs = (await allRecords(s)).map((r) => r.record);
    const start = recs.find((r) => r.action === 'break-glass.start' && r.user?.username === 'dr-night')!;
    assert.equal(start.purposeOfUse, 'ETREAT');
    assert.equal(start.patient, patientId);
    assert.equal(start.resource?.id, opened.body.id);
    const use = recs.find((r) => r.action === 'read' && r.user?.username === 'dr-night')!;
    assert.equal(use.purposeOfUse, 'ETREAT');
    assert.match(JSON.stringify(use.explanation), new RegExp(opened.body.id as string));
    const review = recs.find((r) => r.action === 'break-glass.review')!;
    assert.equal(review.user?.username, 'po-events');
    assert.match(JSON.stringify(review.explanation), /appropriate/);
    const all = (await s.cw.audit.log.leaves(0, (await s.cw.audit.log.head()).size)).map((l) => l.leaf.toString('utf8')).join('\n');
    assert.ok(!all.includes('unconscious') && !all.includes('confirmed by ward'), 'free text stays sealed in the grant');
  });

  test('each record names the request it came by (id, address, user agent): sign-ins before there is a caller, administrators, grants, searches; work outside a request names none', async () => {
    const from = (what: string) => ({ 'user-agent': `origin-check/${what}` });
    const wrong = await call(s.url, 'POST', '/api/session', { body: { username: 'dr-writes', password: 'a wrong guess' }, headers: from('sign-in') });
    assert.equal(wrong.status, 401);
    const made = await call(s.url, 'POST', '/api/users', {
      token: admin,
      body: { username: 'lab-origin', password: PASSWORD, roles: ['lab'] },
      headers: from('admin'),
    });
    assert.equal(made.status, 201);
    const night = await s.login(['physician'], 'dr-origin');
    const glass = await call(s.url, 'POST', '/api/break-glass', {
      token: night,
      body: { patient: patientId, reason: 'emergency-treatment', justification: 'collapsed in the waiting room' },
      headers: from('grant'),
    });
    assert.equal(glass.status, 201);
    assert.equal((await call(s.url, 'GET', `/fhir/Observation?patient=${patientId}`, { token: doctor, headers: from('search') })).status, 200);
    const labAccount = (await s.cw.identity.listAccounts()).find((a) => a.username === 'lab-origin')!;
    await s.cw.identity.enrollTotp(labAccount.id); // in process, as the CLI does: no request

    const recs = (await allRecords(s)).map((r) => r.record);
    const signIn = recs.filter((r) => r.action === 'login' && r.outcome === 'denied' && r.client?.userAgent === 'origin-check/sign-in');
    const byAdmin = recs.filter((r) => r.action === 'user.create' && (r.explanation as { account?: string }).account === 'lab-origin');
    const grant = recs.filter((r) => r.action === 'break-glass.start' && r.user?.username === 'dr-origin');
    const search = recs.filter((r) => r.action === 'search' && r.user?.username === 'dr-writes' && r.client?.userAgent === 'origin-check/search');
    assert.equal(signIn.length, 1, 'the refused sign-in names the client it came from');
    assert.deepEqual(
      [byAdmin, grant].map((list) => list.map((r) => r.client?.userAgent)),
      [['origin-check/admin'], ['origin-check/grant']],
    );
    assert.ok(search.length >= 1, 'the search is recorded with its client');
    const origins = [signIn[0], byAdmin[0], grant[0], search[0]];
    for (const r of origins) {
      assert.ok(r.client?.ip, `${r.action} names the address`);
      assert.ok(r.requestId, `${r.action} names its request`);
    }
    assert.equal(new Set(origins.map((r) => r.requestId)).size, 4, 'each request has its own id');
    assert.equal(new Set(search.map((r) => r.requestId)).size, 1, "a search's records share its request");
    const system = recs.find((r) => r.action === 'user.second-factor' && r.resource?.id === labAccount.id)!;
    assert.equal(system.user?.username, 'system');
    assert.equal(system.client, undefined);
    assert.equal(system.requestId, undefined);
  });

  test('while the log cannot be written, nobody signs in and no grant opens', async () => {
    await s.cw.db.exec('alter table audit_entry_batch rename to audit_entry_away');
    try {
      const res = await call(s.url, 'POST', '/api/session', { body: { username: 'dr-writes', password: PASSWORD } });
      assert.equal(res.status, 503);
      assert.ok(!res.body.token);
      const bg = await call(s.url, 'POST', '/api/break-glass', {
        token: doctor,
        body: { patient: patientId, reason: 'emergency-treatment', justification: 'should not open at all' },
      });
      assert.equal(bg.status, 503);
    } finally {
      await s.cw.db.exec('alter table audit_entry_away rename to audit_entry_batch');
    }
    const grants = await s.cw.db.query<{ n: number }>(
      `select count(*)::int as n from access_grant where account_id = (select id from identity_account where username = 'dr-writes')`,
    );
    assert.equal(grants.rows[0].n, 0);
  });
});

describe('configuration changes', () => {
  test('the first start and each changed setting are recorded, an unchanged restart is not', async () => {
    const inst = await prepareInstallation({ audit: { intervalSeconds: 0 } }, { neverStarted: true });
    const log = createLogger('silent');
    const changes = async () => {
      const cw = await openCarewall({ ...inst.settings }, log);
      try {
        const { size } = await cw.audit.log.head();
        return (await cw.audit.log.leaves(0, size)).map((l) => decodeLeaf(l.leaf)).filter((r) => r.action === 'configuration.change');
      } finally {
        await cw.close();
      }
    };
    try {
      assert.equal((await changes()).length, 1);
      assert.equal((await changes()).length, 1, 'restarting with the same settings records nothing');
      inst.settings.lockoutThreshold = 3;
      const after = await changes();
      assert.equal(after.length, 2);
      const changed = (after[1].explanation as { changed: Array<{ setting: string; to: unknown }> }).changed;
      assert.deepEqual(
        changed.map((c) => [c.setting, c.to]),
        [['lockoutThreshold', 3]],
      );
    } finally {
      await inst.cleanup();
    }
  });
});

describe('AuditEvent (IHE BALP) and the access report', () => {
  let s: TestServer;
  let doctor: string;
  let officer: string;
  let security: string;
  let patientId: string;
  let otherPatient: string;
  let obsId: string;
  let start: string;

  before(async () => {
    s = await startTestServer({ audit: { intervalSeconds: 0 } });
    doctor = await s.login(['physician'], 'dr-balp');
    officer = await s.login(['privacy-officer'], 'po-balp');
    security = await s.login(['security-admin'], 'sec-balp');
    const make = async (body: Resource) => (await s.cw.fhir.create(SYSTEM, body.resourceType, body)).resource as Resource & { id: string };
    patientId = (await make({ resourceType: 'Patient', name: [{ family: 'Balpata' }], generalPractitioner: [{ reference: s.practitionerOf(doctor) }] })).id;
    otherPatient = (await make({ resourceType: 'Patient', name: [{ family: 'Otherata' }], generalPractitioner: [{ reference: s.practitionerOf(doctor) }] })).id;
    obsId = (await make(observation(patientId) as Resource)).id;
    start = new Date(Date.now() - 1000).toISOString();
    assert.equal((await call(s.url, 'GET', `/fhir/Observation/${obsId}`, { token: doctor })).status, 200);
    assert.equal((await call(s.url, 'GET', `/fhir/Observation?patient=${patientId}`, { token: doctor })).status, 200);
    assert.equal((await call(s.url, 'GET', `/fhir/Patient/${otherPatient}`, { token: doctor })).status, 200);
    const stranger = await s.login(['physician'], 'dr-outsider');
    assert.equal((await call(s.url, 'GET', `/fhir/Observation/${obsId}`, { token: stranger })).status, 403);
  });
  after(() => s?.close());

  const events = async (query: string, token = officer) => {
    const res = await call(s.url, 'GET', `/fhir/AuditEvent?${query}`, { token });
    return { status: res.status, bundle: res.body as Bundle<AuditEvent>, body: res.body };
  };

  test('a read as a BALP patient read: rest/read, action R, the user as requestor with purpose, the patient and the data as entities', async () => {
    const { status, bundle } = await events(`patient=${patientId}&action=R&outcome=0`);
    assert.equal(status, 200);
    assert.equal(bundle.resourceType, 'Bundle');
    const read = bundle.entry!.map((e) => e.resource!).find((e) => e.entity?.some((x) => x.what?.reference === `Observation/${obsId}/_history/1`))!;
    assert.ok(read, 'the read of the observation is found');
    assert.equal(read.type.code, 'rest');
    assert.equal(read.subtype?.[0].code, 'read');
    assert.equal(read.subtype?.[0].system, 'http://hl7.org/fhir/restful-interaction');
    assert.equal(read.action, 'R');
    assert.equal(read.outcome, '0');
    const user = read.agent.find((a) => a.requestor)!;
    assert.equal(user.who?.reference, s.practitionerOf(doctor));
    assert.equal(user.purposeOfUse?.[0].coding?.[0].code, 'TREAT');
    assert.ok(user.network?.address);
    const patient = read.entity!.find((x) => x.role?.code === '1')!;
    assert.equal(patient.what?.reference, `Patient/${patientId}`);
    assert.equal(read.source.type?.[0].code, '4');
    assert.ok(
      bundle.entry!.every((e) => e.resource!.entity!.some((x) => x.what?.reference === `Patient/${patientId}`)),
      'only this patient',
    );
  });

  test('a search as a BALP query (action E, subtype search-type, the query as a base64 entity); refusals by outcome', async () => {
    const { bundle } = await events(`patient=${patientId}&action=E`);
    const search = bundle.entry!.map((e) => e.resource!).find((e) => e.subtype?.[0].code === 'search-type')!;
    assert.ok(search);
    const q = search.entity!.find((x) => x.role?.code === '24')!;
    assert.equal(Buffer.from(q.query!, 'base64').toString('utf8'), `patient=${patientId}`);
    const refused = await events(`patient=${patientId}&outcome=4`);
    assert.ok(refused.bundle.entry!.length >= 1);
    const r = refused.bundle.entry![0].resource!;
    assert.equal(r.outcome, '4');
    assert.match(r.outcomeDesc ?? '', /no active care relationship/);
    assert.equal(r.agent.find((a) => a.requestor)?.who?.display, 'dr-outsider');
  });

  test('by agent and by date', async () => {
    const mine = await events(`agent=${encodeURIComponent(s.practitionerOf(doctor))}&action=R`);
    assert.ok(mine.bundle.entry!.length >= 2);
    assert.ok(mine.bundle.entry!.every((e) => e.resource!.agent.find((a) => a.requestor)?.who?.reference === s.practitionerOf(doctor)));
    const before = await events(`patient=${patientId}&date=lt${encodeURIComponent(start)}&action=R`);
    assert.equal(before.bundle.total, 0);
    const since = await events(`patient=${patientId}&date=ge${encodeURIComponent(start)}&action=R`);
    assert.ok((since.bundle.total ?? 0) >= 1);
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    assert.equal((await events(`date=ge${tomorrow}`)).bundle.total, 0);
  });

  test('_summary=count: the total alone, the same as the search finds; other summaries are refused', async () => {
    // Every search is itself recorded, so the records up to now are compared, and the whole log apart.
    const now = `date=lt${encodeURIComponent(new Date().toISOString())}`;
    for (const query of [now, `patient=${patientId}&${now}`, `action=R&${now}`, `outcome=4&${now}`, `date=ge${encodeURIComponent(start)}&action=R`]) {
      const counted = await events(`${query}&_summary=count`);
      assert.equal(counted.status, 200, query);
      assert.equal(counted.bundle.resourceType, 'Bundle');
      assert.equal(counted.bundle.entry, undefined, `no entries for ${query}`);
      const all = await events(`${query}&_count=1000`);
      assert.equal(counted.bundle.total, all.bundle.entry?.length ?? 0, `the count of ${query}`);
      assert.ok((counted.bundle.total ?? 0) > 0, `something to count for ${query}`);
    }
    const whole = await events('_summary=count');
    const everything = await events('_count=1000');
    assert.equal(everything.bundle.entry?.length, (whole.bundle.total ?? 0) + 1, "the whole log, and the search's own record since");
    const refused = await events('_summary=text');
    assert.equal(refused.status, 400);
    assert.equal(refused.body.resourceType, 'OperationOutcome');
    assert.equal((await events('_summary=count', doctor)).status, 403, 'counting is reading the log');
  });

  test('only privacy officers search AuditEvents; unknown parameters are refused, not ignored', async () => {
    assert.equal((await events(`patient=${patientId}`, doctor)).status, 403);
    assert.equal((await events(`patient=${patientId}`, security)).status, 403);
    const bad = await events('patient-name=Balpata');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.resourceType, 'OperationOutcome');
    assert.equal((await events('date=yesterday')).status, 400);
  });

  test("the patient's access report: who, when, in which role and why; nobody else's accesses", async () => {
    const practitioner = s.practitionerOf(doctor).replace('Practitioner/', '');
    await s.cw.fhir.update(SYSTEM, 'Practitioner', practitioner, {
      resourceType: 'Practitioner',
      id: practitioner,
      name: [{ given: ['Berit'], family: 'Balstad' }],
    });
    const res = await call(s.url, 'GET', `/api/patients/${patientId}/access-report`, { token: officer });
    assert.equal(res.status, 200);
    const report = res.body as {
      patient: string;
      accesses: Array<{
        user: string;
        userName?: string;
        roles: string[];
        action: string;
        why: string;
        relationships?: string[];
        outcome: string;
        resource: string;
      }>;
      byUser: Array<{ user: string; userName?: string; accesses: number; refused: number }>;
    };
    assert.equal(report.patient, `Patient/${patientId}`);
    const read = report.accesses.find((a) => a.action === 'read' && a.user === 'dr-balp')!;
    assert.deepEqual(read.roles, ['physician']);
    assert.match(read.why, /general-practitioner/);
    // For the patient's copy: the person by the directory's name, the care relationship by kind.
    assert.equal(read.userName, 'Berit Balstad');
    assert.deepEqual(read.relationships, ['general-practitioner']);
    assert.equal(report.byUser.find((u) => u.user === 'dr-balp')!.userName, 'Berit Balstad');
    assert.equal(read.resource, `Observation/${obsId}/_history/1`);
    assert.ok(!report.accesses.some((a) => a.resource?.includes(otherPatient)), "the other patient's read is not in this report");
    assert.ok(!report.accesses.some((a) => a.action.startsWith('audit.')));
    const outsider = report.byUser.find((u) => u.user === 'dr-outsider')!;
    assert.deepEqual([outsider.accesses, outsider.refused], [0, 1]);
    assert.equal((await call(s.url, 'GET', `/api/patients/${patientId}/access-report`, { token: doctor })).status, 403);
    // Producing the report is itself recorded, naming the patient.
    const recs = await allRecords(s);
    assert.ok(recs.some((r) => r.record.action === 'audit.access-report' && r.record.patient === patientId && r.record.user?.username === 'po-balp'));
  });
});

describe('checkpoints leave the machine', () => {
  test('each new checkpoint goes to the configured witnesses in the tlog-witness add-checkpoint shape, with a consistency proof', async () => {
    const received: string[] = [];
    const witness = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        received.push(`${req.method} ${req.url}\n${body}`);
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => witness.listen(0, '127.0.0.1', () => r()));
    const port = (witness.address() as { port: number }).port;
    const s = await startTestServer({ audit: { intervalSeconds: 0, witnesses: [`http://127.0.0.1:${port}/witness`] } });
    try {
      await s.cw.audit.record({ action: 'test', outcome: 'success' });
      const first = await s.cw.audit.checkpoints.checkpoint();
      await s.cw.audit.checkpoints.sendToWitnesses(first);
      await s.cw.audit.record({ action: 'test', outcome: 'success' });
      await s.cw.audit.record({ action: 'test', outcome: 'success' });
      const second = await s.cw.audit.checkpoints.checkpoint();
      await s.cw.audit.checkpoints.sendToWitnesses(second);
      assert.equal(received.length, 2);
      const [line1, ...rest1] = received[0].split('\n');
      assert.equal(line1, 'POST /witness/add-checkpoint');
      assert.equal(rest1.join('\n'), `old 0\n\n${first}`);
      const lines = received[1].split('\n');
      const firstSize = Number(first.split('\n')[1]);
      assert.equal(lines[1], `old ${firstSize}`);
      const blank = lines.indexOf('', 2);
      const proof = lines.slice(2, blank);
      assert.ok(proof.length >= 1 && proof.every((p) => Buffer.from(p, 'base64').length === 32));
      assert.equal(lines.slice(blank + 1).join('\n'), second);
      const vkey = await s.cw.audit.checkpoints.verifierKey();
      assert.ok(openNote(second, [vkey]));
    } finally {
      await s.close();
      witness.close();
    }
  });
});

describe('carewall audit verify and checkpoint (the command)', () => {
  test('exit code 0 on an intact log, 1 naming the first bad index once a record is changed; an exported checkpoint is checked', async () => {
    const inst = await prepareInstallation({ audit: { intervalSeconds: 0 } });
    const env = { DATABASE_URL: inst.databaseUrl };
    const log = createLogger('silent');
    try {
      let cw = await openCarewall(inst.settings, log);
      for (let i = 0; i < 20; i++) await cw.audit.record({ action: 'test', outcome: 'success', explanation: { i } });
      await cw.audit.checkpoints.checkpoint();
      await cw.close();

      const ok = await runCli(['audit', 'verify', '--data-dir', inst.dataDir], { env });
      assert.equal(ok.code, 0, ok.stdout + ok.stderr);
      assert.match(ok.stdout, /audit log verified/);
      const file = `${inst.dataDir}/exported.checkpoint`;
      const exported = await runCli(['audit', 'checkpoint', '--data-dir', inst.dataDir, '--out', file], { env });
      assert.equal(exported.code, 0, exported.stderr);
      const withFile = await runCli(['audit', 'verify', '--data-dir', inst.dataDir, '--checkpoint', file, '--json'], { env });
      assert.equal(withFile.code, 0, withFile.stdout + withFile.stderr);

      cw = await openCarewall(inst.settings, log);
      const victim = 7;
      const leaf = (await cw.audit.log.leaf(victim))!;
      const changed = Buffer.from(leaf.toString('utf8').replace(/"i":\d+/, '"i":999'), 'utf8');
      assert.ok(!changed.equals(leaf));
      await changeStoredLeaf(cw.db, victim, changed);
      await cw.close();
      const bad = await runCli(['audit', 'verify', '--data-dir', inst.dataDir], { env });
      assert.equal(bad.code, 1, bad.stdout);
      assert.match(bad.stdout, new RegExp(`first bad index ${victim}\\b`));
      const report = JSON.parse((await runCli(['audit', 'verify', '--data-dir', inst.dataDir, '--json'], { env })).stdout) as {
        ok: boolean;
        firstBadIndex: number;
      };
      assert.deepEqual([report.ok, report.firstBadIndex], [false, victim]);
    } finally {
      await inst.cleanup();
    }
  });
});

describe('appends from several processes', () => {
  test('two Carewall processes appending at once give one gap-free sequence that verifies', { skip: sharedPostgresUnavailable() }, async () => {
    // On PostgreSQL even under the default command: the embedded database serves one process.
    const inst = await prepareInstallation({ audit: { intervalSeconds: 0 } }, { postgres: await sharedPostgres() });
    const log = createLogger('silent');
    try {
      const a = await openCarewall(inst.settings, log);
      const b = await openCarewall(inst.settings, log);
      try {
        const before = (await a.audit.log.head()).size;
        const burst = (cw: typeof a, tag: string) =>
          Promise.all(Array.from({ length: 300 }, (_, i) => cw.audit.record({ action: 'test', outcome: 'success', explanation: { tag, i } })));
        const [ia, ib] = await Promise.all([burst(a, 'a'), burst(b, 'b')]);
        const indexes = [...ia, ...ib].sort((x, y) => x - y);
        assert.equal(new Set(indexes).size, 600, 'no index given twice');
        assert.equal(indexes[0], before);
        assert.equal(indexes[599], before + 599, 'no gap');
        const leaves = await a.audit.log.leaves(before, before + 600);
        for (const [i, idx] of ia.entries()) assert.deepEqual(decodeLeaf(leaves[idx - before].leaf).explanation as { tag: string; i: number }, { tag: 'a', i });
        await a.audit.checkpoints.checkpoint();
        const report = await verifyLog(a.db, await a.audit.pinnedVerifierKey(), []);
        assert.equal(report.ok, true, JSON.stringify(report.problems));
      } finally {
        await a.close();
        await b.close();
      }
    } finally {
      await inst.cleanup();
    }
  });
});
