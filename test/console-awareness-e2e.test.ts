/**
 * Staff awareness in the console, end to end in Debian's Chromium: the awareness officer makes a
 * group and a campaign (confirmed) and reads its results with the trend and the people; an
 * administrator reads the same results without names; a security administrator decides a reported
 * message (confirmed, with a note); a nurse reports a simulation she received and is told "Well
 * spotted", and practises a lesson's quiz. axe-core on each screen, every impact. Messages go
 * through an SMTP relay in the test; an earlier campaign, a person's click, a scanner's visit and a
 * report are made through the service and the /aw routes, so that the figures are not all zero.
 * SCREENSHOTS=DIR also saves the four awareness screens there (docs/screenshots).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { WEB_ROOT } from '../src/http/consoleRoutes.js';
import { SYSTEM, type Who } from '../src/shared/index.js';
import type { StoredSettings } from '../src/config.js';
import { call, PASSWORD, startTestServer, tempDir, type TestServer } from './helpers/harness.js';
import { allViolations, haveChromium, launch, signedInTabs } from './helpers/browser.js';
import { FOREIGN_LURE, messageTo, relay, STAFF_CSV, type Received } from './helpers/awarenessFixture.js';

const skip = !haveChromium()
  ? 'Debian chromium is not installed (.ci/run installs it)'
  : !fs.existsSync(path.join(WEB_ROOT, 'index.html'))
    ? 'the console is not built (npm install builds it)'
    : false;
const SHOTS = process.env.SCREENSHOTS;
const BROWSER_UA = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36';
const DIFFICULTY = { 1: 'plain', 2: 'careful reader', 3: 'trained eye' } as const;

/** A datetime-local value in UTC (the browser runs in UTC here). */
const local = (d: Date) => d.toISOString().slice(0, 16);

describe('staff awareness screens in the console', { skip }, () => {
  let s: TestServer;
  let smtp: Awaited<ReturnType<typeof relay>>;
  let browser: Browser;
  let context: BrowserContext;
  let work: string;
  const received: Received[] = [];
  const totp: Record<string, string> = {};
  const who: Record<string, Who> = {};
  const violations: Record<string, string[]> = {};

  // Each user signs in once, in a tab of their own (helpers/browser.ts).
  let tabs: ((username: string) => Promise<Page>) | undefined;
  const pageOf = (username: string) =>
    (tabs ??= signedInTabs(
      context,
      () => s.url,
      PASSWORD,
      (u) => totp[u],
    ))(username);

  const check = async (page: Page, screen: string, shot?: string) => {
    violations[screen] = await allViolations(page);
    if (SHOTS && shot) {
      fs.mkdirSync(SHOTS, { recursive: true });
      await page.screenshot({ path: path.join(SHOTS, `awareness-${shot}.png`), fullPage: true });
    }
  };

  before(async () => {
    work = tempDir('carewall-e2e-awareness-');
    smtp = await relay(received);
    s = await startTestServer({
      awareness: { timeZone: 'UTC', smtp: { host: '127.0.0.1', port: smtp.port, verifyCertificate: false }, domains: ['clinic.test'], sendPerMinute: 100 },
    } as StoredSettings);
    // Nora, a nurse in Ward A: her practitioner has a work address, so she comes from the accounts.
    const nora = await s.cw.fhir.create(SYSTEM, 'Practitioner', {
      resourceType: 'Practitioner',
      name: [{ use: 'official', family: 'Nightingale', given: ['Nora'] }],
      telecom: [{ system: 'email', value: 'nora.nightingale@clinic.test', use: 'work' }],
    });
    await s.cw.fhir.create(SYSTEM, 'PractitionerRole', {
      resourceType: 'PractitionerRole',
      practitioner: { reference: `Practitioner/${nora.id}` },
      organization: { display: 'Ward A' },
      code: [{ text: 'ward nurse' }],
    });
    for (const [username, roles, practitioner] of [
      ['amy', ['awareness-officer'], undefined],
      ['al', ['admin'], undefined],
      ['sam', ['security-admin'], undefined],
      ['nora', ['nurse'], `Practitioner/${nora.id}`],
    ] as const) {
      const made = await s.cw.identity.createAccount({
        username,
        password: PASSWORD,
        roles: [...roles],
        requireTotp: true,
        ...(practitioner ? { practitioner } : {}),
      });
      totp[username] = made.totpUri!;
      who[username] = (await s.cw.identity.describeAccount(username))!.who;
    }
    const aw = s.cw.awareness;
    await aw.importStaffCsv(who.amy, STAFF_CSV);
    assert.equal((await aw.syncFromAccounts(who.amy)).added, 1, 'Nora comes from the accounts');

    // An earlier campaign to everyone, sent in October: the first point of the trend.
    const everyone = await aw.createGroup(who.amy, { name: 'Whole clinic', departments: ['Ward A', 'Pharmacy'] });
    const [lure] = await aw.templates(who.amy);
    await aw.createCampaign(who.amy, {
      name: 'October round',
      group: everyone.id,
      templates: [lure.id],
      window: { start: '2026-10-05T00:00:00Z', end: '2026-10-08T00:00:00Z' },
    });
    assert.equal(await aw.sendDue(new Date('2026-10-08T00:00:00Z')), 7);
    // Ada clicks in a browser that runs the page's script; a scanner fetches Bert's link.
    const ada = await messageTo(received, 'ada.lindqvist@clinic.test');
    const page = await call(s.url, 'GET', ada.path, { headers: { 'user-agent': BROWSER_UA } });
    const beacon = /"([^"]*\/aw\/b\/[^"]+)"/.exec(String(page.body))?.[1];
    assert.ok(beacon, 'the imitation page reports that a browser ran it');
    assert.equal((await call(s.url, 'POST', beacon.replace(/^https?:\/\/[^/]+/, ''), { headers: { 'user-agent': BROWSER_UA } })).status, 204);
    await call(s.url, 'GET', (await messageTo(received, 'bert.okafor@clinic.test')).path, { headers: { 'user-agent': 'python-requests/2.31' } });
    // Eli reports his twelve minutes after it arrived.
    const eli = await messageTo(received, 'eli.brandt@clinic.test');
    await aw.report({ accountId: 'eli', username: 'eli', roles: ['nurse'] }, eli.raw, new Date('2026-10-08T00:12:00Z'));
    // Three people report the same lure from outside: one item in the triage queue.
    for (const reporter of ['bert', 'cleo', 'fay']) await aw.report({ accountId: reporter, username: reporter, roles: ['nurse'] }, FOREIGN_LURE);

    browser = await launch();
    context = await browser.newContext({ bypassCSP: true, acceptDownloads: true, timezoneId: 'UTC', viewport: { width: 1280, height: 900 } });
  });

  after(async () => {
    await browser?.close();
    await s?.close();
    await smtp?.close();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  test('the awareness officer makes a group from departments and a campaign, confirmed; cancelling is confirmed too', async () => {
    const page = await pageOf('amy');
    await page.getByRole('link', { name: 'Phishing campaigns' }).click();
    const october = page.getByRole('row').filter({ hasText: 'October round' });
    await october.getByRole('cell', { name: 'Finished' }).waitFor();
    await october.getByRole('cell', { name: 'Whole clinic' }).waitFor();

    // A staff file imported in the console: its department is offered for groups at once.
    const staffFile = path.join(work, 'reception.csv');
    fs.writeFileSync(staffFile, 'email,first_name,last_name,department,position,time_zone\nhal.berg@clinic.test,Hal,Berg,Reception,receptionist,UTC\n');
    await page.getByLabel('Staff file (CSV)').setInputFiles(staffFile);
    await page.getByRole('button', { name: 'Import the staff file' }).click();
    await page.getByRole('status').filter({ hasText: 'From the staff file: 1 added, 0 updated.' }).waitFor();
    await page.getByRole('checkbox', { name: 'Reception (1 person)' }).waitFor();

    await page.getByLabel('Group name').fill('Ward A');
    await page.getByRole('checkbox', { name: 'Ward A (4 people)' }).check();
    await page.getByRole('button', { name: 'Create the group' }).click();
    await page.getByRole('status').filter({ hasText: 'Ward A made: 4 people.' }).waitFor();

    const templates = await s.cw.awareness.templates(who.amy);
    await page.getByLabel('Campaign name').fill('December round');
    await page.getByRole('combobox', { name: /^Group/ }).selectOption({ label: 'Ward A (4 people)' });
    for (const t of templates.slice(0, 2)) await page.getByRole('checkbox', { name: `${t.name} (${DIFFICULTY[t.difficulty]})` }).check();
    const now = Date.now();
    await page.getByLabel('Sending starts').fill(local(new Date(now - 8 * 86_400_000)));
    await page.getByLabel('Sending ends').fill(local(new Date(now - 60_000)));
    await page.getByRole('button', { name: 'Create…' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText('4 people in Ward A will each get one of 2 messages').waitFor();
    assert.equal((await s.cw.awareness.campaigns(who.amy)).length, 1, 'nothing is made before the confirmation');
    await check(page, 'new campaign dialog');
    await dialog.getByRole('button', { name: 'Create the campaign' }).click();
    await page.getByRole('status').filter({ hasText: 'December round is planned: 4 people will get a message.' }).waitFor();
    const december = page.getByRole('row').filter({ hasText: 'December round' });
    await december.getByRole('cell', { name: 'Scheduled' }).waitFor();

    // A dry run made by the service, cancelled in the console after a confirmation.
    const rehearsal = await s.cw.awareness.createCampaign(who.amy, {
      name: 'Rehearsal',
      group: (await s.cw.awareness.groups(who.amy)).find((g) => g.name === 'Ward A')!.id,
      templates: [templates[0].id],
      window: { start: '2027-01-04T00:00:00Z', end: '2027-01-09T00:00:00Z' },
      dryRun: true,
    });
    await page.reload();
    await page.getByRole('button', { name: 'Cancel Rehearsal…' }).click();
    await dialog.getByText('Messages not yet sent will not be sent').waitFor();
    await dialog.getByRole('button', { name: 'Cancel the campaign' }).click();
    await page.getByRole('row').filter({ hasText: 'Rehearsal' }).getByRole('cell', { name: 'Cancelled' }).waitFor();
    assert.equal((await s.cw.awareness.campaigns(who.amy)).find((c) => c.id === rehearsal.id)?.state, 'cancelled');

    // The December messages fall due: the relay gets one for each of the four, and the campaign is finished.
    assert.equal(await s.cw.awareness.sendDue(new Date()), 4);
    await page.reload();
    await december.getByRole('cell', { name: 'Finished' }).waitFor();
    await check(page, 'campaigns', 'campaigns');
  });

  test('a nurse reports the simulation she received and is told "Well spotted"; she practises a quiz', async () => {
    const message = await messageTo(received, 'nora.nightingale@clinic.test');
    const file = path.join(work, 'suspicious.eml');
    fs.writeFileSync(file, message.raw);
    const page = await pageOf('nora');
    await page.getByRole('link', { name: 'My awareness' }).click();
    await page.getByRole('row').filter({ hasText: 'December round' }).getByRole('cell', { name: 'Received it, nothing more' }).waitFor();
    await page.getByLabel('Message file').setInputFiles(file);
    await page.getByRole('button', { name: 'Report it' }).click();
    await page.getByRole('status').filter({ hasText: 'Well spotted!' }).waitFor();
    await page.getByRole('row').filter({ hasText: 'A practice message' }).getByRole('cell', { name: 'Credited to you' }).waitFor();
    await page.getByRole('row').filter({ hasText: 'December round' }).getByRole('cell', { name: 'Reported it' }).waitFor();
    await check(page, 'my awareness', 'my-awareness');

    const [lesson] = s.cw.awareness.lessons();
    await page.getByRole('link', { name: 'Lessons', exact: true }).click();
    await page.getByRole('link', { name: lesson.title }).click();
    await page.getByRole('heading', { level: 1, name: lesson.title }).waitFor();
    const question = (i: number) => page.getByRole('group', { name: `${i + 1}. ${lesson.quiz[i].question}` });
    // One wrong answer first: the quiz says which and why.
    for (const [i, q] of lesson.quiz.entries())
      await question(i)
        .getByRole('radio', { name: q.choices[i === 0 ? (q.answer + 1) % q.choices.length : q.answer], exact: true })
        .check();
    await page.getByRole('button', { name: 'Check my answers' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: `${lesson.quiz.length - 1} of ${lesson.quiz.length} right` })
      .waitFor();
    await question(0).getByText(lesson.quiz[0].why).waitFor();
    await question(0).getByRole('radio', { name: lesson.quiz[0].choices[lesson.quiz[0].answer], exact: true }).check();
    await page.getByRole('button', { name: 'Check my answers' }).click();
    await page.getByRole('status').filter({ hasText: 'you passed' }).waitFor();
    await check(page, 'lesson', 'lesson');
  });

  test('the awareness officer reads the results in words, by department and by person, with the trend', async () => {
    const page = await pageOf('amy');
    await page.getByRole('link', { name: 'Awareness results' }).click();
    await page.getByRole('combobox', { name: /^Campaign/ }).selectOption({ label: 'October round (finished)' });
    const figures = page.locator('.figures');
    await figures.getByText('7 of 7 messages delivered').waitFor();
    await figures.getByText('14% clicked or typed something (scanner clicks excluded)').waitFor();
    await figures.getByText('14% reported it').waitFor();
    await figures.getByText('Median 12 minutes to the first report').waitFor();
    await figures.getByText('1 link visit by mail scanners set apart').waitFor();
    await page.getByRole('row').filter({ hasText: 'Pharmacy' }).getByRole('cell', { name: '3', exact: true }).waitFor();
    await page.getByRole('row').filter({ hasText: 'Ada Lindqvist' }).getByRole('cell', { name: 'Opened the link' }).waitFor();
    await page.getByRole('row').filter({ hasText: 'Eli Brandt' }).getByRole('cell', { name: 'Reported it' }).waitFor();
    await page.getByRole('row').filter({ hasText: 'Bert Okafor' }).getByRole('cell', { name: '1', exact: true }).waitFor();

    // The trend: both campaigns, in sending order, drawn and as a table.
    const trend = page.getByRole('table', { name: 'The trend as a table' });
    const rows = trend.getByRole('row');
    await rows.filter({ hasText: 'December round' }).getByRole('cell', { name: '25%' }).first().waitFor();
    assert.deepEqual((await trend.locator('tbody th').allTextContents()).slice(0, 2), ['October round', 'December round']);
    await page.getByRole('img', { name: 'Awareness over the campaigns' }).waitFor();
    await check(page, 'results (officer)', 'results');
  });

  test('an administrator reads the same results without names, and downloads them by department', async () => {
    const page = await pageOf('al');
    await page.getByRole('link', { name: 'Awareness results' }).click();
    await page.getByRole('combobox', { name: /^Campaign/ }).selectOption({ label: 'October round (finished)' });
    await page.locator('.figures').getByText('14% reported it').waitFor();
    await page.getByRole('row').filter({ hasText: 'Ward A' }).first().waitFor();
    assert.equal(await page.getByRole('heading', { name: 'People' }).count(), 0);
    assert.equal(await page.getByText('Ada Lindqvist').count(), 0, 'no names for management');
    assert.equal(await page.getByRole('button', { name: 'Download by person (CSV)' }).count(), 0);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download by department (CSV)' }).click()]);
    const saved = path.join(work, 'by-department.csv');
    await download.saveAs(saved);
    assert.match(fs.readFileSync(saved, 'utf8'), /^"department","people","sent"/);
    // Read-only campaigns: no form to make one, no cancelling.
    await page.getByRole('link', { name: 'Phishing campaigns' }).click();
    await page.getByRole('row').filter({ hasText: 'December round' }).waitFor();
    assert.equal(await page.getByRole('heading', { name: 'New campaign' }).count(), 0);
    assert.equal(await page.getByRole('button', { name: /^Cancel / }).count(), 0);
    await check(page, 'results (administrator)');
  });

  test('a security administrator finds a reported message and decides it, with a note, confirmed', async () => {
    const page = await pageOf('sam');
    await page.getByRole('link', { name: 'Reported mail' }).click();
    const queueSearch = page.getByRole('search', { name: 'Reported mail' });
    await queueSearch.getByLabel('Sender').fill('c1inic');
    await queueSearch.getByRole('button', { name: 'Search' }).click();
    const item = page.getByRole('article').filter({ hasText: 'Your mailbox is full' });
    await item.getByText('Reported by 3 people').waitFor();
    await item.getByText(/Automatic verdict: (Phishing|Suspicious: needs a closer look)/).waitFor();
    const [report] = (await s.cw.awareness.queue(who.sam, { open: true })).reports;
    assert.ok(report.reasons.length > 0, 'triage gave reasons');
    await item.getByText(report.reasons[0].text).waitFor();
    await check(page, 'reported mail', 'reported-mail');

    await item.getByRole('button', { name: 'Decide on “Your mailbox is full: confirm your password today”…' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText('The decision covers all 3 undecided reports of this message').waitFor();
    const record = dialog.getByRole('button', { name: 'Record the decision' });
    await dialog.getByRole('radio', { name: /^Phishing/ }).check();
    assert.equal(await record.isDisabled(), true, 'a note is needed first');
    await dialog.getByLabel('Note (kept with the decision)').fill('look-alike domain; sender blocked at the gateway');
    await check(page, 'decision dialog');
    await record.click();
    await page.getByText('No reported message waits for a decision.').waitFor();
    await page.getByLabel('Only undecided').uncheck();
    await queueSearch.getByRole('button', { name: 'Search' }).click();
    await item.getByText('Decided: Confirmed phishing by sam').waitFor();
    const decided = (await s.cw.awareness.queue(who.sam, {})).reports.filter((r) => r.subject.startsWith('Your mailbox is full'));
    assert.deepEqual(
      decided.map((r) => [r.outcome, r.outcomeNote]),
      Array(3).fill(['phishing', 'look-alike domain; sender blocked at the gateway']),
    );

    // Where else it sits: every mailbox (this test clinic has given Carewall no mail-server account for it, and is told so).
    const everywhere = page.getByRole('search', { name: 'Every mailbox' });
    await everywhere.getByLabel('Subject').fill('Your mailbox is full');
    await everywhere.getByRole('button', { name: 'Search every mailbox' }).click();
    await page.getByText('no mail server account for searching mailboxes is set (awareness.mailboxSearch)').waitFor();
    await check(page, 'mailbox search');
  });

  test('no accessibility violations on the awareness screens (axe-core, every impact)', () => {
    assert.ok(Object.keys(violations).length >= 8, 'the screens were checked');
    assert.deepEqual(violations, Object.fromEntries(Object.keys(violations).map((k) => [k, []])));
  });
});
