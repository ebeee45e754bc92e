/**
 * The console at the bedside, in Debian's Chromium: a chart's observations as people write them
 * (blood pressure "120/80 mmHg", °C, an age beside the birth date, abnormal values said in words,
 * blood pressure's two lines in the trend); a clinician finding any patient in an emergency and
 * breaking the glass two clicks from the result; a privacy officer finding that access
 * inappropriate (confirmed, with a note, and the access ends); every role landing on a screen of its
 * own; and an administrator's account decisions asked for confirmation, a disabled account enabled again.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { WEB_ROOT } from '../src/http/consoleRoutes.js';
import { ROLES, SYSTEM } from '../src/shared/index.js';
import { currentOtp, PASSWORD, startTestServer, type TestServer } from './helpers/harness.js';
import { haveChromium, launch, seriousViolations, signedInTabs } from './helpers/browser.js';

const skip = !haveChromium()
  ? 'Debian chromium is not installed (.ci/run installs it)'
  : !fs.existsSync(path.join(WEB_ROOT, 'index.html'))
    ? 'the console is not built (npm install builds it)'
    : false;

const LOINC = 'http://loinc.org';
const UCUM = 'http://unitsofmeasure.org';
const mmHg = (value: number) => ({ value, unit: 'mm[Hg]', system: UCUM, code: 'mm[Hg]' });

/** Where each role should land (web/src/app.tsx HOME). */
const HOMES: Record<string, string> = {
  physician: '/patients',
  nurse: '/patients',
  receptionist: '/patients',
  billing: '/patients',
  lab: '/patients',
  'biomedical-engineer': '/equipment',
  'privacy-officer': '/privacy/break-glass',
  'security-admin': '/posture',
  'awareness-officer': '/awareness/campaigns',
  admin: '/admin/staff',
};

describe('the console at the bedside', { skip }, () => {
  let s: TestServer;
  let browser: Browser;
  let context: BrowserContext;
  const totp: Record<string, string> = {};
  const violations: Record<string, string[]> = {};
  let mine = '';
  let stranger = '';

  let tabs: ((username: string) => Promise<Page>) | undefined;
  const pageOf = (username: string) =>
    (tabs ??= signedInTabs(
      context,
      () => s.url,
      PASSWORD,
      (u) => totp[u],
    ))(username);

  const observe = (resource: Record<string, unknown>) =>
    s.cw.fhir.create(SYSTEM, 'Observation', { resourceType: 'Observation', status: 'final', subject: { reference: `Patient/${mine}` }, ...resource } as never);

  before(async () => {
    s = await startTestServer();
    const doctor = await s.cw.fhir.create(SYSTEM, 'Practitioner', { resourceType: 'Practitioner', name: [{ family: 'Moreau', given: ['Ines'] }] });
    for (const role of ROLES) {
      const username = `home-${role}`;
      const made = await s.cw.identity.createAccount({
        username,
        password: PASSWORD,
        roles: [role],
        requireTotp: true,
        ...(role === 'physician' ? { practitioner: `Practitioner/${doctor.id}` } : {}),
      });
      totp[username] = made.totpUri!;
    }
    const tenYearsAgo = new Date();
    tenYearsAgo.setFullYear(tenYearsAgo.getFullYear() - 10, 0, 1);
    mine = (
      await s.cw.fhir.create(SYSTEM, 'Patient', {
        resourceType: 'Patient',
        name: [{ family: 'Achebe', given: ['Chidi'] }],
        birthDate: tenYearsAgo.toISOString().slice(0, 10),
        generalPractitioner: [{ reference: `Practitioner/${doctor.id}` }],
      })
    ).id;
    stranger = (
      await s.cw.fhir.create(SYSTEM, 'Patient', {
        resourceType: 'Patient',
        name: [{ family: 'Lindqvist', given: ['Bo'] }],
        birthDate: '1978-09-30',
        identifier: [{ system: 'urn:mrn', value: 'MRN-55120', type: { coding: [{ code: 'MR' }] } }],
      } as never)
    ).id;
    const readings: Array<[number, number, string?]> = [
      [118, 76],
      [132, 84],
      [162, 101, 'H'],
    ];
    for (const [i, [sys, dia, flag]] of readings.entries()) {
      await observe({
        code: { text: 'Blood pressure panel with all children optional', coding: [{ system: LOINC, code: '85354-9' }] },
        effectiveDateTime: new Date(Date.UTC(2026, 3 + i, 1)).toISOString(),
        ...(flag ? { interpretation: [{ coding: [{ code: flag }] }] } : {}),
        component: [
          { code: { coding: [{ system: LOINC, code: '8480-6', display: 'Systolic blood pressure' }] }, valueQuantity: mmHg(sys) },
          { code: { coding: [{ system: LOINC, code: '8462-4', display: 'Diastolic blood pressure' }] }, valueQuantity: mmHg(dia) },
        ],
      });
    }
    await observe({
      code: { text: 'Body temperature', coding: [{ system: LOINC, code: '8310-5' }] },
      effectiveDateTime: new Date(Date.UTC(2026, 6, 2)).toISOString(),
      valueQuantity: { value: 37.2, unit: 'Cel', system: UCUM, code: 'Cel' },
    });
    await observe({
      code: { text: 'Potassium' },
      effectiveDateTime: new Date(Date.UTC(2026, 6, 3)).toISOString(),
      valueQuantity: { value: 2.9, unit: 'mmol/L', system: UCUM, code: 'mmol/L' },
      referenceRange: [{ low: { value: 3.5, unit: 'mmol/L' }, high: { value: 5.1, unit: 'mmol/L' } }],
    });
    await s.cw.fhir.create(SYSTEM, 'Organization', { resourceType: 'Organization', name: 'Cardiology team' } as never);
    await s.cw.fhir.create(SYSTEM, 'Location', { resourceType: 'Location', name: 'Ward 3 East' } as never);
    browser = await launch();
    // axe-core is injected as an inline script, which the console's CSP refuses (as it should).
    context = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 860 } });
  });

  after(async () => {
    await browser?.close();
    await s?.close();
  });

  test('a chart shows blood pressure as written, units as written, an age, and abnormal values in words', async () => {
    const page = await pageOf('home-physician');
    await page.getByRole('link', { name: 'Chidi Achebe' }).click();
    await page.getByRole('heading', { name: 'Chidi Achebe' }).waitFor();
    await page.getByText('(age 10 years)').waitFor();
    // Named as people say it, not by the panel's official long name.
    const bp = page.getByRole('row', { name: /^Blood pressure \d/ });
    assert.equal(await page.getByText('Blood pressure panel').count(), 0);
    await bp.filter({ hasText: '118/76 mmHg' }).waitFor();
    const high = bp.filter({ hasText: '162/101 mmHg' });
    assert.match(await high.innerText(), /High/);
    assert.doesNotMatch(await bp.filter({ hasText: '118/76 mmHg' }).innerText(), /High|Low/);
    assert.equal(await page.getByText('—  —').count(), 0);
    assert.match(await page.getByRole('row', { name: /Body temperature/ }).innerText(), /37\.2 °C/);
    assert.match(await page.getByRole('row', { name: /Potassium/ }).innerText(), /Low \(below 3\.5 mmol\/L\)/);
    // Blood pressure is the first trend, with its two lines named.
    await page.getByLabel('Trend of').selectOption('Blood pressure');
    await page
      .getByRole('img', { name: /Blood pressure: from 76 to 162 mmHg\. Systolic: 3 values, latest 162 mmHg; Diastolic: 3 values, latest 101 mmHg/ })
      .waitFor();
    await page.getByLabel('Trend of').selectOption('Body temperature');
    await page.getByRole('img', { name: /Body temperature: .*°C/ }).waitFor();
    violations.chart = await seriousViolations(page);
  });

  test('a clinician finds any patient and reaches break-the-glass in two clicks from the result', async () => {
    const page = await pageOf('home-physician');
    await page.getByRole('link', { name: 'My patients' }).click();
    const lookup = page.getByRole('search', { name: 'Find any patient' });
    await lookup.getByLabel('Name, birth date or record number').fill('Lindq');
    await lookup.getByRole('button', { name: 'Find' }).click();
    const row = page.getByRole('row', { name: /Bo Lindqvist/ });
    await row.waitFor();
    assert.match(await row.innerText(), /MRN-55120/);
    violations.lookup = await seriousViolations(page);
    // Click one: the result. Click two: break the glass.
    await row.getByRole('link', { name: 'Bo Lindqvist' }).click();
    await page.getByRole('heading', { name: 'Access to this chart is refused' }).waitFor();
    assert.equal(new URL(page.url()).pathname, `/patients/${stranger}`);
    await page.getByRole('button', { name: 'Break the glass…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Emergency access (break the glass)' });
    await dialog.getByLabel('Justification').fill('Collapsed in the waiting room, unresponsive');
    await dialog.getByRole('button', { name: 'Open the chart' }).click();
    await page.getByRole('heading', { name: 'Bo Lindqvist' }).waitFor();
    await page.getByText('MRN-55120').waitFor();
    // The look-up is in the audit log, naming the patient it found.
    const found = await s.cw.audit.search({ patient: stranger, actions: ['lookup'], count: 10, offset: 0 });
    assert.equal(found.total, 1);
    assert.equal(found.entries[0].record.user?.username, 'home-physician');
  });

  test('a short search is refused with a clear message; roles that may not look up are not offered it', async () => {
    const page = await pageOf('home-nurse');
    const lookup = page.getByRole('search', { name: 'Find any patient' });
    await lookup.getByLabel('Name, birth date or record number').fill('Li');
    await lookup.getByRole('button', { name: 'Find' }).click();
    await page.getByRole('alert').filter({ hasText: 'give at least 3 letters of a name, a full birth date (YYYY-MM-DD) or a record number' }).waitFor();
    await lookup.getByLabel('Name, birth date or record number').fill('1978-09-30');
    await lookup.getByRole('button', { name: 'Find' }).click();
    await page.getByRole('row', { name: /Bo Lindqvist/ }).waitFor();
    const reception = await pageOf('home-receptionist');
    await reception.getByRole('heading', { name: 'My patients' }).waitFor();
    assert.equal(await reception.getByRole('search', { name: 'Find any patient' }).count(), 0);
  });

  test('finding an emergency access inappropriate is confirmed, needs a note, and ends the access', async () => {
    const page = await pageOf('home-privacy-officer');
    await page.getByRole('link', { name: 'Break-the-glass review' }).click();
    const card = page.getByRole('listitem', { name: 'emergency access by Ines Moreau' });
    await card.getByRole('button', { name: 'Inappropriate…' }).click();
    const dialog = page.getByRole('dialog', { name: "Find Ines Moreau's emergency access inappropriate" });
    await dialog.getByText('The grant ends at once').waitFor();
    violations.inappropriate = await seriousViolations(page);
    // Without a note the form does not go: the field is required.
    await dialog.getByRole('button', { name: 'End the access and record the finding' }).click();
    assert.equal(await dialog.getByLabel(/Why the access was inappropriate/).evaluate((el) => (el as HTMLTextAreaElement).validity.valid), false);
    await dialog.getByLabel(/Why the access was inappropriate/).fill('No emergency recorded for this patient that day');
    await dialog.getByRole('button', { name: 'End the access and record the finding' }).click();
    await page.getByRole('status').filter({ hasText: 'the grant has ended' }).waitFor();
    await page.getByText('No emergency accesses wait for review.').waitFor();
    const doctor = await pageOf('home-physician');
    await doctor.goto(`${s.url}/patients/${stranger}`);
    await doctor.getByRole('heading', { name: 'Access to this chart is refused' }).waitFor();
  });

  test('every role lands on a screen of its own, never "Not found"', async () => {
    for (const role of ROLES) {
      const page = await pageOf(`home-${role}`);
      await page.goto(s.url + '/');
      await page.waitForURL((u) => u.pathname === HOMES[role]);
      await page.locator('main h1').first().waitFor();
      assert.equal(await page.getByRole('heading', { name: 'Not found' }).count(), 0, role);
    }
  });

  test('disabling, enabling again and resetting a second factor each say what follows and ask first', async () => {
    const page = await pageOf('home-admin');
    await page.getByRole('link', { name: 'Staff accounts' }).click();
    const row = page.getByRole('row', { name: /home-lab/ });
    await row.waitFor();
    const answer = (accept: boolean, expected: RegExp) =>
      new Promise<void>((resolve, reject) =>
        page.once('dialog', (d) => {
          if (!expected.test(d.message())) reject(new Error(`unexpected question: ${d.message()}`));
          void (accept ? d.accept() : d.dismiss()).then(resolve, reject);
        }),
      );
    // Declined: nothing happens.
    let asked = answer(false, /Reset home-lab's second factor\? .*old one stops working/);
    await row.getByRole('button', { name: 'reset second factor of home-lab' }).click();
    await asked;
    asked = answer(false, /Disable home-lab\? They are signed out everywhere/);
    await row.getByRole('button', { name: 'disable home-lab' }).click();
    await asked;
    assert.match(await row.innerText(), /active/);
    asked = answer(true, /Disable home-lab\?/);
    await row.getByRole('button', { name: 'disable home-lab' }).click();
    await asked;
    await row.getByRole('button', { name: 'enable home-lab again' }).waitFor();
    assert.match(await row.innerText(), /disabled/);
    asked = answer(true, /Enable home-lab again\? .*recorded/);
    await row.getByRole('button', { name: 'enable home-lab again' }).click();
    await asked;
    await row.getByRole('button', { name: 'disable home-lab' }).waitFor();
    assert.match(await row.innerText(), /active/);
    const enabled = await s.cw.audit.search({ actions: ['user.enable'], count: 10, offset: 0 });
    assert.equal(enabled.total, 1);
  });

  test('the same team and ward assignment cannot be added twice', async () => {
    const page = await pageOf('home-admin');
    await page.getByRole('link', { name: 'Teams and wards' }).click();
    const form = page.getByRole('form', { name: 'New assignment' });
    await form.getByLabel('Staff member').selectOption({ label: 'Ines Moreau' });
    await form.getByLabel('Care team (department)').selectOption({ label: 'Cardiology team' });
    await form.getByLabel('Ward').selectOption({ label: 'Ward 3 East' });
    await form.getByRole('button', { name: /assign/i }).click();
    await page.getByText('Ines Moreau assigned.').waitFor();
    await form.getByLabel('Staff member').selectOption({ label: 'Ines Moreau' });
    await form.getByLabel('Care team (department)').selectOption({ label: 'Cardiology team' });
    await form.getByLabel('Ward').selectOption({ label: 'Ward 3 East' });
    await form.getByRole('button', { name: /assign/i }).click();
    await page.getByRole('alert').filter({ hasText: 'already has this team and ward assignment' }).waitFor();
  });

  test('anyone changes their own password from the header: typed twice, the current one required, what follows said', async () => {
    const page = await pageOf('home-nurse');
    await page.getByRole('link', { name: 'Change password' }).click();
    await page.getByRole('heading', { name: 'Change password' }).waitFor();
    violations.password = await seriousViolations(page);
    const form = page.getByRole('form', { name: 'Change password' });
    const fill = async (current: string, next: string, again: string) => {
      await form.getByLabel('Current password').fill(current);
      await form.getByLabel(/^New password \(at least/).fill(next);
      await form.getByLabel('New password again').fill(again);
      await form.getByRole('button', { name: 'Change password' }).click();
    };
    const fresh = 'ward three night shift key';
    await fill(PASSWORD, fresh, 'ward three night shift kee');
    await page.getByRole('alert').filter({ hasText: 'The two new passwords are not the same.' }).waitFor();
    await fill('not the password of this nurse', fresh, fresh);
    await page.getByRole('alert').filter({ hasText: 'the current password is not right' }).waitFor();
    await fill(PASSWORD, fresh, fresh);
    await page.getByRole('status').filter({ hasText: 'Your password is changed.' }).waitFor();
    // The new password signs in (with the next second-factor code: this one was used by the tab's sign-in).
    const signIn = await fetch(`${s.url}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'home-nurse', password: fresh, otp: currentOtp(totp['home-nurse'], Date.now() + 30_000) }),
    });
    assert.equal(signIn.status, 201);
    // And this tab is still signed in.
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
  });

  test('no serious accessibility violations on the new screens (axe-core)', () => {
    assert.deepEqual(Object.keys(violations).sort(), ['chart', 'inappropriate', 'lookup', 'password']);
    assert.deepEqual(
      Object.entries(violations).filter(([, v]) => v.length > 0),
      [],
    );
  });
});
