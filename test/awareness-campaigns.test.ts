/**
 * Staff awareness (issue 26): a campaign to a group, spread over business hours in each person's
 * zone, sent through an SMTP relay (smtp-server in process, STARTTLS and AUTH) within the rate
 * limit; a bounce; clicks by people and by scanners told apart, with why; the landing page that
 * never lets a typed password reach the server; the lesson and its quiz; the report button
 * crediting a simulation; the figures, and who may see names.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { DateTime } from 'luxon';
import { AwarenessGroups, AwarenessLessons, AwarenessPeople, AwarenessTemplates, checkShape } from '../src/api/index.js';
import { call, startTestServer, type TestServer } from './helpers/harness.js';

const BROWSER = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36';
const SMTP_USER = 'carewall-sender';
const SMTP_PASSWORD = 'relay password for the test';
const TYPED = 'Hunter2-typed-into-the-fake-form';

interface Received {
  to: string[];
  raw: Buffer;
}

function relay(received: Received[]): Promise<{ server: SMTPServer; port: number }> {
  const server = new SMTPServer({
    authMethods: ['PLAIN', 'LOGIN'],
    onAuth(auth, _session, cb) {
      if (auth.username === SMTP_USER && auth.password === SMTP_PASSWORD) cb(null, { user: auth.username });
      else cb(new Error('invalid credentials'));
    },
    onRcptTo(address, _session, cb) {
      if (address.address.startsWith('nobody')) {
        const err = new Error('no such mailbox') as Error & { responseCode: number };
        err.responseCode = 550;
        return cb(err);
      }
      cb();
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        received.push({ to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks) });
        cb();
      });
    },
    logger: false,
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.server.address() as { port: number }).port })));
}

const STAFF = `email,first_name,last_name,department,position,time_zone
ada.lindqvist@clinic.test,Ada,Lindqvist,Ward A,nurse,Europe/Berlin
bert.okafor@clinic.test,Bert,Okafor,Ward A,nurse,Europe/Berlin
cleo.marsh@clinic.test,Cleo,Marsh,Ward A,physician,Europe/Berlin
dev.patel@clinic.test,Dev,Patel,Ward A,nurse,America/New_York
eli.brandt@clinic.test,Eli,Brandt,Pharmacy,pharmacist,Europe/Berlin
nobody.here@clinic.test,Nobody,Here,Pharmacy,clerk,Europe/Berlin
`;

describe('phishing simulation campaigns', () => {
  let s: TestServer;
  let smtp: SMTPServer;
  const received: Received[] = [];
  const tokens: Record<string, string> = {};
  const as = (u: string, method: string, url: string, body?: unknown, type = 'application/json') =>
    call(s.url, method, url, {
      token: tokens[u],
      ...(typeof body === 'string' ? { raw: body } : { body }),
      headers: body === undefined ? {} : { 'content-type': type },
    });
  let campaign = '';
  const linkOf = async (address: string) => {
    const m = [...received].reverse().find((r) => r.to.includes(address));
    assert.ok(m, `a message reached ${address}`);
    const parsed = await simpleParser(m.raw);
    const url = /href="([^"]+\/aw\/c\/[^"]+)"/.exec(String(parsed.html))?.[1];
    assert.ok(url, 'the message carries a tracked link');
    return { url: url.replace(/^https?:\/\/[^/]+/, ''), token: url.split('/aw/c/')[1], raw: m.raw, parsed };
  };

  before(async () => {
    const r = await relay(received);
    smtp = r.server;
    process.env.CAREWALL_SMTP_PASSWORD = SMTP_PASSWORD;
    s = await startTestServer({
      awareness: {
        timeZone: 'Europe/Berlin',
        smtp: { host: '127.0.0.1', port: r.port, user: SMTP_USER, verifyCertificate: false },
        sendPerMinute: 4,
        domains: ['clinic.test'],
      },
    } as never);
    delete process.env.CAREWALL_SMTP_PASSWORD;
    tokens.officer = await s.login(['awareness-officer'], 'awareness-amy');
    tokens.admin = await s.login(['admin'], 'admin-al');
    tokens.nurse = await s.login(['nurse'], 'nurse-nora');
    // Nora's practitioner gets a work address and a department: she then comes from the accounts.
    const ref = s.practitionerOf(tokens.nurse).split('/')[1];
    await s.cw.fhir.update({ accountId: 'system', username: 'system', roles: ['admin'], system: true }, 'Practitioner', ref, {
      resourceType: 'Practitioner',
      id: ref,
      name: [{ use: 'official', family: 'Nightingale', given: ['Nora'] }],
      telecom: [{ system: 'email', value: 'nora.nightingale@clinic.test', use: 'work' }],
    });
    await s.cw.fhir.create({ accountId: 'system', username: 'system', roles: ['admin'], system: true }, 'PractitionerRole', {
      resourceType: 'PractitionerRole',
      practitioner: { reference: `Practitioner/${ref}` },
      organization: { display: 'Ward A' },
      code: [{ text: 'ward nurse' }],
    });
  });
  after(async () => {
    await s?.close();
    await new Promise<void>((resolve) => smtp?.close(() => resolve()));
  });

  test('staff come from the accounts and from a staff file; a group is made of departments', async () => {
    assert.equal((await as('nurse', 'POST', '/api/awareness/people/import', STAFF, 'text/csv')).status, 403, 'a nurse manages no campaigns');
    const imported = await as('officer', 'POST', '/api/awareness/people/import', STAFF, 'text/csv');
    assert.equal(imported.status, 200, JSON.stringify(imported.body));
    assert.deepEqual(imported.body, { added: 6, updated: 0 });
    const synced = await as('officer', 'POST', '/api/awareness/people/sync');
    assert.equal(synced.body.added, 1, 'Nora, the one account with a practitioner and a work address');
    const bad = await as('officer', 'POST', '/api/awareness/people/import', 'email,first_name,last_name\nnot-an-address,X,Y\n', 'text/csv');
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, /row 2, column email/);
    assert.doesNotMatch(bad.body.error, /not-an-address/, 'the value is not echoed');
    // A clinic moving from GoPhish keeps its template and page.
    const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'gophish');
    const gophish = {
      template: JSON.parse(fs.readFileSync(path.join(fixtures, 'template.json'), 'utf8')),
      page: JSON.parse(fs.readFileSync(path.join(fixtures, 'page.json'), 'utf8')),
      id: 'car-park',
    };
    assert.equal((await as('nurse', 'POST', '/api/awareness/templates/gophish', gophish)).status, 403);
    const imported2 = await as('officer', 'POST', '/api/awareness/templates/gophish', gophish);
    assert.equal(imported2.status, 201, JSON.stringify(imported2.body));
    assert.equal(imported2.body.template.landingPage, 'car-park-page');
    const templates = (await as('officer', 'GET', '/api/awareness/templates')).body as Array<{ id: string; shipped: boolean }>;
    assert.deepEqual(
      templates.filter((t) => !t.shipped).map((t) => t.id),
      ['car-park'],
    );
    assert.equal((await as('officer', 'POST', '/api/awareness/templates/gophish', gophish)).status, 409, 'an identifier is never taken twice');
    const logic = await as('officer', 'POST', '/api/awareness/templates/gophish', {
      template: { ...gophish.template, html: '{{if .FirstName}}secret-logic{{end}}' },
      id: 'other',
    });
    assert.equal(logic.status, 400);
    assert.doesNotMatch(logic.body.error, /secret-logic/);
    const group = await as('officer', 'POST', '/api/awareness/groups', { name: 'Ward A and pharmacy', departments: ['Ward A', 'Pharmacy'] });
    assert.equal(group.status, 201);
    assert.equal(group.body.members, 7);
  });

  test('a campaign spreads its messages over business hours in each person’s zone and is sent within the rate limit', async () => {
    const group = (await as('officer', 'GET', '/api/awareness/groups')).body[0].id;
    const window = { start: '2026-11-30T00:00:00Z', end: '2026-12-02T00:00:00Z', from: '09:00', to: '17:00' };
    assert.equal((await as('admin', 'POST', '/api/awareness/campaigns', { name: 'x', group, templates: ['lab-result-ready'], window })).status, 403);
    const tooShort = await as('officer', 'POST', '/api/awareness/campaigns', {
      name: 'Saturday',
      group,
      templates: ['lab-result-ready'],
      window: { start: '2026-11-28T00:00:00Z', end: '2026-11-29T00:00:00Z' },
    });
    assert.equal(tooShort.status, 400, 'a Saturday has no business hours');
    const created = await as('officer', 'POST', '/api/awareness/campaigns', {
      name: 'November round',
      group,
      templates: ['lab-result-ready', 'rota-change'],
      window,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    campaign = created.body.id;
    const plan = await s.cw.db.query<{ send_at: Date; time_zone: string; template_id: string }>(
      'select t.send_at, p.time_zone, t.template_id from awareness_target t join awareness_person p on p.id = t.person_id where t.campaign_id = $1',
      [campaign],
    );
    assert.equal(plan.rows.length, 7);
    for (const row of plan.rows) {
      const local = DateTime.fromJSDate(row.send_at).setZone(row.time_zone);
      assert.ok(local.hour >= 9 && local.hour < 17, `${local.toISO()} is inside business hours`);
      assert.ok(local.weekday <= 5);
      assert.ok(row.send_at >= new Date(window.start) && row.send_at <= new Date(window.end));
    }

    const end = new Date(window.end);
    assert.equal(await s.cw.awareness.sendDue(end), 4, 'four per minute');
    assert.equal(await s.cw.awareness.sendDue(new Date(end.getTime() + 30_000)), 0, 'still within the minute');
    assert.equal(await s.cw.awareness.sendDue(new Date(end.getTime() + 61_000)), 3);
    assert.equal(received.length, 6, 'six reached the relay; one address was refused');
    const results = await as('admin', 'GET', `/api/awareness/campaigns/${campaign}/results`);
    assert.equal(results.status, 200);
    assert.equal(results.body.sent, 7);
    assert.equal(results.body.delivered, 6);
    const parsed = await simpleParser(received[0].raw);
    const templates = (await as('officer', 'GET', '/api/awareness/templates')).body as Array<{ id: string; fromAddress: string }>;
    const senders = templates.filter((t) => ['lab-result-ready', 'rota-change'].includes(t.id)).map((t) => t.fromAddress);
    assert.ok(senders.includes(parsed.from!.value[0].address!), "the message comes from its template's sender");
    assert.ok(!/\{\{/.test(String(parsed.html)), 'every placeholder was filled');
  });

  test('a person clicks: the imitation page keeps what is typed in the browser; the form leads to the lesson; the quiz trains', async () => {
    const ada = await linkOf('ada.lindqvist@clinic.test');
    const page = await call(s.url, 'GET', ada.url, { headers: { 'user-agent': BROWSER } });
    assert.equal(page.status, 200);
    const csp = page.headers.get('content-security-policy') ?? '';
    assert.match(csp, /script-src 'nonce-/);
    const html = String(page.body);
    assert.ok(/<input[^>]*type="?password/i.test(html), 'the page imitates a sign-in');
    assert.ok(!/<(input|select|textarea)\b[^>]*\bname=/i.test(html), 'no field has a name: a browser sends none of them');
    const form = /<form[^>]*action="([^"]+)"/i.exec(html)?.[1];
    assert.ok(form?.includes(`/aw/s/${ada.token}`), 'the form posts to the submission address');
    const beacon = /"([^"]*\/aw\/b\/[^"]+)"/.exec(html)?.[1];
    assert.ok(beacon, 'the page reports that a browser ran it');
    assert.equal((await call(s.url, 'POST', beacon.replace(/^https?:\/\/[^/]+/, ''), { headers: { 'user-agent': BROWSER } })).status, 204);

    // The attack: a form posted with the password in it. Refused before it is read; nothing kept.
    const posted = await fetch(`${s.url}/aw/s/${ada.token}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': BROWSER },
      body: `username=ada&password=${TYPED}`,
      redirect: 'manual',
    });
    assert.equal(posted.status, 401);
    // What a browser sends for a form of unnamed fields: nothing.
    const submitted = await fetch(`${s.url}/aw/s/${ada.token}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': BROWSER },
      body: '',
      redirect: 'manual',
    });
    assert.equal(submitted.status, 303);
    const lessonUrl = submitted.headers.get('location')!.replace(/^https?:\/\/[^/]+/, '');
    const lesson = await call(s.url, 'GET', lessonUrl);
    assert.match(String(lesson.body), /simulated phishing message/);
    assert.match(String(lesson.body), /<mark title="[^"]+">lab-portal\.test<\/mark>|<mark title="[^"]+">/, 'a tell is shown on the message itself');
    const quizUrl = /<form method="post" action="([^"]+)"/
      .exec(String(lesson.body))![1]
      .replace(/^https?:\/\/[^/]+/, '')
      .replace(/&amp;/g, '&');
    const wrong = await call(s.url, 'POST', quizUrl, { raw: 'q0=0&q1=0&q2=0', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.match(String(wrong.body), /Not yet/);
    const lessons = (await as('nurse', 'GET', '/api/awareness/lessons')).body as Array<{ id: string; quiz: Array<{ answer: number }> }>;
    const template = (
      await s.cw.db.query<{ template_id: string }>('select template_id from awareness_target where token_hash = sha256($1::bytea)', [Buffer.from(ada.token)])
    ).rows[0].template_id;
    const lessonId = (await s.cw.awareness.catalogue.template(template))!.lesson;
    const answers = lessons
      .find((l) => l.id === lessonId)!
      .quiz.map((q, i) => `q${i}=${q.answer}`)
      .join('&');
    const right = await call(s.url, 'POST', quizUrl, { raw: answers, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.match(String(right.body), /you passed/);

    // Nothing anyone typed is anywhere in the database.
    for (const table of ['awareness_event', 'awareness_target', 'awareness_report', 'awareness_person', 'audit_record']) {
      const dump = await s.cw.db
        .query<{ t: string }>(`select coalesce(string_agg(x::text, ' '), '') as t from ${table} x`)
        .catch(() => ({ rows: [{ t: '' }] }));
      assert.ok(!dump.rows[0].t.includes(TYPED), `${table} holds nothing typed`);
    }
  });

  test('clicks by scanners and previewers are recorded as automatic, with why', async () => {
    const bert = await linkOf('bert.okafor@clinic.test');
    // Safe Links-style: fetched by a program, no script ever runs.
    await call(s.url, 'GET', bert.url, { headers: { 'user-agent': 'python-requests/2.31' } });
    const cleo = await linkOf('cleo.marsh@clinic.test');
    // A browser-looking fetch whose page never ran its script.
    await call(s.url, 'GET', cleo.url, { headers: { 'user-agent': BROWSER } });
    const results = (await as('admin', 'GET', `/api/awareness/campaigns/${campaign}/results`)).body;
    assert.equal(results.clicked, 1, "only Ada's click was a person's");
    assert.equal(results.clickedByScanners, 2);
    assert.equal(results.submitted, 1);
    assert.equal(results.trained, 1);
    assert.equal(results.phishProne, Math.round((1 / 6) * 10_000) / 10_000);
  });

  test('the report button credits a simulation at once; the figures show it; only the awareness officer sees names', async () => {
    const eli = await linkOf('eli.brandt@clinic.test');
    const reported = await as('nurse', 'POST', '/api/awareness/reports', eli.raw.toString('latin1'), 'message/rfc822');
    assert.equal(reported.status, 201, JSON.stringify(reported.body));
    assert.equal(reported.body.verdict, 'phishing');
    assert.equal(reported.body.simulation, true);
    assert.equal(reported.body.reasons[0].code, 'simulation');
    const results = (await as('admin', 'GET', `/api/awareness/campaigns/${campaign}/results`)).body;
    assert.equal(results.reported, 1);
    assert.equal(results.reportRate, Math.round((1 / 6) * 10_000) / 10_000);
    assert.equal(typeof results.medianMinutesToFirstReport, 'number');

    assert.equal((await as('admin', 'GET', `/api/awareness/campaigns/${campaign}/people`)).status, 403, 'management sees departments, not people');
    assert.equal((await as('nurse', 'GET', `/api/awareness/campaigns/${campaign}/results`)).status, 403);
    const departments = (await as('admin', 'GET', `/api/awareness/campaigns/${campaign}/departments`)).body as Array<{ department: string; people: number }>;
    assert.deepEqual(
      departments.map((d) => d.department),
      ['Ward A', 'Smaller departments together (each under 3 people)'],
      'a department of two is not shown on its own',
    );
    const people = (await as('officer', 'GET', `/api/awareness/campaigns/${campaign}/people`)).body as Array<{ person: { name: string }; clicked: boolean }>;
    assert.equal(people.find((p) => p.person.name === 'Ada Lindqvist')?.clicked, true);
    const csv = await fetch(`${s.url}/api/awareness/campaigns/${campaign}/export.csv?by=department`, { headers: { authorization: `Bearer ${tokens.admin}` } });
    assert.equal(csv.status, 200);
    assert.match(await csv.text(), /^"department","people","sent"/);
    const trend = (await as('admin', 'GET', '/api/awareness/trend')).body as Array<{ name: string; phishProne: number }>;
    assert.deepEqual(
      trend.map((t) => t.name),
      ['November round'],
    );
    // Nora's own page: what she was sent and what she did.
    const mine = (await as('nurse', 'GET', '/api/awareness/me')).body;
    assert.equal(mine.history.length, 1);
  });

  test('mistakes in two of the last three simulations enrol a person in the course; only plain lures until it is passed', async () => {
    const solo = await as('officer', 'POST', '/api/awareness/groups', { name: 'Ada alone', emails: ['ada.lindqvist@clinic.test'] });
    const allTemplates = ((await as('officer', 'GET', '/api/awareness/templates')).body as Array<{ id: string; difficulty: number }>).map((t) => t.id);
    const round = async (name: string, start: string, end: string) => {
      const c = await as('officer', 'POST', '/api/awareness/campaigns', {
        name,
        group: solo.body.id,
        templates: allTemplates,
        window: { start, end },
        landingPage: false,
      });
      assert.equal(c.status, 201, JSON.stringify(c.body));
      assert.equal(await s.cw.awareness.sendDue(new Date(end)), 1);
      return c.body.id as string;
    };
    const enrolled = async () =>
      ((await as('officer', 'GET', '/api/awareness/people')).body as Array<{ email: string; courseEnrolledAt?: string; coursePassedAt?: string }>).find(
        (p) => p.email === 'ada.lindqvist@clinic.test',
      )!;
    assert.equal((await enrolled()).courseEnrolledAt, undefined, 'one mistake is not yet a pattern');
    await round('December round', '2026-12-02T00:00:00Z', '2026-12-04T00:00:00Z');
    const ada = await linkOf('ada.lindqvist@clinic.test');
    const page = String((await call(s.url, 'GET', ada.url, { headers: { 'user-agent': BROWSER } })).body);
    const beacon = /"([^"]*\/aw\/b\/[^"]+)"/.exec(page)![1].replace(/^https?:\/\/[^/]+/, '');
    await call(s.url, 'POST', beacon, { headers: { 'user-agent': BROWSER } });
    assert.ok((await enrolled()).courseEnrolledAt, 'a second mistake enrols her');
    const lesson = String((await call(s.url, 'GET', `/aw/l/${ada.token}`)).body);
    assert.match(lesson, /Your course/);

    const third = await round('January round', '2026-12-07T00:00:00Z', '2026-12-09T00:00:00Z');
    const drawn = (await s.cw.db.query<{ template_id: string }>('select template_id from awareness_target where campaign_id = $1', [third])).rows[0]
      .template_id;
    assert.equal((await s.cw.awareness.catalogue.template(drawn))!.difficulty, 1, 'while enrolled, only plain lures');

    // She takes every lesson of the course and passes each quiz.
    const lessons = (await as('nurse', 'GET', '/api/awareness/lessons')).body as Array<{ id: string; course?: boolean; quiz: Array<{ answer: number }> }>;
    for (const l of lessons.filter((x) => x.course)) {
      const answers = l.quiz.map((q, i) => `q${i}=${q.answer}`).join('&');
      const r = await call(s.url, 'POST', `/aw/q/${ada.token}?lesson=${l.id}`, {
        raw: answers,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      assert.match(String(r.body), /you passed/, l.id);
    }
    assert.ok((await enrolled()).coursePassedAt, 'the course is passed');
  });

  test("the console's lists are answered in the shapes it checks, nothing it shows left out", async () => {
    const people = checkShape(AwarenessPeople, (await as('officer', 'GET', '/api/awareness/people')).body, 'people');
    assert.ok(people.some((p) => p.courseEnrolledAt) && people.every((p) => p.email && p.lastName && p.source));
    const templates = checkShape(AwarenessTemplates, (await as('officer', 'GET', '/api/awareness/templates')).body, 'templates');
    assert.ok(
      templates.some((t) => !t.shipped),
      "the clinic's own template too",
    );
    assert.ok(
      templates.every((t) => t.html && t.text),
      'a template is reviewed whole',
    );
    assert.ok(templates.filter((t) => t.shipped).every((t) => t.tells.length > 0));
    checkShape(AwarenessGroups, (await as('officer', 'GET', '/api/awareness/groups')).body, 'groups');
    const lessons = checkShape(AwarenessLessons, (await as('nurse', 'GET', '/api/awareness/lessons')).body, 'lessons');
    assert.ok(lessons.length > 0 && lessons.every((l) => l.quiz.length === 3 && l.html));
  });
});

describe('reported real mail: triage, clusters, the decision told to the reporter', () => {
  let s: TestServer;
  const tokens: Record<string, string> = {};
  const as = (u: string, method: string, url: string, body?: unknown, type = 'application/json') =>
    call(s.url, method, url, {
      token: tokens[u],
      ...(typeof body === 'string' ? { raw: body } : { body }),
      headers: body === undefined ? {} : { 'content-type': type },
    });
  // A look-alike of the clinic's domain, a link whose text names the clinic's portal, a credential lure.
  const PHISH = [
    'From: "IT Service Desk" <helpdesk@clinic-test-support.com>',
    'To: staff@clinic.test',
    'Subject: Your mailbox will be closed today',
    'Date: Thu, 03 Dec 2026 09:12:00 +0000',
    'Message-ID: <a1b2c3@clinic-test-support.com>',
    'MIME-Version: 1.0',
    'Content-Type: text/html; charset=utf-8',
    '',
    '<p>Your mailbox is full and will be closed today. Confirm your password now:</p>',
    '<p><a href="http://198.51.100.7/owa/login.php">https://mail.clinic.test/owa</a></p>',
    '',
  ].join('\r\n');

  before(async () => {
    s = await startTestServer({ awareness: { domains: ['clinic.test'] } } as never);
    // No DNS here: every lookup fails at once, as on a machine without network (authentication then reads temperror).
    s.cw.awareness.resolver = async () => {
      throw Object.assign(new Error('no DNS in the test'), { code: 'ENOTFOUND' });
    };
    tokens.nurse = await s.login(['nurse'], 'nurse-rita');
    tokens.porter = await s.login(['receptionist'], 'desk-sam');
    tokens.sec = await s.login(['security-admin'], 'sec-ivo');
  });
  after(async () => s?.close());

  test('two people report the same message: one cluster, a verdict with reasons; the decision reaches both', async () => {
    const first = await as('nurse', 'POST', '/api/awareness/reports', PHISH, 'message/rfc822');
    assert.equal(first.status, 201, JSON.stringify(first.body));
    assert.notEqual(first.body.verdict, 'clean', 'a credential lure from a look-alike domain behind a disguised link');
    assert.ok(first.body.reasons.length > 0);
    for (const r of first.body.reasons) assert.deepEqual(Object.keys(r).sort(), ['code', 'text']);
    const second = await as('porter', 'POST', '/api/awareness/reports', PHISH.replace('staff@clinic.test', 'desk@clinic.test'), 'message/rfc822');
    assert.equal(second.status, 201);

    assert.equal((await as('nurse', 'GET', '/api/awareness/reports')).status, 403, 'the queue is for security');
    const queue = (await as('sec', 'GET', '/api/awareness/reports')).body;
    assert.equal(queue.clusters.length, 1);
    assert.equal(queue.clusters[0].reporters, 2);
    const found = (await as('sec', 'GET', `/api/awareness/reports?subject=${encodeURIComponent('mailbox will be closed')}`)).body;
    assert.equal(found.reports.length, 2);
    const byLink = (await as('sec', 'GET', `/api/awareness/reports?link=198.51.100.7`)).body;
    assert.equal(byLink.reports.length, 2, 'found by the link it carries');
    assert.equal((await as('sec', 'GET', `/api/awareness/reports?sender=nobody-sends-this`)).body.reports.length, 0);

    const decided = await as('sec', 'POST', `/api/awareness/reports/${first.body.id}/decision`, {
      outcome: 'phishing',
      note: 'Blocked the domain at the gateway',
    });
    assert.equal(decided.status, 200);
    assert.equal(decided.body.decided, 2, 'every open report of the same message');
    for (const who of ['nurse', 'porter']) {
      const mine = (await as(who, 'GET', '/api/awareness/reports/mine')).body;
      assert.equal(mine[0].outcome, 'phishing');
      assert.equal(mine[0].outcomeNote, 'Blocked the domain at the gateway');
    }
    // The message is kept sealed: its body is nowhere in the clear.
    const stored = await s.cw.db.query<{ t: string }>(`select string_agg(x::text, ' ') as t from awareness_report x`);
    assert.ok(!stored.rows[0].t.includes('Confirm your password'), 'the body is sealed');
  });

  test('a file that is not a mail message is refused, without echo', async () => {
    const r = await as('nurse', 'POST', '/api/awareness/reports', '\u0000\u0001binary-secret-payload', 'message/rfc822');
    assert.equal(r.status, 400);
    assert.doesNotMatch(JSON.stringify(r.body), /binary-secret-payload/);
  });
});
