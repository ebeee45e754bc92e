/**
 * The hospital's own base rate of remote work, for the credentials detector. Staff who work from
 * home open charts nothing explains (covering, a consult without an order) from an address that is
 * no hospital network; a thief does too. What tells them apart is not the address but the shape of
 * the use: a home network recurs, day after day, at the pace the hospital's remote workers keep;
 * someone else's address appears on a night or two and opens more than a day of remote work does.
 *
 * So the rate is learned from recurring outside networks only (seen on HOME_DAYS days or more): a
 * thief's address (one or two days) never sets the bar it is tested against. Per role ×
 * department, the user's own networks left out, pooled with the role's and then the hospital's
 * rate worth POOL_DAYS network-days (empirical Bayes, as baseRates.ts does for personal ties).
 */
import type { NetworkUse, UserState } from './accumulate.js';
import type { DetectionContext } from './detect.js';
import { usualNetwork, type PeerBaselines } from './peers.js';

/** An outside network seen on this many days is somebody's recurring place of work (home). */
export const HOME_DAYS = 3;
/** A network fewer than this many other users work from is outside the hospital's networks. */
export const SHARED_BY = 3;
/** The coarser group's rate counts as this many network-days of the finer group's. */
const POOL_DAYS = 20;

interface Totals {
  patients: number;
  days: number;
}

export interface RemoteRate {
  /** Unexplained patients per day of work from a recurring outside network. */
  perDay: number;
  /** Network-days behind it, the user's own left out, and which group gave most of them. */
  days: number;
  group: string;
}

const cache = new WeakMap<PeerBaselines, RemoteRates>();

export function remoteRates(ctx: DetectionContext): RemoteRates {
  let r = cache.get(ctx.peers);
  if (!r) {
    r = new RemoteRates(ctx);
    cache.set(ctx.peers, r);
  }
  return r;
}

/** An outside network: not one of the user's usual ones, and (almost) no one else works from it. */
export function isOutside(ctx: DetectionContext, s: UserState, n: NetworkUse): boolean {
  return !usualNetwork(s, n) && ctx.peers.sharedNetworkUsers(n.network, s.user.idx) < SHARED_BY;
}

export class RemoteRates {
  private readonly own = new Map<number, Totals>();
  private readonly groups = new Map<string, Totals>();

  constructor(ctx: DetectionContext) {
    for (const s of ctx.peers.states) {
      const t: Totals = { patients: 0, days: 0 };
      for (const n of s.networks.values()) {
        if (n.days.size < HOME_DAYS || !isOutside(ctx, s, n)) continue;
        t.patients += n.unexplainedPatients.length;
        t.days += n.days.size;
      }
      if (t.days === 0) continue;
      this.own.set(s.user.idx, t);
      for (const key of [`p:${s.user.peerKey}`, `r:${s.user.roleKey}`, 'all']) {
        const g = this.groups.get(key) ?? { patients: 0, days: 0 };
        g.patients += t.patients;
        g.days += t.days;
        this.groups.set(key, g);
      }
    }
  }

  /** The rate for a user: the peers' recurring outside networks, the user's own left out, pooled upwards. */
  rateFor(s: UserState): RemoteRate {
    const mine = this.own.get(s.user.idx) ?? { patients: 0, days: 0 };
    let rate = 0;
    let days = 0;
    let group = 'hospital';
    // From the coarsest group to the finest: each finer group's counts on top of the coarser rate worth POOL_DAYS.
    for (const [key, name] of [
      ['all', 'hospital'],
      [`r:${s.user.roleKey}`, 'role'],
      [`p:${s.user.peerKey}`, 'role and department'],
    ] as const) {
      const g = this.groups.get(key) ?? { patients: 0, days: 0 };
      const k = g.patients - mine.patients;
      const d = g.days - mine.days;
      if (key === 'all') {
        rate = d > 0 ? k / d : 0;
        days = d;
      } else if (d > 0) {
        rate = (k + POOL_DAYS * rate) / (d + POOL_DAYS);
        if (d >= POOL_DAYS) group = name;
      }
    }
    return { perDay: rate, days, group };
  }
}

/**
 * Alternations between two networks within minutes (float staff between two wards, ward
 * workstations on two subnets, a look from home between rounds): how surprising a user's busiest
 * hour of them is, as the share of
 * the hospital's other users whose busiest hour had as many or more (an empirical tail; add-one, so
 * never below 1/(users + 1)). Such a test falls to α or below for at most ⌊α·users⌋ users.
 */
export class AlternationTail {
  private readonly sorted: number[];

  constructor(ctx: DetectionContext) {
    this.sorted = ctx.peers.states.map((s) => busiest(s)).sort((a, b) => a - b);
  }

  get users(): number {
    return this.sorted.length;
  }

  /** P(another user's busiest hour ≥ x), the user's own (x) left out. */
  tail(x: number): number {
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.sorted[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    const atLeast = this.sorted.length - lo - 1;
    return (1 + Math.max(0, atLeast)) / this.sorted.length;
  }
}

/** The most alternations within one hour, any network. */
export function busiest(s: UserState): number {
  let best = 0;
  for (const n of s.networks.values()) best = Math.max(best, n.maxPingsPerHour);
  return best;
}
