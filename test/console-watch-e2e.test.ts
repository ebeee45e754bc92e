/**
 * The watch list and what closed cases taught, in Debian's Chromium: after a live scan a privacy
 * officer sees, below the alerts, the nurse's unusual look named as people know her, said not to be
 * an accusation, with its chance in words and the evidence; she opens a case from it with a reason;
 * closing that case as a false positive shows in the list of what the monitor learnt. axe-core clean.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { WEB_ROOT } from '../src/http/consoleRoutes.js';
import { PASSWORD, startTestServer, type TestServer } from './helpers/harness.js';
import { haveChromium, launch, seriousViolations, signedInTabs } from './helpers/browser.js';
import { appendAccesses, loadResources } from './helpers/liveClinic.js';
import { clinicWith, SNOOP } from './helpers/streetClinic.js';

const skip = !haveChromium()
  ? 'Debian chromium is not installed (.ci/run installs it)'
  : !fs.existsSync(path.join(WEB_ROOT, 'index.html'))
    ? 'the console is not built (npm install builds it)'
    : false;

describe('the console: the watch list', { skip }, () => {
  let s: TestServer;
  let browser: Browser;
  let context: BrowserContext;
  const totp: Record<string, string> = {};
  let tabs: ((username: string) => Promise<Page>) | undefined;
  const pageOf = (username: string) =>
    (tabs ??= signedInTabs(
      context,
      () => s.url,
      PASSWORD,
      (u) => totp[u],
    ))(username);

  before(async () => {
    s = await startTestServer();
    const clinic = clinicWith('Lilac Road');
    await appendAccesses(s, clinic, await loadResources(s, clinic, Date.now()));
    totp['po-watch'] = (
      await s.cw.identity.createAccount({ username: 'po-watch', password: PASSWORD, roles: ['privacy-officer'], requireTotp: true })
    ).totpUri!;
    // The nurse has an account too, so the console can name her.
    await s.cw.identity.createAccount({ username: 'nurse-ash', password: PASSWORD, roles: ['nurse'], practitioner: `Practitioner/${SNOOP}` });
    await s.cw.monitor.scanNow();
    browser = await launch();
    // axe-core is injected as an inline script, which the console's CSP refuses (as it should).
    context = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 860 } });
  });

  after(async () => {
    await browser?.close();
    await s?.close();
  });

  test('an entry named, in words, with why; a case opened from it; the closure shows in what was learnt', async () => {
    const page = await pageOf('po-watch');
    await page.getByRole('link', { name: 'Alerts and cases' }).click();
    await page.getByRole('heading', { name: 'Watch list' }).waitFor();
    await page.getByText(/not accusations/).waitFor();
    const entry = page.getByRole('listitem', { name: /watch-list entry: Ash Streetnurse1 \(nurse-ash\), a neighbour/ });
    await entry.waitFor();
    const text = await entry.innerText();
    assert.match(text, /1 patient/);
    assert.match(text, /about 1 in \d+ under this hospital's own rates/);
    assert.ok(!text.includes('Practitioner/'), 'named, not an identifier');
    await entry.getByText('Why it ranked here').click();
    await entry
      .getByText(/are neighbours/)
      .first()
      .waitFor();
    const violations = await seriousViolations(page);
    assert.deepEqual(violations, [], violations.join('\n'));

    // A case needs a reason.
    const open = entry.getByRole('button', { name: /Open case for Ash Streetnurse1/ });
    assert.equal(await open.isDisabled(), true);
    await entry.getByLabel('Why open a case').fill('her neighbour asked who read his chart');
    await open.click();
    await page.getByRole('heading', { name: 'Evidence' }).waitFor();
    await page.getByText('opened from the watch list: her neighbour asked who read his chart').waitFor();

    await page.getByLabel('Decision').selectOption('false-positive');
    await page.getByLabel('What was found').fill('she delivered his post; opened the wrong chart and closed it');
    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Close case' }).click();
    await page.getByText('closed: false-positive').first().waitFor();
    await page.getByRole('link', { name: '← All alerts and cases' }).click();
    const learnt = page.getByRole('list', { name: 'Patterns weighed down' });
    await learnt.waitFor();
    assert.match(await learnt.innerText(), /a neighbour for nurse, Cardiology: 2× less alarming/);
    assert.match(
      await page.getByRole('list', { name: 'Changes' }).innerText(),
      /po-watch closed a case as a false positive; a neighbour for nurse, Cardiology went from 1× to 2×/,
    );
    assert.deepEqual(await seriousViolations(page), []);
  });
});
