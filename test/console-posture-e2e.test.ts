/**
 * The posture scorecard in the console, end to end in Debian's Chromium: an administrator reads the
 * headline, the threats and the next steps; opens Network management (nothing Carewall measures
 * there), attests its item through the dialog (status, what was checked, a review date, a small
 * evidence file), confirmed, and sees it "In place (attested)" after "Measure now"; a privacy
 * officer reads the trend, drawn and as a table, and the attestations with an expired one marked;
 * a nurse has no Posture section and is refused at /posture. axe-core on each screen, every impact.
 * Snapshots for past dates are taken through the service, with attestations in between, so that
 * the trend has points that differ. SCREENSHOTS=DIR also saves three posture screens there.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { WEB_ROOT } from '../src/http/consoleRoutes.js';
import type { Who } from '../src/shared/index.js';
import { PASSWORD, startTestServer, type TestServer } from './helpers/harness.js';
import { allViolations, haveChromium, launch, signedInTabs } from './helpers/browser.js';

const skip = !haveChromium()
  ? 'Debian chromium is not installed (.ci/run installs it)'
  : !fs.existsSync(path.join(WEB_ROOT, 'index.html'))
    ? 'the console is not built (npm install builds it)'
    : false;
const SHOTS = process.env.SCREENSHOTS;
const DAY = 86_400_000;
const ago = (days: number) => new Date(Date.now() - days * DAY);
/** A made-up evidence file: no patient data, only what a network check would leave behind. */
const EVIDENCE = Buffer.from('Network check 2026-12: guest Wi-Fi on its own VLAN, equipment VLAN closed to the internet.\n');

describe('posture screens in the console', { skip }, () => {
  let s: TestServer;
  let browser: Browser;
  let context: BrowserContext;
  const totp: Record<string, string> = {};
  const who: Record<string, Who> = {};
  const violations: Record<string, string[]> = {};
  const p = () => s.cw.posture;

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
      await page.screenshot({ path: path.join(SHOTS, `posture-${shot}.png`), fullPage: true });
    }
  };

  before(async () => {
    s = await startTestServer();
    for (const [username, roles] of [
      ['ann', ['admin']],
      ['pia', ['privacy-officer']],
      ['ned', ['nurse']],
    ] as const) {
      const made = await s.cw.identity.createAccount({ username, password: PASSWORD, roles: [...roles], requireTotp: true });
      totp[username] = made.totpUri!;
      who[username] = (await s.cw.identity.describeAccount(username))!.who;
    }
    // Three months of snapshots: governance attested two months ago (still valid), the incident plan
    // attested for forty days (expired ten days ago), so the trend rises and then falls back.
    await p().measure(ago(90));
    await p().attest(
      who.pia,
      { item: 'hicp-10.s.a', status: 'compliant', note: 'Security policy signed by all staff in October', expiresAt: ago(-200).toISOString() },
      ago(80),
    );
    await p().measure(ago(60));
    await p().attest(
      who.ann,
      { item: 'hicp-8.s.a', status: 'compliant', note: 'Incident plan and call list on the office wall', expiresAt: ago(10).toISOString() },
      ago(50),
    );
    await p().measure(ago(30));

    browser = await launch();
    context = await browser.newContext({ bypassCSP: true, timezoneId: 'UTC', viewport: { width: 1280, height: 900 } });
  });

  after(async () => {
    await browser?.close();
    await s?.close();
  });

  test('an administrator reads the headline, the five threats with their percentages, the next steps and the practices', async () => {
    const page = await pageOf('ann');
    await page.getByRole('link', { name: 'Posture', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Posture' }).waitFor();
    const headline = page.locator('h2.headline');
    await headline.waitFor();
    // What the page shows is the snapshot its visit measured (the last seeded one is a month old).
    const [last] = (await p().history(who.ann)).slice(-1);
    assert.ok(Date.now() - Date.parse(last.at) < DAY, 'opening the screen measured afresh');
    const card = await p().scorecard(who.ann);
    assert.equal(await headline.textContent(), `${card.summary.inPlace} of ${card.summary.total} practices in place`);
    assert.equal(card.threats.length, 5);
    const bars = page.getByRole('list', { name: 'The five threats' }).getByRole('listitem');
    assert.equal(await bars.count(), 5);
    for (const t of card.threats)
      await bars
        .filter({ hasText: t.title })
        .getByText(`${Math.round(t.score * 100)}%`, { exact: true })
        .waitFor();
    await page
      .getByRole('status')
      .filter({ hasText: /^Measured / })
      .waitFor();

    // Next steps say where to act; Network management is among them, with a link.
    await page.getByRole('link', { name: 'Go to Network management' }).first().waitFor();
    const network = page.getByRole('row').filter({ has: page.getByRole('link', { name: 'Network management', exact: true }) });
    await network.getByRole('cell', { name: '0%', exact: true }).waitFor();
    await network.getByRole('cell', { name: 'Not started' }).waitFor();
    await page
      .getByRole('row')
      .filter({ has: page.getByRole('link', { name: 'Cybersecurity oversight and governance', exact: true }) })
      .getByRole('cell', { name: 'In place', exact: true })
      .waitFor();
    // The HHS performance goals, essential and enhanced, each with its share in place.
    const goals = page.getByRole('table', { name: 'HHS performance goals' });
    assert.equal(await goals.locator('tbody tr').count(), card.goals!.length);
    const mfa = card.goals!.find((g) => /multifactor/i.test(g.title))!;
    await goals
      .getByRole('row')
      .filter({ hasText: mfa.title })
      .getByRole('cell', { name: `${Math.round(mfa.score * 100)}%`, exact: true })
      .waitFor();
    await check(page, 'scorecard', 'scorecard');
  });

  test('the administrator attests the network item with a note, a review date and an evidence file, confirmed; measured, it is in place', async () => {
    const page = await pageOf('ann');
    await page.getByRole('link', { name: 'Network management', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Network management' }).waitFor();
    const item = page.getByRole('article').filter({ hasText: 'Separate and protect the network' });
    await item.getByText('Missing (needs an attestation)').waitFor();
    await item.getByText(/Next step: Not measured by Carewall/).waitFor();
    await check(page, 'practice (before)');

    await item.getByRole('button', { name: 'Attest…' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText('This will be recorded with your name, ann').waitFor();
    const record = dialog.getByRole('button', { name: 'Record the attestation' });
    await dialog.getByRole('radio', { name: /^In place/ }).check();
    await dialog.getByLabel(/^What was checked/).fill('short');
    assert.equal(await record.isDisabled(), true, 'a note of at least ten characters is needed');
    await dialog.getByLabel(/^What was checked/).fill('Guest Wi-Fi and the equipment VLAN checked with the ISP');
    const review = new Date(Date.now() + 180 * DAY).toISOString().slice(0, 10);
    await dialog.getByLabel('Review date').fill(review);
    await dialog.getByText(/it expires and the item counts as missing/).waitFor();
    await dialog.getByLabel('Evidence file (optional)').setInputFiles({ name: 'network-check.txt', mimeType: 'text/plain', buffer: EVIDENCE });
    assert.equal((await p().listAttestations(who.ann)).filter((a) => a.item === 'hicp-6.s.a').length, 0, 'nothing is recorded before the confirmation');
    await check(page, 'attest dialog', 'attest-dialog');
    await record.click();
    await page.getByRole('status').filter({ hasText: 'Attestation recorded for “Separate and protect the network' }).waitFor();

    const held = (await p().listAttestations(who.ann)).find((a) => a.item === 'hicp-6.s.a');
    assert.ok(held, 'the attestation was recorded');
    assert.deepEqual(
      [held.owner, held.status, held.note, held.expiresAt.slice(0, 10), held.evidenceSha256],
      ['ann', 'compliant', 'Guest Wi-Fi and the equipment VLAN checked with the ISP', review, crypto.createHash('sha256').update(EVIDENCE).digest('hex')],
    );
    // Until measured, the scorecard shown is the one measured before, and says so.
    await item.getByText('Missing (needs an attestation)').waitFor();
    await page.getByRole('button', { name: 'Measure now' }).click();
    await page.getByRole('status').filter({ hasText: 'Measured again just now' }).waitFor();
    await item.getByText('In place (attested)').waitFor();
    await item.getByText(/^ann: Guest Wi-Fi and the equipment VLAN checked with the ISP \(evidence file sha256/).waitFor();
    await page.getByText('Score 100%: in place.').waitFor();
    await check(page, 'practice (after)', 'practice');
  });

  test('a privacy officer reads the trend, drawn and as a table, and the attestations with the expired one marked', async () => {
    const page = await pageOf('pia');
    await page.getByRole('link', { name: 'Posture', exact: true }).click();
    await page.getByRole('img', { name: 'Practices in place over time' }).waitFor();
    const history = await p().history(who.pia);
    assert.ok(history.length >= 5, 'three seeded snapshots, the administrator’s visit and her measurement');
    const table = page.getByRole('table', { name: 'Practices in place, snapshot by snapshot' });
    const rows = table.locator('tbody tr');
    await rows.nth(history.length - 1).waitFor();
    assert.equal(await rows.count(), history.length);
    assert.deepEqual(
      await table.locator('tbody td').allTextContents(),
      history.map((h) => `${h.inPlace} of ${h.total}`),
    );
    // Governance attested between the first two snapshots: the trend rose.
    assert.ok(history[1].inPlace > history[0].inPlace, 'the seeded trend rises');

    const attestations = page.getByRole('table').filter({ has: page.getByRole('columnheader', { name: 'Review by' }) });
    const expired = attestations.getByRole('row').filter({ hasText: 'Have an incident response plan' });
    await expired.getByText('Expired: no longer counts').waitFor();
    const network = attestations.getByRole('row').filter({ hasText: 'Separate and protect the network' });
    await network.getByRole('cell', { name: 'ann', exact: true }).waitFor();
    assert.equal(await network.getByText('Expired').count(), 0);
    // The evidence file behind the administrator's attestation, downloaded as she gave it.
    const [download] = await Promise.all([page.waitForEvent('download'), network.getByRole('button', { name: 'Download the evidence' }).click()]);
    assert.equal(download.suggestedFilename(), 'network-check.txt');
    assert.deepEqual(fs.readFileSync(await download.path()), EVIDENCE);
    await check(page, 'trend and attestations (privacy officer)');
  });

  test('a nurse has no Posture section and is refused at /posture', async () => {
    const page = await pageOf('ned');
    await page.getByRole('link', { name: 'My awareness' }).waitFor();
    assert.equal(await page.getByRole('link', { name: 'Posture', exact: true }).count(), 0);
    await page.goto(s.url + '/posture');
    await page.getByRole('heading', { name: 'Not for your role' }).waitFor();
    await page.getByText('Posture is for administrators, privacy officers and security administrators.').waitFor();
    assert.equal(await page.locator('h2.headline').count(), 0, 'nothing of the scorecard is shown');
    await check(page, 'refused (nurse)');
  });

  test('no accessibility violations on the posture screens (axe-core, every impact)', () => {
    assert.ok(Object.keys(violations).length >= 6, 'the screens were checked');
    assert.deepEqual(violations, Object.fromEntries(Object.keys(violations).map((k) => [k, []])));
  });
});
