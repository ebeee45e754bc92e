/**
 * The demo clinic's posture history: what its owners attested over the last two months (an incident
 * response plan, the network's separation, written policies...), and a snapshot of the scorecard
 * every five days, so the trend rises as a real clinic's would, imperfect today (backups only
 * just set up, by `carewall demo` once the clinic is seeded, and no restore tested yet; no phishing
 * campaign yet) and honest about it.
 */
import { frameworkById } from '../posture/index.js';
import type { Carewall } from '../runtime.js';
import type { Who } from '../shared/index.js';

const DAY = 86_400_000;

/** Items a small clinic's people vouch for, how many days ago, and what they checked. */
const ATTESTED: Array<{ item: string; daysAgo: number; note: string; status?: 'compliant' | 'partial' }> = [
  { item: 'hicp-8.s.a', daysAgo: 56, note: 'Incident response plan written and the call list tested with the IT supplier' },
  { item: 'hicp-10.s.a', daysAgo: 48, note: 'Security policies approved by the partners and read by all staff (signed list)' },
  { item: 'hicp-6.s.a', daysAgo: 35, note: 'Guest Wi-Fi separated; medical equipment on its own network, checked with the ISP', status: 'partial' },
  { item: 'hicp-5.s.b', daysAgo: 21, note: 'Retired laptops wiped with certificates from the recycler' },
  { item: 'hicp-1.s.a', daysAgo: 12, note: 'Mail filtering and sign-in with a second factor confirmed with the mail provider' },
];

export async function seedPosture(cw: Carewall, now: Date): Promise<void> {
  const owner: Who = { accountId: 'demo', username: 'it-lead', roles: ['admin'] };
  const items = new Set(frameworkById('hicp', '2023')?.practices.flatMap((p) => p.items.map((i) => i.id)) ?? []);
  const plan = ATTESTED.filter((a) => items.has(a.item));
  for (let daysAgo = 60; daysAgo >= 0; daysAgo -= 5) {
    const at = new Date(now.getTime() - daysAgo * DAY);
    for (const a of plan.filter((x) => x.daysAgo <= daysAgo + 4 && x.daysAgo > daysAgo - 1)) {
      await cw.posture.attest(
        owner,
        { item: a.item, status: a.status ?? 'compliant', note: a.note, expiresAt: new Date(at.getTime() + 365 * DAY).toISOString() },
        at,
      );
    }
    await cw.posture.measure(at);
  }
}
