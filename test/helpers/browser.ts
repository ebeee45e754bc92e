/**
 * Debian's Chromium driven by playwright-core, for the console's end-to-end tests. Never a
 * downloaded browser: .ci/run installs the Debian package when it is missing.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { currentOtp } from './harness.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const haveChromium = () => fs.existsSync(CHROMIUM);

export function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // As root, with the machine's closed network: no sandbox, no background connections.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
}

const axeSource = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** axe-core's violations of every impact on the page as it is now (WCAG 2.1 A and AA rules). */
export async function allViolations(page: Page): Promise<string[]> {
  return (await axeRun(page)).map((v) => `${v.id} (${v.impact}): ${v.targets.join(', ')}`);
}

/** axe-core's serious and critical violations on the page as it is now (WCAG 2.1 A and AA rules). */
export async function seriousViolations(page: Page): Promise<string[]> {
  const violations = await axeRun(page);
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.impact}): ${v.targets.join(', ')}`);
}

async function axeRun(page: Page): Promise<Array<{ id: string; impact: string; targets: string[] }>> {
  await page.addScriptTag({ content: axeSource });
  return page.evaluate(async () => {
    const axe = (
      window as unknown as {
        axe: { run: (ctx: unknown, opts: unknown) => Promise<{ violations: Array<{ id: string; impact: string; nodes: Array<{ target: string[] }> }> }> };
      }
    ).axe;
    const r = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, targets: v.nodes.map((n) => n.target.join(' ')).slice(0, 3) }));
  });
}

/**
 * One signed-in tab per user, opened on first use: a second-factor code is accepted once (replay
 * protection), so each user signs in once. The tab asked for is brought to the front, as for the
 * person using it: Chromium throttles a background tab's animation frames, and each action then
 * waits about two seconds for the page to be stable.
 */
export function signedInTabs(context: BrowserContext, url: () => string, password: string, totpOf: (username: string) => string | undefined) {
  const pages = new Map<string, Page>();
  return async (username: string): Promise<Page> => {
    let page = pages.get(username);
    if (!page) {
      page = await context.newPage();
      await page.goto(url() + '/');
      await page.getByLabel('Username').fill(username);
      await page.getByLabel('Password').fill(password);
      const totp = totpOf(username);
      if (totp) await page.getByLabel('Authenticator code').fill(currentOtp(totp));
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('button', { name: 'Sign out' }).waitFor();
      pages.set(username, page);
    }
    await page.bringToFront();
    return page;
  };
}
