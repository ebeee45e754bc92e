/**
 * The demo clinic as a new user meets it (`carewall demo`), in Debian's Chromium: the header names the
 * person and their role in words; the clinic overview shows the demo's backup and the accounts a
 * password alone opens by name; the patient list says where one is ("Patients 26–50 of 146"); an empty
 * review queue says what it means; and after an attack on the demo's share, the restore command File
 * shares shows, copied from the screen and run as it stands, brings the files back. axe-core on each.
 * SCREENSHOTS=DIR saves the demo's File shares during an attack (docs/screenshots/file-shares-undo.png).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { WEB_ROOT } from '../src/http/consoleRoutes.js';
import { call, currentOtp, tempDir } from './helpers/harness.js';
import { haveChromium, launch, seriousViolations } from './helpers/browser.js';
import { runCli, startCli, type CliServer } from './helpers/cli.js';
import { until } from './helpers/poll.js';
import { attackCounted, demoDecoys, filesOf, firstScheduledBackup, sha256 } from './helpers/demoShare.js';

const skip = !haveChromium()
  ? 'Debian chromium is not installed (.ci/run installs it)'
  : !fs.existsSync(path.join(WEB_ROOT, 'index.html'))
    ? 'the console is not built (npm install builds it)'
    : false;
const SHOTS = process.env.SCREENSHOTS;

interface Login {
  username: string;
  password: string;
  roles: string[];
  totpUri?: string;
}

describe('the demo clinic in the console', { skip }, () => {
  let dataDir: string;
  let demo: CliServer;
  let browser: Browser;
  let context: BrowserContext;
  let logins: Login[];
  const violations: Record<string, string[]> = {};
  const holder = (role: string) => logins.find((l) => l.roles.includes(role))!;

  // One tab per person, signed in once (a second-factor code is accepted once).
  const tabs = new Map<string, Page>();
  const pageOf = async (login: Login): Promise<Page> => {
    let page = tabs.get(login.username);
    if (!page) {
      page = await context.newPage();
      await page.goto(demo.url + '/');
      await page.getByLabel('Username').fill(login.username);
      await page.getByLabel('Password').fill(login.password);
      if (login.totpUri) await page.getByLabel('Authenticator code').fill(currentOtp(login.totpUri));
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('button', { name: 'Sign out' }).waitFor();
      tabs.set(login.username, page);
    }
    await page.bringToFront();
    return page;
  };
  const tokenOf = async (login: Login) => (await pageOf(login)).evaluate(() => sessionStorage.getItem('carewall.token')!);
  const nameOf = async (login: Login) => (await call(demo.url, 'GET', '/api/me', { token: await tokenOf(login) })).body.name as string;

  before(async () => {
    dataDir = path.join(tempDir(), 'demo');
    demo = await startCli(['demo', '--data-dir', dataDir, '--port', '0', '--patients', '30']);
    logins = JSON.parse(fs.readFileSync(path.join(dataDir, 'demo-logins.json'), 'utf8'));
    browser = await launch();
    // axe-core is injected as an inline script, which the console's CSP refuses (as it should).
    context = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 860 } });
  });

  after(async () => {
    await browser?.close();
    await demo?.kill('SIGTERM');
    if (dataDir) fs.rmSync(path.dirname(dataDir), { recursive: true, force: true });
  });

  test('the header names the person and says their role in words', async () => {
    for (const [role, words] of [
      ['physician', 'physician'],
      ['biomedical-engineer', 'biomedical engineer'],
      ['privacy-officer', 'privacy officer'],
    ] as const) {
      const login = holder(role);
      const page = await pageOf(login);
      const name = await nameOf(login);
      assert.notEqual(name, login.username, `${login.username} is linked to a practitioner with a name`);
      assert.equal((await page.locator('.who > span').first().innerText()).trim(), `${name} (${login.username}, ${words})`);
    }
  });

  test("the clinic overview shows the demo's backup and names the accounts a password alone opens", async () => {
    const admin = logins.find((l) => l.roles.includes('admin') && l.username !== 'admin')!;
    const page = await pageOf(admin);
    await page.getByRole('link', { name: 'Clinic overview' }).click();
    const backup = page.getByText(/^Last good backup .*; one is made every 24 hours\.$/);
    await backup.waitFor();
    assert.equal(await backup.getAttribute('class'), 'ok');
    await page.getByText(`Repository: ${path.join(dataDir, 'backups')}`).waitFor();
    const nurse = holder('nurse');
    const card = page.locator('.card').filter({ has: page.getByRole('heading', { name: 'Sign-in' }) });
    await card
      .getByRole('listitem')
      .filter({ hasText: `${await nameOf(nurse)} (${nurse.username}, nurse)` })
      .waitFor();
    violations['clinic overview'] = await seriousViolations(page);
  });

  test('the patient list says where one is, and an empty review queue says what it means', async () => {
    const desk = holder('receptionist');
    const page = await pageOf(desk);
    const total = (await call(demo.url, 'GET', '/api/my-patients?count=1', { token: await tokenOf(desk) })).body.total as number;
    assert.ok(total > 25, `more than a page of patients (${total})`);
    const pager = page.getByRole('navigation', { name: 'pages of patients' });
    await pager.getByText(`Patients 1–25 of ${total}`).waitFor();
    await pager.getByRole('button', { name: 'Next' }).click();
    await pager.getByText(`Patients 26–${Math.min(50, total)} of ${total}`).waitFor();
    violations['patient list'] = await seriousViolations(page);
    const officer = await pageOf(holder('privacy-officer'));
    await officer.getByRole('link', { name: 'Break-the-glass review' }).click();
    await officer.getByText('No emergency accesses wait for review.').waitFor();
    violations['review queue, empty'] = await seriousViolations(officer);
  });

  test('after an attack on the share, the command File shares shows, run as it stands, brings the files back', async () => {
    const share = path.join(dataDir, 'shares', 'documents');
    const security = holder('security-admin');
    await firstScheduledBackup(dataDir);
    await until('the guard watching', async () => (await call(demo.url, 'GET', '/api/guard', { token: await tokenOf(security) })).body.watching === true);
    const before = new Map(filesOf(share).map((f) => [f, sha256(f)]));
    const attack = await runCli(['guard', 'simulate', '--dir', share, '--behaviour', 'overwrite', '--limit', '10', '--pace', '0']);
    assert.equal(attack.code, 0, attack.stderr);
    const changed = [...before].filter(([f, h]) => sha256(f) !== h).map(([f]) => f);
    assert.ok(changed.length >= 5, `the attack changed files (${changed.length})`);
    await attackCounted(
      dataDir,
      changed,
      async () => (await call(demo.url, 'GET', '/api/guard', { token: await tokenOf(security) })).body.incident?.affected ?? 0,
    );

    const page = await pageOf(security);
    await page.getByRole('link', { name: 'File shares' }).click();
    const incident = page.getByRole('alert').filter({ has: page.getByRole('heading', { name: 'Incident under way' }) });
    await incident.waitFor();
    const command = (await incident.locator('code').innerText()).trim();
    assert.match(command, /^npx carewall backup restore /);
    assert.doesNotMatch(command, /REPOSITORY|RECOVERY-KEY-FILE|FOLDER/, 'real paths, no placeholders');
    await incident.getByText(/This demo keeps its recovery key in its data folder/).waitFor();
    violations['file shares, under attack'] = await seriousViolations(page);
    if (SHOTS) {
      fs.mkdirSync(SHOTS, { recursive: true });
      await page.screenshot({ path: path.join(SHOTS, 'file-shares-undo.png'), fullPage: true });
    }

    // Typed as shown (the demo's paths have no spaces), by someone at the server.
    const restore = await runCli(command.split(/\s+/).slice(2));
    assert.equal(restore.code, 0, restore.stderr);
    // The clinic's files, that is: the guard's decoys are not in the backups, and stay as the attack left them.
    const decoys = new Set(demoDecoys(dataDir));
    const clinicFiles = changed.filter((f) => !decoys.has(f));
    assert.ok(clinicFiles.length > 0, 'clinic files were among those attacked');
    for (const f of clinicFiles) assert.equal(sha256(f), before.get(f), `${path.relative(share, f)} has its content back`);
  });

  test('no serious accessibility violations on these screens (axe-core)', () => {
    assert.ok(Object.keys(violations).length >= 4, 'every screen was checked');
    assert.deepEqual(
      Object.entries(violations).filter(([, v]) => v.length > 0),
      [],
    );
  });
});
