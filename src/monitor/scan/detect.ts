/**
 * After the pass: every detector reads the aggregates, compares each user with their own history
 * and their peer group (role × department, falling back to the role, then to everyone, when a
 * group is too small to say what is normal), and turns what stands out into alerts grouped by
 * (user, scenario, window).
 *
 * Thresholds are significance levels, not counts: a count is flagged when it is improbable under
 * the rate the peers show (Poisson tail below α), or when it lies beyond a robust fence (median +
 * K scaled MADs) of both the user's own days and the peers' days. α follows from the false-alert
 * budget (one per 1,000 user-days, spread over about ten tests per user-day).
 */
import { createHash } from 'node:crypto';
import type { Alert, Scenario } from '../catalog.js';
import type { Accumulator, Pair, UserDay, UserState } from './accumulate.js';
import { DAY_MS, type Patient, type ReferenceData, type User } from './reference.js';
import { clampScore, median, poissonQuantile, poissonTail, quantile, scaledMad, scoreFromRatio, scoreFromTail } from './stats.js';

/** Significance of a test made once per user over the whole log. */
export const ALPHA_USER = 1e-3;
/** Significance of a test made once per user-day (there are many more of them). */
export const ALPHA_DAY = 1e-4;
/** Robust fence: this many scaled MADs above the median. */
export const FENCE_MADS = 4;
/** Fewer peers than this say nothing about what is normal; the next wider group is used. */
const MIN_PEERS = 5;
/** Users active on fewer days than this do not count towards a baseline (when enough others do). */
const MIN_DAYS = 5;
/** The weeks before an employment end in which a spike is harvesting. */
const HARVEST_WINDOW_MS = 42 * DAY_MS;
/** A mass export or print is at least this many patients in a day, whatever the baseline. */
const MIN_MASS = 10;
/** Accesses to one patient this far apart are separate incidents. */
const INCIDENT_GAP_MS = 7 * DAY_MS;
/** Back-and-forth between two networks this often within one hour is two sessions at once. */
const SIMULTANEOUS_PINGS_PER_HOUR = 4;
/** Alerts at least this far apart are separate incidents of a repeat offender. */
const REPEAT_GAP_MS = 3 * DAY_MS;

const VIP_LABELS = ['VIP', 'CEL', 'CELEB', 'CELEBRITY'];
const STAFF_LABELS = ['EMP', 'EMPLOYEE', 'STAFF'];
const NO_LINK = 'no appointment, encounter, care team or order links the user to the patient';

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const fmt = (x: number) => (x >= 10 ? Math.round(x).toString() : x.toFixed(1));

interface GroupBaseline {
  users: number;
  dailyDistinct: { median: number; mad: number; mean: number };
  dailyExported: { median: number; mad: number; mean: number };
  unexplainedPerDay: number;
  candidatesPerAccess: number;
  breakGlassPerDay: number;
  breakGlassIdlePerDay: number;
  /** Per user with any steps: the share of steps to an adjacent chart (the user's own is left out when judging them). */
  adjacencyByUser: Map<number, number>;
  pingsPerHour: number;
}

interface UserFacts {
  candidates: Pair[];
  breakGlassPairs: Pair[];
}

export class Detection {
  readonly alerts: Alert[] = [];
  private readonly groups = new Map<string, UserState[]>();
  private readonly baselines = new Map<string, GroupBaseline>();
  private readonly facts = new Map<number, UserFacts>();
  private readonly consumed = new Map<number, Array<[number, number]>>();
  private readonly pairsByUser = new Map<number, Pair[]>();

  constructor(
    private readonly acc: Accumulator,
    private readonly ref: ReferenceData,
  ) {}

  run(): Alert[] {
    const states = this.acc.states.filter(Boolean);
    for (const s of states) {
      for (const key of [`p:${s.user.peerKey}`, `r:${s.user.roleKey}`, 'all']) {
        const g = this.groups.get(key);
        if (g) g.push(s);
        else this.groups.set(key, [s]);
      }
    }
    for (const pair of this.acc.pairs.values()) {
      const list = this.pairsByUser.get(pair.user);
      if (list) list.push(pair);
      else this.pairsByUser.set(pair.user, [pair]);
    }
    for (const s of states) this.facts.set(s.user.idx, this.userFacts(s));

    // Account-level and volume detectors first: what they cover is one incident, not many curiosities.
    for (const s of states) {
      this.terminated(s);
      this.credentials(s);
      this.harvesting(s);
      this.enumeration(s);
      this.massExport(s);
      this.volume(s);
      this.breakGlass(s);
    }
    this.pairScenarios(states);
    this.repeatOffenders();
    this.alerts.sort((a, b) => (a.firstAccess < b.firstAccess ? -1 : a.firstAccess > b.firstAccess ? 1 : a.user < b.user ? -1 : 1));
    return this.alerts;
  }

  private userFacts(s: UserState): UserFacts {
    const candidates: Pair[] = [];
    const breakGlassPairs: Pair[] = [];
    for (const p of this.pairsByUser.get(s.user.idx) ?? []) {
      if (p.breakGlassUses > 0) breakGlassPairs.push(p);
      else if (p.unexplained > 0 && !p.wrote && !this.relation(s.user, this.ref.patients[p.patient])) candidates.push(p);
    }
    return { candidates, breakGlassPairs };
  }

  /** The finest peer group with enough members to be a baseline. */
  private baseline(s: UserState): GroupBaseline {
    let key = 'all';
    for (const k of [`p:${s.user.peerKey}`, `r:${s.user.roleKey}`]) {
      if ((this.groups.get(k)?.length ?? 0) > MIN_PEERS) {
        key = k;
        break;
      }
    }
    let b = this.baselines.get(key);
    if (!b) {
      // Rates of users seen on only a few days are noise; they do not set what is normal.
      const all = this.groups.get(key)!;
      const settled = all.filter((m) => m.days.size >= MIN_DAYS);
      const members = settled.length > MIN_PEERS ? settled : all;
      const distinct: number[] = [];
      const exported: number[] = [];
      const unexplained: number[] = [];
      const candidates: number[] = [];
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
        const f = this.facts.get(m.user.idx)!;
        candidates.push(f.candidates.length / Math.max(1, m.accesses));
        bg.push(f.breakGlassPairs.length / days);
        bgIdle.push(f.breakGlassPairs.filter(idleBreakGlass).length / days);
        if (steps > 0) adjacency.set(m.user.idx, adjacent / steps);
      }
      const stat = (v: number[]) => {
        const med = median(v);
        return { median: med, mad: scaledMad(v, med), mean: v.length > 0 ? v.reduce((a, b) => a + b, 0) / v.length : 0 };
      };
      // Medians of per-user rates: a few offenders among the peers do not move them.
      b = {
        users: members.length,
        dailyDistinct: stat(distinct),
        dailyExported: stat(exported),
        unexplainedPerDay: median(unexplained),
        candidatesPerAccess: median(candidates),
        breakGlassPerDay: median(bg),
        breakGlassIdlePerDay: median(bgIdle),
        adjacencyByUser: adjacency,
        pingsPerHour: median(pings),
      };
      this.baselines.set(key, b);
    }
    return b;
  }

  private emit(user: User, scenario: Scenario, patients: number[], first: number, last: number, score: number, evidence: string[], consumes: boolean): Alert {
    const id = 'mon-' + createHash('sha256').update(`${user.ref}|${scenario}|${first}|${last}`).digest('hex').slice(0, 16);
    const same = this.alerts.find((a) => a.id === id);
    if (same) {
      // The same incident seen from two sides (both networks of a pair): one alert.
      same.patients = [...new Set([...same.patients, ...patients.map((i) => this.ref.patients[i].ref)])];
      same.evidence = [...new Set([...same.evidence, ...evidence])];
      same.score = Math.max(same.score, clampScore(score));
      return same;
    }
    const alert: Alert = {
      id,
      user: user.ref,
      patients: [...new Set(patients)].map((i) => this.ref.patients[i].ref),
      scenario,
      score: clampScore(score),
      firstAccess: new Date(first).toISOString(),
      lastAccess: new Date(last).toISOString(),
      evidence,
    };
    this.alerts.push(alert);
    if (consumes) {
      const list = this.consumed.get(user.idx) ?? [];
      list.push([first - 3_600_000, last + 3_600_000]);
      this.consumed.set(user.idx, list);
    }
    return alert;
  }

  private isConsumed(p: Pair): boolean {
    return this.covered(p.user, p.first, p.last);
  }

  /** Part of an incident an earlier (account-level or bulk) alert already covers. */
  private covered(user: number, first: number, last: number): boolean {
    for (const [a, b] of this.consumed.get(user) ?? []) if (first <= b && last >= a) return true;
    return false;
  }

  private terminated(s: UserState): void {
    const u = s.user;
    if (s.afterEnd.count === 0 || u.endMs === undefined) return;
    const ended = day(u.endMs);
    const evidence = [`${s.afterEnd.count} events after employment ended on ${ended}`];
    if (s.afterEnd.patients.length > 0) evidence.push(`${s.afterEnd.patients.length}${s.afterEnd.patients.length >= 400 ? '+' : ''} patients opened by an account that should no longer be in use`);
    this.emit(u, 'terminated', s.afterEnd.patients, s.afterEnd.first, s.afterEnd.last, 0.8 + 0.19 * (1 - Math.exp(-s.afterEnd.count / 20)), evidence, true);
  }

  private harvesting(s: UserState): void {
    const u = s.user;
    if (u.endMs === undefined || s.days.size === 0) return;
    const windowStart = u.endMs - HARVEST_WINDOW_MS;
    let inside = 0;
    let insideDays = 0;
    let before = 0;
    let beforeDays = 0;
    let first = Infinity;
    let last = -Infinity;
    const patients: number[] = [];
    for (const d of s.days.values()) {
      const t = d.day * DAY_MS;
      if (t > u.endMs) continue;
      if (t >= windowStart) {
        inside += d.unexplained;
        insideDays++;
        if (d.unexplained > 0) {
          first = Math.min(first, d.unexplainedFirst);
          last = Math.max(last, d.unexplainedLast);
          patients.push(...d.unexplainedPatients);
        }
      } else {
        before += d.unexplained;
        beforeDays++;
      }
    }
    if (inside < 3) return;
    const own = beforeDays >= 5 ? before / beforeDays : 0;
    const peers = this.baseline(s).unexplainedPerDay;
    const rate = Math.max(own, peers);
    const p = poissonTail(inside, rate * insideDays);
    if (p >= ALPHA_USER) return;
    const evidence = [
      `${inside} unexplained patient accesses in the ${insideDays} working days before employment ends on ${day(u.endMs)}`,
      `expected about ${fmt(rate * insideDays)} from ${own >= peers ? "the user's own earlier weeks" : 'the peer group'}`,
      NO_LINK + ' (for those patients)',
    ];
    this.emit(u, 'harvesting', patients, first, last, scoreFromTail(p, ALPHA_USER), evidence, true);
  }

  /** Fence over the user's other days and over the peers' days; both must be crossed. */
  private fence(s: UserState, own: (d: UserDay) => number, peers: { median: number; mad: number; mean: number }, except: UserDay, floor: number, bursty = false) {
    const values: number[] = [];
    for (const d of s.days.values()) if (d !== except) values.push(own(d));
    // Batch work (claims, letters) comes in bursts, Mondays after a weekend: twice the user's own 90th percentile is still routine.
    if (bursty && values.length >= 5) floor = Math.max(floor, 2 * quantile(values, 0.9));
    const ownMed = values.length >= 5 ? median(values) : 0;
    const ownMad = values.length >= 5 ? scaledMad(values, ownMed) : 0;
    const spread = (med: number, mad: number) => Math.max(mad, 0.1 * med, 1);
    const ownMean = values.length >= 5 ? values.reduce((a, b) => a + b, 0) / values.length : 0;
    const threshold = Math.max(
      floor,
      ownMed + FENCE_MADS * spread(ownMed, ownMad),
      peers.median + FENCE_MADS * spread(peers.median, peers.mad),
      2 * Math.max(ownMed, peers.median),
      // Counts of small means are skewed: the MAD fence alone would flag their ordinary busy days.
      poissonQuantile(Math.max(ownMean, peers.mean), ALPHA_DAY),
    );
    return { threshold, ownMed, peerMed: peers.median, base: Math.max(ownMed, peers.median) };
  }

  private volume(s: UserState): void {
    const b = this.baseline(s);
    const flagged: Array<{ d: UserDay; f: ReturnType<Detection['fence']> }> = [];
    for (const d of s.days.values()) {
      if (d.distinct < 5 || this.covered(s.user.idx, d.unexplainedFirst, d.unexplainedLast)) continue;
      const f = this.fence(s, (x) => x.distinct, b.dailyDistinct, d, 5);
      // A busy day of explained work is not misuse: most of the excess must be unexplained.
      if (d.distinct > f.threshold && d.unexplained >= Math.max(3, 0.5 * (d.distinct - f.base))) flagged.push({ d, f });
    }
    for (const run of consecutiveDays(flagged.map((x) => x.d))) {
      const items = flagged.filter((x) => run.includes(x.d));
      const top = items.reduce((a, c) => (c.d.distinct / c.f.threshold > a.d.distinct / a.f.threshold ? c : a));
      const ratioPeers = top.f.peerMed > 0 ? `, ${fmt(top.d.distinct / top.f.peerMed)}× the user's peer group (median ${fmt(top.f.peerMed)})` : '';
      const ratioOwn = top.f.ownMed > 0 ? `, ${fmt(top.d.distinct / top.f.ownMed)}× the user's own median (${fmt(top.f.ownMed)})` : '';
      const evidence = [
        `${top.d.distinct} distinct patients on ${day(top.d.day * DAY_MS)}${ratioPeers}${ratioOwn}`,
        `${run.reduce((n, d) => n + d.unexplained, 0)} of them with no care link explaining the access`,
      ];
      if (run.length > 1) evidence.push(`${run.length} such days in a row`);
      const patients = run.flatMap((d) => d.unexplainedPatients);
      this.emit(s.user, 'volume', patients, Math.min(...run.map((d) => d.unexplainedFirst)), Math.max(...run.map((d) => d.unexplainedLast)), scoreFromRatio(top.d.distinct, top.f.threshold), evidence, true);
    }
  }

  private massExport(s: UserState): void {
    const b = this.baseline(s);
    const flagged: Array<{ d: UserDay; f: ReturnType<Detection['fence']> }> = [];
    for (const d of s.days.values()) {
      if (d.exported < MIN_MASS || this.covered(s.user.idx, d.exportFirst, d.exportLast)) continue;
      const f = this.fence(s, (x) => x.exported, b.dailyExported, d, MIN_MASS, true);
      if (d.exported > f.threshold) flagged.push({ d, f });
    }
    for (const run of consecutiveDays(flagged.map((x) => x.d))) {
      const items = flagged.filter((x) => run.includes(x.d));
      const top = items.reduce((a, c) => (c.d.exported / c.f.threshold > a.d.exported / a.f.threshold ? c : a));
      const evidence = [
        `${top.d.exported} patients exported or printed on ${day(top.d.day * DAY_MS)}`,
        `peer group median ${fmt(top.f.peerMed)} a day, the user's own median ${fmt(top.f.ownMed)}; threshold ${fmt(top.f.threshold)}`,
      ];
      this.emit(s.user, 'export', run.flatMap((d) => d.exportPatients), Math.min(...run.map((d) => d.exportFirst)), Math.max(...run.map((d) => d.exportLast)), scoreFromRatio(top.d.exported, top.f.threshold), evidence, true);
    }
  }

  private enumeration(s: UserState): void {
    const b = this.baseline(s);
    // By chance alone, the next chart is within 3 ranks by identifier or by name with probability about 12/N.
    const chance = 12 / Math.max(12, this.ref.patients.length);
    const others = [...b.adjacencyByUser].filter(([u]) => u !== s.user.idx).map(([, r]) => r);
    const rate = Math.max(others.length > 0 ? median(others) : 0, chance);
    const flagged: Array<{ d: UserDay; p: number }> = [];
    for (const d of s.days.values()) {
      if (d.adjacent < 5 || this.covered(s.user.idx, d.sweepFirst, d.sweepLast)) continue;
      const p = poissonTail(d.adjacent, rate * d.steps);
      if (p < ALPHA_DAY) flagged.push({ d, p });
    }
    for (const run of consecutiveDays(flagged.map((x) => x.d))) {
      const items = flagged.filter((x) => run.includes(x.d));
      const top = items.reduce((a, c) => (c.p < a.p ? c : a));
      const d = top.d;
      const evidence = [
        `${d.adjacent} of ${d.steps} consecutive charts on ${day(d.day * DAY_MS)} next to each other by identifier or name (expected about ${fmt(rate * d.steps)})`,
      ];
      if (d.searches > 0) evidence.push(`${d.searches} searches that day`);
      if (d.shortViews > 0) evidence.push(`${d.shortViews} charts left within 15 seconds`);
      this.emit(s.user, 'enumeration', run.flatMap((x) => x.sweepPatients), Math.min(...run.map((x) => x.sweepFirst)), Math.max(...run.map((x) => x.sweepLast)), scoreFromTail(top.p, ALPHA_DAY), evidence, true);
    }
  }

  private credentials(s: UserState): void {
    if (s.networks.size < 2) return;
    const activeDays = s.days.size;
    const usual = (n: { days: Set<number>; events: number }) => n.days.size >= Math.max(3, 0.1 * activeDays) || n.events >= 0.2 * s.events;
    const usualHours = new Float64Array(24);
    let usualTotal = 0;
    for (const n of s.networks.values()) {
      if (!usual(n)) continue;
      for (let h = 0; h < 24; h++) usualHours[h] += n.hours[h];
      usualTotal += n.events;
    }
    for (const n of s.networks.values()) {
      const evidence: string[] = [];
      let score = 0;
      let first = n.first;
      let last = n.last;
      // Walking between two wards does not alternate four times within an hour; two people on one login do.
      // Where the peers' own logs alternate a lot (shared workstations, roaming), it takes much more.
      const simultaneous = Math.max(SIMULTANEOUS_PINGS_PER_HOUR, 3 * this.baseline(s).pingsPerHour);
      if ((n.pingPong >= 3 && !usual(n)) || n.maxPingsPerHour >= simultaneous) {
        evidence.push(`${n.pingPong} alternations within 5 minutes (${n.maxPingsPerHour} in one hour) between ${usual(n) ? 'two networks' : 'a network the user rarely uses and another'}: one account in two places at once`);
        score = Math.max(score, 0.7 + 0.29 * (1 - Math.exp(-n.pingPong / 10)));
        first = n.pingFirst;
        last = n.pingLast;
      }
      if (!usual(n) && usualTotal > 0 && this.sharedNetworkUsers(n.network, s.user.idx) < 3) {
        // Hours that make up under 5% of the user's work from their usual networks (an odd overtime night stays under it).
        let offShift = 0;
        for (let h = 0; h < 24; h++) if (usualHours[h] / usualTotal < 0.05) offShift += n.hours[h];
        if (offShift >= 3 && offShift >= 0.5 * n.events) {
          evidence.push(`${offShift} events outside the hours the user works, from a network the user used on ${n.days.size} day(s) and few others use`);
          score = Math.max(score, 0.65 + 0.3 * (1 - Math.exp(-offShift / 20)));
        }
      }
      if (evidence.length === 0) continue;
      this.emit(s.user, 'credentials', n.patients, first, last, score, evidence, true);
    }
  }

  private networkUsers: Map<string, number> | undefined;
  private sharedNetworkUsers(network: string, except: number): number {
    if (!this.networkUsers) {
      this.networkUsers = new Map();
      for (const st of this.acc.states) if (st) for (const k of st.networks.keys()) this.networkUsers.set(k, (this.networkUsers.get(k) ?? 0) + 1);
    }
    const n = this.networkUsers.get(network) ?? 0;
    return this.acc.states[except]?.networks.has(network) ? n - 1 : n;
  }

  private breakGlass(s: UserState): void {
    const pairs = this.facts.get(s.user.idx)!.breakGlassPairs;
    if (pairs.length === 0) return;
    const idle = pairs.filter(idleBreakGlass);
    if (idle.length === 0) return;
    const b = this.baseline(s);
    const days = Math.max(1, s.days.size);
    const pIdle = idle.length >= 2 ? poissonTail(idle.length, b.breakGlassIdlePerDay * days) : 1;
    const pRate = pairs.length >= 3 ? poissonTail(pairs.length, b.breakGlassPerDay * days) : 1;
    const p = Math.min(pIdle, pRate);
    if (p >= ALPHA_USER) return;
    const evidence = [
      `${idle.length} break-the-glass accesses with no clinical action in the day after and no care link`,
      `${pairs.length} break-the-glass patients in ${days} working days; peer group median ${fmt(b.breakGlassPerDay * days)} over the same time`,
    ];
    this.emit(s.user, 'break-glass', idle.map((x) => x.patient), Math.min(...idle.map((x) => x.first)), Math.max(...idle.map((x) => x.last)), scoreFromTail(p, ALPHA_USER), evidence, true);
  }

  /** The relationship between a user and a patient that makes an unexplained access personal. */
  private relation(u: User, p: Patient): { scenario: Scenario; evidence: string } | undefined {
    if (u.selfPatients.has(p.idx)) return { scenario: 'self', evidence: 'the patient record has the user\'s own name and birth date' };
    const a = u.identity;
    const b = p.identity;
    const share = (x: string[], y: string[]) => x.some((v) => y.includes(v));
    const sameFamily = Boolean(a.family && a.family === b.family);
    const phone = share(a.phones, b.phones);
    const address = share(a.addresses, b.addresses);
    const street = share(a.streets, b.streets);
    if (phone || address || (sameFamily && street)) {
      const what = [sameFamily && 'family name', address && 'address', phone && 'phone number', !address && street && 'street'].filter(Boolean) as string[];
      return { scenario: 'family', evidence: `same ${joinWords(what)} as the user` };
    }
    if (STAFF_LABELS.some((l) => p.labels.has(l)) || this.ref.staffMatching(p, u.idx).length > 0) return { scenario: 'coworker', evidence: 'the patient is a member of staff' };
    if (street) return { scenario: 'neighbour', evidence: 'the patient lives on the user\'s street' };
    if (VIP_LABELS.some((l) => p.labels.has(l))) return { scenario: 'vip', evidence: 'the patient is labelled VIP / celebrity' };
    return undefined;
  }

  /**
   * Pairs of patients many unrelated users opened within a day of each other: news travels, a chart
   * becomes famous. The rate to beat is the log's own: unexplained readers per patient per day.
   */
  private trendingPairs(): Set<Pair> {
    const byPatient = new Map<number, Pair[]>();
    let total = 0;
    for (const p of this.acc.pairs.values()) {
      if (p.unexplained === 0 || p.wrote) continue;
      const list = byPatient.get(p.patient);
      if (list) list.push(p);
      else byPatient.set(p.patient, [p]);
      total++;
    }
    const days = Math.max(1, (this.acc.lastT - this.acc.firstT) / DAY_MS);
    const rate = total / Math.max(1, this.ref.patients.length * days);
    const out = new Set<Pair>();
    for (const list of byPatient.values()) {
      if (list.length < 3) continue;
      list.sort((a, b) => a.first - b.first);
      for (let i = 0, j = 0; j < list.length; j++) {
        while (list[j].first - list[i].first > DAY_MS) i++;
        const n = j - i + 1;
        if (n >= 3 && poissonTail(n, rate) < ALPHA_DAY) for (let k = i; k <= j; k++) out.add(list[k]);
      }
    }
    return out;
  }

  private pairScenarios(states: UserState[]): void {
    const trending = this.trendingPairs();
    for (const s of states) {
      const u = s.user;
      const personal = new Map<Scenario, Array<{ pair: Pair; evidence: string }>>();
      const add = (scenario: Scenario, pair: Pair, evidence: string) => {
        const list = personal.get(scenario) ?? [];
        list.push({ pair, evidence });
        personal.set(scenario, list);
      };
      const candidates: Pair[] = [];
      for (const pair of this.pairsByUser.get(u.idx) ?? []) {
        if (this.isConsumed(pair)) continue;
        const patient = this.ref.patients[pair.patient];
        const rel = this.relation(u, patient);
        // A personal tie outweighs a weak explanation (the role, the ward, the department) unless the user did the work it stands for.
        const weakOnly = pair.idleWeak.length > 0;
        if (rel && (pair.unexplained > 0 || rel.scenario === 'self' || weakOnly)) {
          add(rel.scenario, pair, rel.evidence + (pair.unexplained === 0 && rel.scenario !== 'self' ? ' (only the role, ward or department explains the access, and the user wrote, exported or printed nothing)' : ''));
          continue;
        }
        if (pair.breakGlassUses > 0 || pair.unexplained === 0 || pair.wrote) continue;
        if (trending.has(pair)) {
          add('vip', pair, 'many users with no care link opened this chart on the same day');
          continue;
        }
        candidates.push(pair);
      }
      // Curiosity and department mismatch: more unexplained, read-only patients than the peers' rate makes likely.
      if (candidates.length > 0) {
        const rate = this.baseline(s).candidatesPerAccess;
        const p = poissonTail(candidates.length, rate * s.accesses);
        if (p < ALPHA_USER) {
          for (const pair of candidates) {
            if (pair.elsewhere) add('department', pair, 'the patient was under care in another department at the time');
            else add('curiosity', pair, 'no clinical action and nothing else in the records explains it');
          }
        }
      }
      for (const [scenario, items] of personal) {
        for (const group of groupByTime(items)) {
          const accesses = group.reduce((n, x) => n + x.pair.accesses, 0);
          const days = new Set(group.flatMap((x) => x.pair.days)).size;
          const readOnly = group.every((x) => !x.pair.wrote);
          const evidence = [...new Set(group.map((x) => x.evidence))];
          if (group.some((x) => x.pair.unexplained > 0)) evidence.push(NO_LINK);
          evidence.push(`${accesses} access${accesses === 1 ? '' : 'es'} to ${group.length} patient${group.length === 1 ? '' : 's'} over ${days} day${days === 1 ? '' : 's'}${readOnly ? ', no clinical action' : ''}`);
          const base: Record<string, number> = { self: 0.9, family: 0.85, coworker: 0.7, neighbour: 0.7, vip: 0.75, department: 0.6, curiosity: 0.55 };
          const score = (base[scenario] ?? 0.6) + 0.04 * Math.min(5, accesses - 1) + 0.03 * Math.min(5, group.length - 1);
          this.emit(u, scenario, group.map((x) => x.pair.patient), Math.min(...group.map((x) => x.pair.first)), Math.max(...group.map((x) => x.pair.last)), score, evidence, false);
        }
      }
    }
  }

  private repeatOffenders(): void {
    const byUser = new Map<string, Alert[]>();
    for (const a of this.alerts) {
      const list = byUser.get(a.user) ?? [];
      list.push(a);
      byUser.set(a.user, list);
    }
    for (const [userRef, list] of byUser) {
      list.sort((a, b) => (a.firstAccess < b.firstAccess ? -1 : 1));
      // Separate incidents: an alert that starts well after every earlier one has ended.
      let incidents = 1;
      let end = Date.parse(list[0].lastAccess);
      for (const a of list.slice(1)) {
        if (Date.parse(a.firstAccess) - end >= REPEAT_GAP_MS) incidents++;
        end = Math.max(end, Date.parse(a.lastAccess));
      }
      if (incidents < 2) continue;
      const user = this.ref.userFor(userRef)!;
      const patients = list.flatMap((a) => a.patients).map((r) => this.ref.patientFor(r)!.idx);
      const evidence = [`${incidents} separate incidents: ${[...new Set(list.map((a) => a.scenario))].join(', ')}`];
      const first = Date.parse(list[0].firstAccess);
      const last = Math.max(...list.map((a) => Date.parse(a.lastAccess)));
      this.emit(user, 'repeat', patients, first, last, Math.max(...list.map((a) => a.score)) + 0.05 * (incidents - 1), evidence, false);
    }
  }
}

function idleBreakGlass(p: Pair): boolean {
  return p.unexplained > 0 && !p.actedAfterBreakGlass;
}

function joinWords(words: string[]): string {
  return words.length <= 1 ? (words[0] ?? '') : `${words.slice(0, -1).join(', ')} and ${words[words.length - 1]}`;
}

/** Days in runs of consecutive calendar days (a gap of one free day still joins them). */
function consecutiveDays(days: UserDay[]): UserDay[][] {
  const sorted = [...days].sort((a, b) => a.day - b.day);
  const runs: UserDay[][] = [];
  for (const d of sorted) {
    const last = runs[runs.length - 1];
    if (last && d.day - last[last.length - 1].day <= 2) last.push(d);
    else runs.push([d]);
  }
  return runs;
}

function groupByTime<T extends { pair: Pair }>(items: T[]): T[][] {
  const sorted = [...items].sort((a, b) => a.pair.first - b.pair.first);
  const groups: T[][] = [];
  let end = -Infinity;
  for (const x of sorted) {
    if (groups.length > 0 && x.pair.first - end <= INCIDENT_GAP_MS) groups[groups.length - 1].push(x);
    else {
      groups.push([x]);
      end = -Infinity;
    }
    end = Math.max(end, x.pair.last);
  }
  return groups;
}
