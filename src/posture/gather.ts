/**
 * The facts the checks read, gathered from the other capabilities through what they offer publicly
 * (runtime.ts hands in these functions): accounts and their sessions from identity, each account's
 * practitioner's `active` from the records, backups' runs and restore tests, the guard's state, the
 * awareness programme's last campaign, the keyring's master key, the audit log's verifications.
 * Nothing here reads another capability's tables.
 */
import type { AccountFact, PostureFacts } from './checkTypes.js';
import { insideNetworks, type PostureSettings } from './settings.js';

/** A session as identity reports it. */
export interface SessionSpan {
  username: string;
  address?: string;
  from: Date;
  to: Date;
}

export interface FactSources {
  accounts: () => Promise<Array<Omit<AccountFact, 'practitionerActive' | 'boundToPerson' | 'signIns'> & { practitioner?: string }>>;
  /** Sessions in use since the instant given. */
  sessions: (since: Date) => Promise<SessionSpan[]>;
  /** The practitioner's `active` (undefined when unknown or unreadable). */
  practitionerActive: (ref: string) => Promise<boolean | undefined>;
  backups: () => Promise<PostureFacts['backups']>;
  guard: () => PostureFacts['guard'];
  lastCampaign: () => Promise<PostureFacts['awareness']['lastCampaign']>;
  breakGlass: (now: Date) => Promise<PostureFacts['breakGlass']>;
  chartAccess: (since: Date) => Promise<PostureFacts['chartAccess']>;
  insiderCases: (now: Date) => Promise<PostureFacts['insiderCases']>;
  audit: () => Promise<PostureFacts['audit']>;
  keys: () => Promise<PostureFacts['keys']>;
  equipment: () => Promise<PostureFacts['equipment']>;
  /** The running version, and the latest the release feed names (throws when it cannot be read). */
  version: string;
  latestRelease: (feed: string) => Promise<string>;
}

const WINDOW_DAYS = 30;

/**
 * Per account, from its sessions: how many came from outside the clinic's networks, and the most
 * distinct addresses it was signed in from at one moment (a sweep over the sessions' starts and ends).
 */
export function signInFacts(spans: SessionSpan[], inside: (address: string) => boolean): Map<string, NonNullable<AccountFact['signIns']>> {
  const out = new Map<string, NonNullable<AccountFact['signIns']>>();
  const byUser = new Map<string, SessionSpan[]>();
  for (const s of spans) byUser.set(s.username, [...(byUser.get(s.username) ?? []), s]);
  for (const [username, list] of byUser) {
    const remote = list.filter((s) => s.address !== undefined && !inside(s.address)).length;
    // Ends before starts at the same instant: a session handed over is not two at once.
    const edges = list
      .flatMap((s) => [
        { t: s.from.getTime(), open: true, address: s.address ?? '?' },
        { t: s.to.getTime(), open: false, address: s.address ?? '?' },
      ])
      .sort((a, b) => a.t - b.t || Number(a.open) - Number(b.open));
    const live = new Map<string, number>();
    let most = 0;
    for (const e of edges) {
      const n = (live.get(e.address) ?? 0) + (e.open ? 1 : -1);
      if (n > 0) live.set(e.address, n);
      else live.delete(e.address);
      most = Math.max(most, live.size);
    }
    out.set(username, { remote, mostAddressesAtOnce: most });
  }
  return out;
}

async function software(src: FactSources, settings: PostureSettings): Promise<PostureFacts['software']> {
  if (!settings.releaseFeed) return { version: src.version, feed: 'none' };
  try {
    return { version: src.version, feed: 'read', latest: await src.latestRelease(settings.releaseFeed) };
  } catch {
    return { version: src.version, feed: 'unreachable' };
  }
}

export async function gatherFacts(src: FactSources, now: Date, settings: PostureSettings): Promise<PostureFacts> {
  const since = new Date(now.getTime() - WINDOW_DAYS * 86_400_000);
  const signIns = signInFacts(await src.sessions(since), insideNetworks(settings.clinicNetworks));
  const accounts: AccountFact[] = [];
  for (const a of await src.accounts()) {
    const { practitioner, ...rest } = a;
    const practitionerActive = practitioner ? await src.practitionerActive(practitioner) : undefined;
    const seen = signIns.get(a.username);
    accounts.push({
      ...rest,
      boundToPerson: practitioner !== undefined,
      ...(practitionerActive !== undefined ? { practitionerActive } : {}),
      ...(seen ? { signIns: seen } : {}),
    });
  }
  const lastCampaign = await src.lastCampaign();
  return {
    now,
    targets: { recoveryHours: settings.recoveryTimeObjectiveHours, keyRotationDays: settings.keyRotationDays },
    accounts,
    backups: await src.backups(),
    guard: src.guard(),
    awareness: lastCampaign ? { lastCampaign } : {},
    breakGlass: await src.breakGlass(now),
    chartAccess: await src.chartAccess(since),
    insiderCases: await src.insiderCases(now),
    audit: await src.audit(),
    keys: await src.keys(),
    equipment: await src.equipment(),
    software: await software(src, settings),
  };
}

/**
 * The latest release a feed names: `{"version": "x.y.z"}`, or an npm registry document
 * (`dist-tags.latest`). Read with a deadline, so a silent feed does not hold the scorecard.
 */
export async function readReleaseFeed(feed: string, deadlineMs = 5000): Promise<string> {
  const res = await fetch(feed, { signal: AbortSignal.timeout(deadlineMs), headers: { accept: 'application/json' } });
  if (!res.ok) throw new Error(`release feed answered ${res.status}`);
  const body = (await res.json()) as { version?: unknown; 'dist-tags'?: { latest?: unknown } };
  const version = body.version ?? body['dist-tags']?.latest;
  if (typeof version !== 'string' || !/^\d+(\.\d+)*([-+][\w.]+)?$/.test(version)) throw new Error('release feed names no version');
  return version;
}
