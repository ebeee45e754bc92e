/**
 * Staff awareness end to end with the clinic's real parts (issue 26): a campaign to a group of 20
 * sent through Debian's Postfix (STARTTLS, AUTH) into 20 Dovecot mailboxes; a person's Chromium
 * reads the message (the pixel), clicks, lands on the lesson and passes the quiz; another moves the
 * message into the shared report folder and the server, reading it over IMAP, credits her; a
 * third forwards it as an attachment to the report address; a mail scanner fetches a fourth's link
 * and is set apart; the figures show each. Deliveries pass Postfix's queue: arrival is polled for.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ImapFlow } from 'imapflow';
import { simpleParser } from 'mailparser';
import nodemailer from 'nodemailer';
import type { Browser } from 'playwright-core';
import { launch } from './helpers/browser.js';
import { call, startTestServer, type TestServer } from './helpers/harness.js';
import { startMailServers, type MailAccount, type MailServers } from './helpers/mailServers.js';
import { until } from './helpers/poll.js';

const DOMAIN = 'clinic.test';
const PEOPLE = Array.from({ length: 20 }, (_, i) => `staff${String(i + 1).padStart(2, '0')}`);
// What a member of staff's browser says it is. Chromium run headless says "HeadlessChrome", which
// the click judgement counts as a sign of a machine; the person here is not one.
const DESKTOP = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

describe('a campaign through Postfix into Dovecot, read in Chromium, reported over IMAP', () => {
  let mail: MailServers;
  let s: TestServer;
  let browser: Browser;
  let campaign = '';
  let officer = '';
  let security = '';
  const imap = async (account: MailAccount) => {
    const client = new ImapFlow({
      host: mail.imap.host,
      port: mail.imap.port,
      secure: false,
      tls: { ca: mail.ca },
      auth: { user: account.address, pass: account.password },
      logger: false,
    });
    await client.connect();
    return client;
  };
  /** The simulation in `account`'s INBOX, polled for until it has arrived. */
  const inbox = async (account: MailAccount): Promise<{ uid: number; source: Buffer }> => {
    const client = await imap(account);
    try {
      let found: { uid: number; source: Buffer } | undefined;
      await until(
        () => `the simulation to arrive for ${account.address}\n${mail.logs().slice(-2000)}`,
        async () => {
          await client.mailboxOpen('INBOX');
          for await (const m of client.fetch('1:*', { source: true, uid: true })) if (m.source) found = { uid: m.uid, source: m.source };
          await client.mailboxClose();
          return found !== undefined;
        },
        { tries: 150, every: 100 },
      );
      return found!;
    } finally {
      await client.logout();
    }
  };
  const account = (local: string) => mail.users.find((u) => u.address === `${local}@${DOMAIN}`)!;
  const results2 = async (id: string) => (await call(s.url, 'GET', `/api/awareness/campaigns/${id}/results`, { token: officer })).body;
  const results = () => results2(campaign);

  before(async () => {
    mail = await startMailServers({ domain: DOMAIN, mailboxes: PEOPLE, requireAuth: true });
    process.env.CAREWALL_SMTP_PASSWORD = mail.smtp.pass;
    process.env.CAREWALL_REPORT_MAILBOX_PASSWORD = mail.report.password;
    process.env.CAREWALL_MAILBOX_SEARCH_PASSWORD = mail.master.password;
    s = await startTestServer({
      awareness: {
        domains: [DOMAIN],
        timeZone: 'Europe/Berlin',
        sendPerMinute: 100,
        // The test's relay has a self-signed certificate: TLS is required, the certificate not checked.
        smtp: { host: mail.smtp.host, port: mail.smtp.port, user: mail.smtp.user, requireTls: true, verifyCertificate: false },
        reportMailbox: {
          host: mail.imap.host,
          port: mail.imap.port,
          secure: false,
          user: mail.report.address,
          verifyCertificate: false,
          sharedFolder: mail.reportFolder,
        },
        mailboxSearch: { host: mail.imap.host, port: mail.imap.port, secure: false, masterUser: mail.master.user, verifyCertificate: false },
      },
    } as never);
    delete process.env.CAREWALL_SMTP_PASSWORD;
    delete process.env.CAREWALL_REPORT_MAILBOX_PASSWORD;
    delete process.env.CAREWALL_MAILBOX_SEARCH_PASSWORD;
    officer = await s.login(['awareness-officer'], 'awareness-olga');
    security = await s.login(['security-admin'], 'security-sven');
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
    await s?.close();
    await mail?.stop();
  });

  test('twenty people, twenty real mailboxes', async () => {
    const csv = [
      'email,first_name,last_name,department,time_zone',
      ...PEOPLE.map((p, i) => `${p}@${DOMAIN},Staff,Member ${i + 1},${i < 10 ? 'Ward A' : 'Ward B'},Europe/Berlin`),
    ].join('\n');
    const imported = await call(s.url, 'POST', '/api/awareness/people/import', { token: officer, raw: csv, headers: { 'content-type': 'text/csv' } });
    assert.equal(imported.status, 200, JSON.stringify(imported.body));
    const group = await call(s.url, 'POST', '/api/awareness/groups', {
      token: officer,
      body: { name: 'Wards', departments: ['Ward A', 'Ward B'] },
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(group.body.members, 20);
    const created = await call(s.url, 'POST', '/api/awareness/campaigns', {
      token: officer,
      body: {
        name: 'Lab results',
        group: group.body.id,
        templates: ['lab-result-ready'],
        window: { start: '2026-11-30T00:00:00Z', end: '2026-12-02T00:00:00Z' },
        landingPage: false,
      },
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    campaign = created.body.id;
    assert.equal(await s.cw.awareness.sendDue(new Date('2026-12-02T00:00:00Z')), 20);
    for (const p of PEOPLE) await inbox(account(p));
    const r = await results();
    assert.equal(r.sent, 20);
    assert.equal(r.delivered, 20);
  });

  test('a person reads the message in Chromium, clicks, lands on the lesson and passes the quiz', async () => {
    const message = await inbox(account('staff01'));
    const html = (await simpleParser(message.source)).html;
    assert.ok(typeof html === 'string', 'the message has an HTML part');
    const context = await browser.newContext({ userAgent: DESKTOP });
    try {
      const page = await context.newPage();
      // The mail client shows the message: its pixel is fetched.
      await page.setContent(html, { waitUntil: 'load' });
      await until('the pixel to be fetched', async () => (await results()).opened >= 1);
      await page.locator('a[href*="/aw/c/"]').first().click();
      await page.waitForURL(/\/aw\/l\//);
      await page.getByRole('heading', { name: 'This was a simulated phishing message' }).waitFor();
      const lessonId = (await s.cw.awareness.catalogue.template('lab-result-ready'))!.lesson;
      const lesson = s.cw.awareness.lessons().find((l) => l.id === lessonId)!;
      for (const [i, q] of lesson.quiz.entries()) await page.locator(`#q${i}c${q.answer}`).check();
      await page.getByRole('button', { name: 'Check my answers' }).click();
      await page.getByText('Well done: you passed.').waitFor();
    } finally {
      await context.close();
    }
    const r = await results();
    assert.equal(r.clicked, 1);
    assert.equal(r.trained, 1);
  });

  test('one moves it into the shared report folder, another forwards it as an attachment: both credited over IMAP', async () => {
    const mover = account('staff02');
    const client = await imap(mover);
    try {
      const message = await inbox(mover);
      await client.mailboxOpen('INBOX');
      assert.ok(await client.messageMove(String(message.uid), mail.reportFolder, { uid: true }));
    } finally {
      await client.logout();
    }
    const forwarder = account('staff03');
    const original = await inbox(forwarder);
    const transport = nodemailer.createTransport({
      host: mail.smtp.host,
      port: mail.smtp.port,
      secure: false,
      requireTLS: true,
      tls: { ca: mail.ca },
      auth: { user: mail.smtp.user!, pass: mail.smtp.pass! },
    });
    await transport.sendMail({
      from: forwarder.address,
      to: mail.report.address,
      subject: 'Suspicious message',
      text: 'This looks wrong.',
      attachments: [{ filename: 'suspicious.eml', content: original.source, contentType: 'message/rfc822' }],
    });
    // Someone outside the clinic forwards another person's simulation: set aside, nobody credited.
    const stranger = await inbox(account('staff06'));
    await transport.sendMail({
      from: 'stranger@elsewhere.example',
      to: mail.report.address,
      subject: 'Fwd: look at this',
      text: 'Forwarded.',
      attachments: [{ filename: 'forwarded.eml', content: stranger.source, contentType: 'message/rfc822' }],
    });
    transport.close();
    // The moved message and the two forwards: three handled, whenever Postfix delivers them.
    let handled = 0;
    await until(
      () => `three reports read from the report mailbox (${handled} so far)\n${mail.logs().slice(-2000)}`,
      async () => (handled += await s.cw.awareness.pollMailbox()) >= 3,
      { tries: 100, every: 100 },
    );
    assert.equal((await results()).reported, 2);
    const people = (await call(s.url, 'GET', `/api/awareness/campaigns/${campaign}/people`, { token: officer })).body as Array<{
      person: { email: string };
      reported: boolean;
    }>;
    assert.deepEqual(
      people
        .filter((p) => p.reported)
        .map((p) => p.person.email)
        .sort(),
      [mover.address, forwarder.address],
    );
  });

  test("a mail scanner's fetch of a link is recorded as automatic; the figures show all of it", async () => {
    const message = String((await simpleParser((await inbox(account('staff04'))).source)).html);
    const link = /href="https?:\/\/[^/"]+(\/aw\/c\/[A-Za-z0-9_-]{43})"/.exec(message)![1];
    await call(s.url, 'GET', link, { headers: { 'user-agent': 'Mozilla/5.0 (compatible; Barracuda Sentinel (EE))' } });
    const r = await results();
    assert.deepEqual(
      { sent: r.sent, delivered: r.delivered, clicked: r.clicked, clickedByScanners: r.clickedByScanners, reported: r.reported, trained: r.trained },
      { sent: 20, delivered: 20, clicked: 1, clickedByScanners: 1, reported: 2, trained: 1 },
    );
    assert.equal(r.phishProne, 0.05);
    assert.equal(r.reportRate, 0.1);
  });

  test('the security administrator finds every mailbox the message still sits in (list only)', async () => {
    const subject = (await s.cw.awareness.catalogue.template('lab-result-ready'))!.subject.split('{{')[0].trim();
    assert.ok(subject.length > 3, 'a fixed part of the subject to search for');
    const search = (query: string, token = security) => call(s.url, 'GET', `/api/awareness/mailboxes/search?${query}`, { token });
    assert.equal((await search(`subject=${encodeURIComponent(subject)}`, officer)).status, 403, "it opens everyone's mailbox: security only");
    const bySubject = await search(`subject=${encodeURIComponent(subject)}`);
    assert.equal(bySubject.status, 200, JSON.stringify(bySubject.body));
    assert.equal(bySubject.body.searched, 20);
    const mailboxes = new Set((bySubject.body.hits as Array<{ mailbox: string }>).map((h) => h.mailbox));
    assert.equal(mailboxes.size, 19, 'every mailbox but the one whose copy was moved into the report folder');
    assert.ok(!mailboxes.has(account('staff02').address));
    const sender = (await s.cw.awareness.catalogue.template('lab-result-ready'))!.fromAddress;
    assert.equal(new Set((await search(`sender=${encodeURIComponent(sender)}`)).body.hits.map((h: { mailbox: string }) => h.mailbox)).size, 19);
    assert.equal((await search('link=nowhere-to-be-found.example')).body.hits.length, 0);
    assert.equal((await search('')).status, 400);
  });

  test('typed into the imitation page in Chromium, a password never leaves the browser: no request carries it, nothing stores it', async () => {
    const typed = 'Tr0ub4dor&3-typed-in-chromium';
    const group = await call(s.url, 'POST', '/api/awareness/groups', {
      token: officer,
      body: { name: 'One nurse', emails: [account('staff05').address] },
      headers: { 'content-type': 'application/json' },
    });
    const created = await call(s.url, 'POST', '/api/awareness/campaigns', {
      token: officer,
      body: {
        name: 'Sign-in page',
        group: group.body.id,
        templates: ['password-expiry'],
        window: { start: '2026-12-02T00:00:00Z', end: '2026-12-04T00:00:00Z' },
        landingPage: true,
      },
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(await s.cw.awareness.sendDue(new Date('2026-12-04T00:00:00Z')), 1);
    // Her INBOX holds the first campaign's message too: this one is the second to arrive.
    const client = await imap(account('staff05'));
    let html = '';
    try {
      await until(
        'the sign-in simulation to arrive',
        async () => {
          const box = await client.mailboxOpen('INBOX');
          const newest = box.exists >= 2 ? await client.fetchOne('*', { source: true }) : false;
          if (newest && newest.source) html = String((await simpleParser(newest.source)).html);
          await client.mailboxClose();
          return html !== '';
        },
        { tries: 150, every: 100 },
      );
    } finally {
      await client.logout();
    }
    const link = /href="https?:\/\/[^/"]+(\/aw\/c\/[A-Za-z0-9_-]{43})"/.exec(html)![1];
    const context = await browser.newContext({ userAgent: DESKTOP });
    const bodies: string[] = [];
    try {
      const page = await context.newPage();
      page.on('request', (r) => bodies.push(r.postData() ?? ''));
      await page.goto(s.url + link);
      const password = page.locator('input[type="password"]').first();
      await password.fill(typed);
      const email = page.locator('input[type="email"], input[type="text"]').first();
      if (await email.count()) await email.fill('nurse@clinic.test');
      await page.locator('form button, form input[type="submit"]').first().click();
      await page.getByRole('heading', { name: 'This was a simulated phishing message' }).waitFor();
    } finally {
      await context.close();
    }
    assert.ok(
      bodies.every((b) => !b.includes(typed) && !b.includes(encodeURIComponent(typed))),
      'no request the browser sent carried the password',
    );
    assert.equal((await results2(created.body.id)).submitted, 1, 'the submission itself is recorded');
    for (const table of ['awareness_event', 'awareness_target', 'awareness_report', 'audit_record']) {
      const dump = await s.cw.db
        .query<{ t: string }>(`select coalesce(string_agg(x::text, ' '), '') as t from ${table} x`)
        .catch(() => ({ rows: [{ t: '' }] }));
      assert.ok(!dump.rows[0].t.includes(typed), `${table} holds nothing typed`);
    }
  });
});
