/**
 * What is normal, from the data: peer groups (role × department, falling back to the role, then to
 * everyone, when a group is too small to say), their baselines (medians of per-user rates, so a few
 * offenders among the peers do not raise the bar), and the facts about each user the detectors and
 * the baselines share (the user's unexplained, read-only pairs; their break-the-glass pairs).
 */
import type { Accumulator, NetworkUse, Pair, UserState } from './accumulate.js';
import { unknownUser, type ReferenceData, type User } from './reference.js';
import { median, scaledMad } from './stats.js';
import { MIN_DAYS, MIN_PEERS } from './thresholds.js';
import { relation } from './ties.js';

export interface DailyStat {
  median: number;
  mad: number;
  mean: number;
}

export interface GroupBaseline {
  users: number;
  dailyDistinct: DailyStat;
  dailyExported: DailyStat;
  unexplainedPerDay: number;
  /** Distinct unexplained patients (per day) per access: how often the peers' ordinary work is unexplained. */
  unexplainedPerAccess: number;
  candidatesPerAccess: number;
  /**
   * How much that rate differs between the peers beyond what chance gives (variance of the rate,
   * robust: the scaled MAD squared less the Poisson part): one user's habit of looking in on
   * charts nothing links is not another's.
   */
  candidatesRateVariance: number;
  breakGlassPerDay: number;
  breakGlassIdlePerDay: number;
  /** Per user with any steps: the share of steps to an adjacent chart (the user's own is left out when judging them). */
  adjacencyByUser: Map<number, number>;
  pingsPerHour: number;
}

export interface UserFacts {
  /** Unexplained, read-only pairs with no personal tie: the material of curiosity and department mismatch. */
  candidates: Pair[];
  breakGlassPairs: Pair[];
}

/** Emergency access with nothing else explaining it and no clinical action in the day after. */
export function idleBreakGlass(p: Pair): boolean {
  return p.unexplained > 0 && !p.actedAfterBreakGlass;
}

/**
 * A network the user works from: their explained (ordinary) work comes from it on several of their
 * days, or a good share of it on more than one day (unless they were seen on only one). Misuse,
 * which nothing explains, does not make the network it comes from usual, however busy.
 */
export function usualNetwork(s: UserState, n: NetworkUse): boolean {
  const days = n.explainedDays.size;
  return days >= Math.max(3, 0.1 * s.days.size) || (n.explained >= 0.2 * s.explainedFromNetworks && days >= Math.min(2, s.days.size));
}

export class PeerBaselines {
  readonly states: UserState[];
  private readonly groups = new Map<string, UserState[]>();
  private readonly baselines = new Map<string, GroupBaseline>();
  private readonly facts = new Map<number, UserFacts>();
  private readonly pairsByUser = new Map<number, Pair[]>();
  private networkUsers: Map<string, number> | undefined;
  private homes: Map<string, User | undefined> | undefined;

  constructor(
    private readonly acc: Accumulator,
    private readonly ref: ReferenceData,
  ) {
    this.states = acc.states.filter(Boolean);
    for (const s of this.states) {
      for (const key of [`p:${s.user.peerKey}`, `r:${s.user.roleKey}`, 'all']) {
        const g = this.groups.get(key);
        if (g) g.push(s);
        else this.groups.set(key, [s]);
      }
    }
    for (const pair of acc.pairs.values()) {
      const list = this.pairsByUser.get(pair.user);
      if (list) list.push(pair);
      else this.pairsByUser.set(pair.user, [pair]);
    }
    for (const s of this.states) this.facts.set(s.user.idx, this.userFacts(s));
  }

  /** The user's pairs: unexplained, personal or break-the-glass (user, patient) aggregates. */
  pairsOf(user: number): Pair[] {
    return this.pairsByUser.get(user) ?? [];
  }

  factsOf(user: number): UserFacts {
    return this.facts.get(user)!;
  }

  private userFacts(s: UserState): UserFacts {
    const candidates: Pair[] = [];
    const breakGlassPairs: Pair[] = [];
    for (const p of this.pairsOf(s.user.idx)) {
      if (p.breakGlassUses > 0) breakGlassPairs.push(p);
      else if (p.unexplained > 0 && !p.wrote && !relation(this.ref, s.user, this.ref.patients[p.patient])) candidates.push(p);
    }
    return { candidates, breakGlassPairs };
  }

  /** The finest peer group with enough members to be a baseline. */
  baseline(s: UserState): GroupBaseline {
    let key = 'all';
    for (const k of [`p:${s.user.peerKey}`, `r:${s.user.roleKey}`]) {
      if ((this.groups.get(k)?.length ?? 0) > MIN_PEERS) {
        key = k;
        break;
      }
    }
    let b = this.baselines.get(key);
    if (!b) {
      b = this.compute(this.groups.get(key)!);
      this.baselines.set(key, b);
    }
    return b;
  }

  private compute(all: UserState[]): GroupBaseline {
    // Rates of users seen on only a few days are noise; they do not set what is normal.
    const settled = all.filter((m) => m.days.size >= MIN_DAYS);
    const members = settled.length > MIN_PEERS ? settled : all;
    const distinct: number[] = [];
    const exported: number[] = [];
    const unexplained: number[] = [];
    const unexplainedPerAccess: number[] = [];
    const candidates: number[] = [];
    const inverseAccesses: number[] = [];
    const bg: number[] = [];
    const bgIdle: number[] = [];
    const adjacency = new Map<number, number>();
    const pings: number[] = [];
    for (const m of members) {
      let most = 0;
      for (const n of m.networks.values()) most = Math.max(most, n.maxPingsPerHour);
      pings.push(most);
      let steps = 0;
      let adjacent = 0;
      let unexplainedSum = 0;
      for (const d of m.days.values()) {
        distinct.push(d.distinct);
        exported.push(d.exported);
        steps += d.steps;
        adjacent += d.adjacent;
        unexplainedSum += d.unexplained;
      }
      const days = Math.max(1, m.days.size);
      unexplained.push(unexplainedSum / days);
      unexplainedPerAccess.push(unexplainedSum / Math.max(1, m.accesses));
      const f = this.factsOf(m.user.idx);
      candidates.push(f.candidates.length / Math.max(1, m.accesses));
      inverseAccesses.push(1 / Math.max(1, m.accesses));
      bg.push(f.breakGlassPairs.length / days);
      bgIdle.push(f.breakGlassPairs.filter(idleBreakGlass).length / days);
      if (steps > 0) adjacency.set(m.user.idx, adjacent / steps);
    }
    const stat = (v: number[]): DailyStat => {
      const med = median(v);
      return { median: med, mad: scaledMad(v, med), mean: v.length > 0 ? v.reduce((a, b) => a + b, 0) / v.length : 0 };
    };
    // Medians of per-user rates: a few offenders among the peers do not move them.
    return {
      users: members.length,
      dailyDistinct: stat(distinct),
      dailyExported: stat(exported),
      unexplainedPerDay: median(unexplained),
      unexplainedPerAccess: median(unexplainedPerAccess),
      candidatesPerAccess: median(candidates),
      candidatesRateVariance: Math.max(0, scaledMad(candidates) ** 2 - median(candidates) * median(inverseAccesses)),
      breakGlassPerDay: median(bg),
      breakGlassIdlePerDay: median(bgIdle),
      adjacencyByUser: adjacency,
      pingsPerHour: median(pings),
    };
  }

  /** How many users other than `except` used this network. */
  sharedNetworkUsers(network: string, except: number): number {
    if (!this.networkUsers) {
      this.networkUsers = new Map();
      for (const st of this.acc.states) if (st) for (const k of st.networks.keys()) this.networkUsers.set(k, (this.networkUsers.get(k) ?? 0) + 1);
    }
    const n = this.networkUsers.get(network) ?? 0;
    return this.acc.states[except]?.networks.has(network) ? n - 1 : n;
  }

  /**
   * Where a network is: the wards and departments of the users who work from it (for whom it is a
   * usual network), as a stand-in user the records can explain accesses for; undefined when no one
   * works from it (an address outside the clinic).
   */
  networkHome(network: string): User | undefined {
    if (!this.homes) {
      const homes = new Map<string, User | undefined>();
      for (const st of this.states) {
        for (const n of st.networks.values()) {
          if (!usualNetwork(st, n)) continue;
          let home = homes.get(n.network);
          if (!home) {
            home = unknownUser(-1, `network:${n.network}`, 'workstation', 'workstation');
            homes.set(n.network, home);
          }
          for (const o of st.user.orgs) home.orgs.add(o);
          for (const l of st.user.locations) home.locations.add(l);
        }
      }
      this.homes = homes;
    }
    return this.homes.get(network);
  }
}
