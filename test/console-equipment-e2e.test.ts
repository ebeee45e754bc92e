/**
 * The biomedical engineers' equipment screens end to end, in Debian's Chromium: the test lab's
 * result recorded, and a life-critical release approved by two engineers, each downloading the file
 * to sign, signing it with their own key on "their own computer" (`carewall updates sign`, run by the
 * test) and confirming in the console; and axe-core on each screen.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { WEB_ROOT } from '../src/http/consoleRoutes.js';
import { SYSTEM, type Who } from '../src/shared/index.js';
import { fileURLToPath } from 'node:url';
import { PASSWORD, startTestServer, tempDir, type TestServer } from './helpers/harness.js';
import { haveChromium, launch, seriousViolations, signedInTabs } from './helpers/browser.js';
import { Ceremony, imageBytes } from './helpers/updates.js';

const skip = !haveChromium()
  ? 'Debian chromium is not installed (.ci/run installs it)'
  : !fs.existsSync(path.join(WEB_ROOT, 'index.html'))
    ? 'the console is not built (npm install builds it)'
    : false;

const SBOM = { bomFormat: 'CycloneDX', specVersion: '1.5', components: [{ name: 'zlib', version: '1.3.1' }] };

describe('equipment screens in the console', { skip }, () => {
  let s: TestServer;
  let browser: Browser;
  let context: BrowserContext;
  let work: string;
  let c: Ceremony;
  const totp: Record<string, string> = {};
  const who: Record<string, Who> = {};
  const violations: Record<string, string[]> = {};
  let awaiting = '';
  let quarantined = '';

  // Each user signs in once, in a tab of their own (helpers/browser.ts).
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
    work = tempDir('carewall-e2e-equipment-');
    c = new Ceremony(work, s.dataDir, { insideServer: s.cw });
    for (const h of ['root-a', 'root-b', 'root-c', 'targets', 'alice', 'bob']) await c.keygen(h);
    await c.approve(
      await c.propose(
        ['updates', 'init-root', '--root-key', 'root-a.key.pub', 'root-b.key.pub', 'root-c.key.pub', '--targets-key', 'targets.key.pub'],
        'root-1.json',
      ),
      ['root-a', 'root-b'],
    );
    for (const [username, roles] of [
      ['alice', ['biomedical-engineer']],
      ['bob', ['biomedical-engineer']],
      ['it-admin', ['admin']],
    ] as const) {
      const made = await s.cw.identity.createAccount({ username, password: PASSWORD, roles: [...roles], requireTotp: true });
      totp[username] = made.totpUri!;
      who[username] = (await s.cw.identity.describeAccount(username))!.who;
    }
    const r = s.cw.releases;
    for (const e of ['alice', 'bob']) await r.engineers.registerKey(who[e], fs.readFileSync(path.join(work, `${e}.key.pub`), 'utf8'));
    await r.engineers.addClass(who['it-admin'], 'ventilator', true);
    for (const e of ['alice', 'bob']) await r.engineers.assign(who['it-admin'], 'ventilator', e);
    const delegation = await r.proposeDelegation(who['it-admin'], 'ventilator');
    fs.writeFileSync(path.join(work, 'delegation.json'), delegation.unsigned);
    await c.approve('delegation.json', ['targets']);
    const vendor = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const { keyid } = await r.addVendorKey(who['it-admin'], 'Acme Medical', vendor.publicKey.export({ type: 'spki', format: 'pem' }) as string);
    const upTo = async (name: string, counter: number, labNote?: string) => {
      const bytes = imageBytes(name, 4096);
      const made = await r.create(who.alice, {
        deviceClass: 'ventilator',
        name,
        version: `${counter}.0`,
        hardwareIds: ['HW-V2'],
        releaseCounter: counter,
        minUpgradeFrom: '1.0',
        vendorKeyId: keyid,
        vendorSignature: crypto.sign('sha256', bytes, vendor.privateKey).toString('base64'),
      });
      const file = path.join(work, name);
      fs.writeFileSync(file, bytes);
      await r.putImage(who.alice, made.id, file);
      await r.putSbom(who.alice, made.id, SBOM);
      if (labNote) await r.labSignoff(who.alice, made.id, { passed: true, note: labNote });
      return made.id;
    };
    awaiting = await upTo('fw-2.0.img', 2, 'passed the breathing-circuit bench test');
    quarantined = await upTo('fw-2.1.img', 3);
    browser = await launch();
    context = await browser.newContext({ bypassCSP: true, acceptDownloads: true, viewport: { width: 1280, height: 860 } });
  });

  after(async () => {
    await browser?.close();
    await s?.close();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  /** In `username`'s tab: download the file to sign, sign it with their key, upload, confirm. */
  const approveInConsole = async (username: string) => {
    const page = await pageOf(username);
    await page.getByRole('link', { name: 'Equipment releases' }).click();
    const row = page.getByRole('row').filter({ hasText: 'fw-2.0.img' });
    await row.getByRole('button', { name: 'Approve…' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText('the breathing-circuit bench test').waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), dialog.getByRole('button', { name: 'Download the file to sign' }).click()]);
    const unsigned = `${username}-unsigned.json`;
    await download.saveAs(path.join(work, unsigned));
    const signature = await c.sign(username, unsigned);
    await dialog.getByLabel('Your signature file').setInputFiles(path.join(work, signature));
    await dialog.getByRole('button', { name: 'Confirm my approval' }).click();
    return { page, dialog };
  };

  test('two engineers approve a life-critical release, each with their own key; it is then released', async () => {
    const first = await approveInConsole('alice');
    await first.dialog.getByRole('status').filter({ hasText: 'Approved: 1 of 2 (alice)' }).waitFor();
    violations['approve dialog'] = await seriousViolations(first.page);
    await first.dialog.getByRole('button', { name: 'Close' }).click();
    // Alice has approved: the button is gone for her; the release waits for a second engineer.
    const row = first.page.getByRole('row').filter({ hasText: 'fw-2.0.img' });
    await row.getByText('1 of 2 (alice)').waitFor();
    assert.equal(await row.getByRole('button', { name: 'Approve…' }).count(), 0);

    const second = await approveInConsole('bob');
    await second.dialog.getByRole('status').filter({ hasText: 'Approved and released' }).waitFor();
    assert.equal((await s.cw.releases.get(who.bob, awaiting)).state, 'published');
  });

  test('a signature file that is not one is refused in words, and nothing is sent', async () => {
    const page = await pageOf('alice');
    await page.reload();
    await page.getByRole('link', { name: 'Equipment releases' }).click();
    const row = page.getByRole('row').filter({ hasText: 'fw-2.1.img' });
    await row.getByRole('button', { name: "Record the test lab's result" }).click();
    const dialog = page.getByRole('dialog');
    const record = dialog.getByRole('button', { name: 'Record the result' });
    assert.equal(await record.isDisabled(), true, 'no result chosen yet');
    await dialog.getByLabel('Passed: propose it for approval').check();
    await dialog.getByLabel('What the lab found').fill('alarm limits hold on three units');
    await record.click();
    await row.getByText("Waiting for engineers' approval").waitFor();
    await row.getByRole('button', { name: 'Approve…' }).click();
    fs.writeFileSync(path.join(work, 'not-a-signature.json'), 'hello');
    await dialog.getByLabel('Your signature file').setInputFiles(path.join(work, 'not-a-signature.json'));
    await dialog.getByRole('alert').filter({ hasText: 'not a signature file' }).waitFor();
    assert.equal(await dialog.getByRole('button', { name: 'Confirm my approval' }).isDisabled(), true);
    violations['releases'] = await seriousViolations(page);
    assert.deepEqual((await s.cw.releases.get(who.alice, quarantined)).approvals?.signedBy, []);
  });

  test('the administrator sets up a class, assigns an engineer and carries in the targets signature that makes devices trust them', async () => {
    const page = await pageOf('it-admin');
    await page.getByRole('link', { name: 'Equipment classes' }).click();
    await page.getByLabel('Name (lower-case, e.g. infusion-pump)').fill('infusion-pump');
    await page.getByRole('button', { name: 'Add the class' }).click();
    const row = page.getByRole('row').filter({ hasText: 'infusion-pump' });
    await row.getByText('not yet: prepare the delegation').waitFor();
    await row.getByLabel('Username of the engineer to assign to infusion-pump').fill('bob');
    await row.getByRole('button', { name: 'Assign' }).click();
    await page.getByRole('status').filter({ hasText: 'bob is assigned to infusion-pump' }).waitFor();
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      row.getByRole('button', { name: 'Prepare the delegation for infusion-pump' }).click(),
    ]);
    await download.saveAs(path.join(work, 'pump-delegation.json'));
    const signature = await c.sign('targets', 'pump-delegation.json');
    await page.getByLabel('Signature file (from carewall updates sign)').setInputFiles(path.join(work, signature));
    await page.getByRole('button', { name: 'Add the signature' }).click();
    await page.getByRole('status').filter({ hasText: 'signed and published: devices trust it now' }).waitFor();
    await row.getByText('yes, 1 key(s)').waitFor();
    assert.equal(await s.cw.releases.engineers.mayRelease(who.bob, 'infusion-pump'), true);
    // Removing an engineer is confirmed, and says what it does and does not do yet.
    await row.getByRole('button', { name: 'Remove bob' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText('Devices stop trusting their key only when a new delegation').waitFor();
    violations['equipment classes'] = await seriousViolations(page);
    await dialog.getByRole('button', { name: 'Remove bob' }).click();
    await row.getByText('the assignments changed since').waitFor();
    assert.equal(await s.cw.releases.engineers.mayRelease(who.bob, 'infusion-pump'), false);
  });

  test('the fleet shows each device in words; an uncertain advisory match is rejected with a reason', async () => {
    await s.cw.inventory.importCsv(
      SYSTEM,
      'device_id,vendor,model,hardware_id,class,life_critical,maintenance_days,maintenance_start,maintenance_end,time_zone\n' +
        'vent-a,Breathe Systems,AirLife 2,HW-V2,ventilator,yes,daily,00:00,00:00,UTC\n' +
        'vent-b,Breathe Systems,AirLife 2,HW-V2,ventilator,yes,daily,00:00,00:00,UTC\n' +
        'pump-x,Acme Medical,Infusa 500,HW-A,infusion-pump,yes,,,,\n',
    );
    for (const id of ['vent-a', 'vent-b']) {
      const { publicKey } = crypto.generateKeyPairSync('ed25519');
      await s.cw.updates.devices.add({
        id,
        deviceClass: 'ventilator',
        hardwareId: 'HW-V2',
        publicHex: publicKey.export({ format: 'der', type: 'spki' }).subarray(12).toString('hex'),
      });
    }
    await s.cw.advisories.import(
      SYSTEM,
      JSON.parse(fs.readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'csaf', 'icsma-pump.json'), 'utf8')),
    );
    const page = await pageOf('alice');
    await page.goto(s.url + '/equipment'); // a fresh screen: no dialog left open from before
    const pump = page.getByRole('row').filter({ hasText: 'pump-x' });
    await pump.getByText('Acme Medical Infusa 500').waitFor();
    await pump.getByText('not registered for updates').waitFor();
    await pump.getByText('1 open, up to high').waitFor();
    await pump.getByRole('button', { name: 'Advisories for pump-x' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText('possible match: please check').first().waitFor();
    violations['fleet'] = await seriousViolations(page);
    await dialog.getByRole('button', { name: 'Decide on CVE-2026-10001' }).first().click();
    await dialog.getByRole('combobox', { name: /^Decision/ }).selectOption('rejected');
    const record = dialog.getByRole('button', { name: 'Record my decision' });
    assert.equal(await record.isDisabled(), true, 'a reason is needed first');
    await dialog.getByLabel('Your reasons (kept with the decision)').fill('this pump runs the 700 board, checked on site');
    await record.click();
    await dialog.getByText('rejected by an engineer').first().waitFor();
  });

  test('a rollout starts with its canary, confirmed; the halt switch stops it and says why', async () => {
    const page = await pageOf('alice');
    await page.goto(s.url + '/equipment');
    await page.getByRole('link', { name: 'Rollouts' }).click();
    await page.getByLabel('Released update').selectOption('ventilator.fw-2.0.img');
    await page.getByLabel('Canary: the device that installs it first').selectOption('vent-a');
    await page.getByRole('button', { name: 'Start…' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Start the rollout' }).click();
    const card = page.locator('.card').filter({ hasText: 'fw-2.0.img to ventilators' });
    await card.getByText('Canary (open): vent-a').waitFor();
    await card.getByText('Wave 2 (waiting): vent-b').waitFor();
    violations['rollouts'] = await seriousViolations(page);
    await card.getByRole('button', { name: 'Halt this rollout' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText('No device will be told to install this update').waitFor();
    await dialog.getByLabel('Why (kept with the rollout)').fill('alarm fatigue reports from the ward');
    await dialog.getByRole('button', { name: 'Halt now' }).click();
    await page.getByRole('alert').filter({ hasText: 'HALTED' }).waitFor();
    const [rollout] = await s.cw.director.rollouts.list();
    assert.equal(rollout.state, 'halted');
    assert.equal(await s.cw.director.rollouts.assignedTo({ id: 'vent-a', deviceClass: 'ventilator' }), undefined);
  });

  test('no serious accessibility violations on the equipment screens (axe-core)', () => {
    assert.ok(Object.keys(violations).length >= 5, 'the screens were checked');
    assert.deepEqual(violations, Object.fromEntries(Object.keys(violations).map((k) => [k, []])));
  });
});
