/**
 * Shared or stolen credentials. With network addresses: one login in two places at once (two
 * networks alternating within minutes); a network the user rarely uses, in hours the user does not
 * work; or a network the user rarely uses from which charts nothing explains are opened, more than
 * the user's other work and the peers make likely (a colleague's login used at another ward's
 * workstation, or from outside, in the owner's own shift). Without addresses only the hour is left:
 * charts nothing explains opened in hours the user does not work.
 */
import type { NetworkUse, UserState } from './accumulate.js';
import { fmt, isoDay } from './alerting.js';
import type { DetectionContext } from './detect.js';
import { WATCH_P } from './budget.js';
import { explain } from './explain.js';
import { usualNetwork } from './peers.js';
import { AlternationTail, HOME_DAYS, isOutside, remoteRates } from './remoteWork.js';
import { DAY_MS } from './reference.js';
import { poissonTail, scoreFromTail } from './stats.js';
import { ALPHA_DAY, ALPHA_USER, MIN_DAYS, SIMULTANEOUS_PINGS_PER_HOUR } from './thresholds.js';

/** An hour with under this share of the user's explained work, and under this part of their busiest hour's, is outside their shifts. */
const OFF_HOURS_SHARE = 0.05;
const OFF_HOURS_OF_BUSIEST = 0.25;
/** At least this many explained accesses before the user's hours say anything. */
const MIN_WORK_ACCESSES = 100;
/** The share of a user's explained work that must come from their usual networks for another network to be unusual. */
const SETTLED_SHARE = 0.5;
/** Fewer users than this and the empirical tail of alternations cannot go below 1%: the fixed rule decides. */
const MIN_TAIL_USERS = 100;
/** At least this many patients nothing explains, whatever the rates say. */
const MIN_UNEXPLAINED = 3;

const hourOf = (t: number) => Math.floor((t % DAY_MS) / 3_600_000);

/** From the networks an account is used from; runs with the other account-level detectors, first. */
export function credentials(ctx: DetectionContext, s: UserState): void {
  if (s.networks.size < 2) return;
  const rate = unexplainedRate(ctx, s);
  // A network is unusual only for someone who has usual ones: where a user's own (explained) work
  // comes from everywhere (addresses handed out from a pool), where it comes from says nothing.
  let explained = 0;
  let fromUsual = 0;
  for (const n of s.networks.values()) {
    explained += n.explained;
    if (usualNetwork(s, n)) fromUsual += n.explained;
  }
  const settled = explained > 0 && fromUsual >= SETTLED_SHARE * explained;
  for (const n of s.networks.values()) fromNetwork(ctx, s, n, rate, settled);
  betweenUsual(ctx, s);
}

const tails = new WeakMap<DetectionContext['peers'], AlternationTail>();

/** The hospital's busiest hours of alternations, charged once to the budget (⌊α·users⌋ false alerts at level α). */
function alternationTail(ctx: DetectionContext): AlternationTail {
  let tail = tails.get(ctx.peers);
  if (!tail) {
    tail = new AlternationTail(ctx);
    tails.set(ctx.peers, tail);
    ctx.budget.uniform(tail.users);
  }
  return tail;
}

/**
 * Alternating between two of the user's own usual networks is what float staff and wards with
 * workstations on two subnets do all day; it is evidence of two people on one login only when it is
 * rare in this hospital. One candidate per user.
 */
function betweenUsual(ctx: DetectionContext, s: UserState): void {
  let n: NetworkUse | undefined;
  for (const m of s.networks.values()) if (usualNetwork(s, m) && (!n || m.maxPingsPerHour > n.maxPingsPerHour)) n = m;
  const simultaneous = Math.max(SIMULTANEOUS_PINGS_PER_HOUR, 3 * ctx.peers.baseline(s).pingsPerHour);
  if (!n || n.maxPingsPerHour < simultaneous) return;
  proposeAlternation(
    ctx,
    s,
    n,
    `${n.pingPong} alternations within 5 minutes (${n.maxPingsPerHour} in one hour) between two networks the user works from: one account in two places at once`,
  );
}

/** Alternations alone: a candidate for the budget with the empirical tail of the other users' busiest hours. */
function proposeAlternation(ctx: DetectionContext, s: UserState, n: NetworkUse, what: string): void {
  const tail = alternationTail(ctx);
  const score = 0.7 + 0.29 * (1 - Math.exp(-n.pingPong / 10));
  // Too few users for an empirical tail to reach any level (a small practice, a live window just
  // opened): the alternations alone are the sign, as the definition above says.
  if (tail.users < MIN_TAIL_USERS) {
    ctx.alerts.emit(s.user, 'credentials', n.patients, n.pingFirst, n.pingLast, score, [what], true);
    return;
  }
  const p = tail.tail(n.maxPingsPerHour);
  if (p >= WATCH_P) return;
  ctx.budget.add({
    user: s.user,
    scenario: 'credentials',
    p,
    checked: `${Math.round(p * tail.users) - 1} of the hospital's other ${tail.users - 1} users alternated as often in their busiest hour (empirical tail)`,
    patients: n.patients.map((i) => ctx.ref.patients[i].ref),
    first: n.pingFirst,
    last: n.pingLast,
    evidence: [what],
    emit: (why) => ctx.alerts.emit(s.user, 'credentials', n.patients, n.pingFirst, n.pingLast, score, [what, why], true),
    covers: true,
  });
}

/**
 * Accesses with no network address: charts nothing explains, opened in a session that began
 * outside the user's hours. Runs after the bulk detectors: the hour alone is weak evidence, and a
 * sweep or a spike that runs past the end of a shift is theirs (the session began in the shift).
 */
export function credentialsWithoutAddress(ctx: DetectionContext, s: UserState): void {
  withoutAddress(ctx, s, unexplainedRate(ctx, s));
}

/**
 * How many distinct unexplained patients an access brings in the user's ordinary work: the user's
 * own rate without `except` (the part under test), never below the peers' median.
 */
function unexplainedRate(ctx: DetectionContext, s: UserState): (exceptPatients: number, exceptAccesses: number) => number {
  let unexplained = 0;
  for (const d of s.days.values()) unexplained += d.unexplained;
  const peers = ctx.peers.baseline(s).unexplainedPerAccess;
  return (exceptPatients, exceptAccesses) => Math.max(peers, Math.max(0, unexplained - exceptPatients) / Math.max(1, s.accesses - exceptAccesses));
}

function fromNetwork(ctx: DetectionContext, s: UserState, n: NetworkUse, rate: (p: number, a: number) => number, settled: boolean): void {
  const usual = (m: NetworkUse) => usualNetwork(s, m);
  const evidence: string[] = [];
  let score = 0;
  let first = n.first;
  let last = n.last;
  // Walking between two wards does not alternate four times within an hour; two people on one login do.
  // Where the peers' own logs alternate a lot (shared workstations, roaming), it takes much more.
  const simultaneous = Math.max(SIMULTANEOUS_PINGS_PER_HOUR, 3 * ctx.peers.baseline(s).pingsPerHour);
  // With a network the user rarely uses, three alternations within one hour. Alone it is a
  // candidate for the budget (a look from home between rounds does it too); beside charts nothing
  // explains from that network, or use off shift, it is the strong sign of a second person.
  let ping: string | undefined;
  if (!usual(n) && ((settled && n.maxPingsPerHour >= 3) || n.maxPingsPerHour >= simultaneous))
    ping = `${n.pingPong} alternations within 5 minutes (${n.maxPingsPerHour} in one hour) between a network the user rarely uses and another: one account in two places at once`;
  if (settled && !usual(n)) {
    const usualHours = new Float64Array(24);
    let usualTotal = 0;
    for (const m of s.networks.values()) {
      if (!usual(m)) continue;
      for (let h = 0; h < 24; h++) usualHours[h] += m.hours[h];
      usualTotal += m.events;
    }
    if (usualTotal > 0 && ctx.peers.sharedNetworkUsers(n.network, s.user.idx) < 3) {
      // Hours that make up under 5% of the user's work from their usual networks (an odd overtime night stays under it).
      let offShift = 0;
      for (let h = 0; h < 24; h++) if (usualHours[h] / usualTotal < 0.05) offShift += n.hours[h];
      // A recurring home network (HOME_DAYS days or more) is the user's own: evening work from home is theirs.
      if (offShift >= 3 && offShift >= 0.5 * n.events && !(isOutside(ctx, s, n) && n.days.size >= HOME_DAYS)) {
        evidence.push(`${offShift} events outside the hours the user works, from a network the user used on ${n.days.size} day(s) and few others use`);
        score = Math.max(score, 0.65 + 0.3 * (1 - Math.exp(-offShift / 20)));
      }
    }
    // Charts nothing explains, from a network the user rarely uses. Where others work from that
    // network, its own wards' and departments' patients are its ordinary work (covering a shift there).
    const home = ctx.peers.networkHome(n.network);
    let unexplained = 0;
    for (let i = 0; i < n.unexplainedPatients.length; i++) {
      const why = home && explain(home, ctx.ref.patients[n.unexplainedPatients[i]], n.unexplainedTimes[i]);
      if (!why) unexplained++;
    }
    if (unexplained >= MIN_UNEXPLAINED || isOutside(ctx, s, n)) {
      const own = rate(n.unexplainedPatients.length, n.accesses) * n.accesses;
      // Remote work: an address outside the hospital is tested against the pace of the hospital's
      // own recurring outside networks (remoteWork.ts), not against the user's ward work.
      const remote = isOutside(ctx, s, n) ? remoteRates(ctx).rateFor(s) : undefined;
      const expected = Math.max(own, remote ? remote.perDay * n.days.size : 0);
      ctx.budget.test(expected);
      const p = unexplained >= MIN_UNEXPLAINED ? poissonTail(unexplained, expected) : 1;
      const what =
        `${unexplained} patients nothing explains opened from a network the user used on ${n.days.size} day(s) (${n.accesses} accesses; expected about ${fmt(expected)} from the user's other work and the peer group` +
        (remote && remote.days > 0
          ? `, and ${fmt(remote.perDay)} a day where the ${remote.group}'s staff work from their own recurring outside networks`
          : '') +
        ')' +
        (home ? ", none of them under care where that network's own staff work" : ', a network no one else works from');
      if ((evidence.length > 0 || ping) && p < ALPHA_USER) {
        // Beside a strong sign (two places at once, off shift) the charts are more evidence of the same alert.
        evidence.push(what);
        score = Math.max(score, scoreFromTail(p, ALPHA_USER));
      } else if (evidence.length === 0 && !ping && p < WATCH_P) {
        proposeUnexplained(ctx, s, n, p, what);
        return;
      }
    }
  }
  if (ping && evidence.length === 0) return proposeAlternation(ctx, s, n, ping);
  if (ping) {
    evidence.unshift(ping);
    score = Math.max(score, 0.7 + 0.29 * (1 - Math.exp(-n.pingPong / 10)));
    first = Math.min(n.pingFirst, first);
    last = Math.max(n.pingLast, last);
  }
  if (evidence.length === 0) return;
  ctx.alerts.emit(s.user, 'credentials', n.patients, first, last, score, evidence, true);
}

/** Charts nothing explains from a network the user rarely uses, and nothing else: a candidate for the alert budget. */
function proposeUnexplained(ctx: DetectionContext, s: UserState, n: NetworkUse, p: number, what: string): void {
  const patients = n.unexplainedPatients;
  const first = Math.min(...n.unexplainedTimes);
  const last = Math.max(...n.unexplainedTimes);
  ctx.budget.add({
    user: s.user,
    scenario: 'credentials',
    p,
    checked: `the patients nothing explains from that network against the expected count (Poisson tail)`,
    patients: patients.map((i) => ctx.ref.patients[i].ref),
    first,
    last,
    evidence: [what],
    emit: (why) => ctx.alerts.emit(s.user, 'credentials', patients, first, last, scoreFromTail(p, ctx.budget.level), [what, why], true),
    covers: true,
  });
}

/**
 * Hours of the day outside the user's shifts: each holds under 5% of the user's explained accesses
 * and under a quarter of their busiest hour's (someone who works round the clock has none);
 * undefined without enough history to say.
 */
function offHours(s: UserState): boolean[] | undefined {
  let total = 0;
  let busiest = 0;
  for (let h = 0; h < 24; h++) {
    total += s.workHours[h];
    busiest = Math.max(busiest, s.workHours[h]);
  }
  if (total < MIN_WORK_ACCESSES || s.days.size < MIN_DAYS) return undefined;
  return Array.from(s.workHours, (n) => n < OFF_HOURS_SHARE * total && n < OFF_HOURS_OF_BUSIEST * busiest);
}

/** Accesses with no network address: charts nothing explains, opened outside the user's hours, per day. */
function withoutAddress(ctx: DetectionContext, s: UserState, rate: (p: number, a: number) => number): void {
  let off: boolean[] | undefined | null = null;
  for (const d of s.days.values()) {
    const b = d.blind;
    if (!b || b.patients.length < MIN_UNEXPLAINED) continue;
    off ??= offHours(s);
    if (!off) return;
    const patients: number[] = [];
    let first = Infinity;
    let last = -Infinity;
    for (let i = 0; i < b.patients.length; i++) {
      if (!off[hourOf(b.times[i])] || !off[hourOf(b.sessionStarts[i])]) continue;
      patients.push(b.patients[i]);
      first = Math.min(first, b.times[i]);
      last = Math.max(last, b.times[i]);
    }
    if (patients.length < MIN_UNEXPLAINED || ctx.alerts.covered(s.user.idx, first, last)) continue;
    let accesses = 0;
    for (let h = 0; h < 24; h++) if (off[h]) accesses += b.accesses[h];
    const expected = rate(d.unexplained, d.accesses) * accesses;
    const p = poissonTail(patients.length, expected);
    if (p >= ALPHA_DAY) continue;
    const evidence = [
      `${patients.length} patients nothing explains opened between ${hourOf(first)}:00 and ${hourOf(last) + 1}:00 on ${isoDay(first)} in a session that began outside the user's hours (hours that make up under 5% of the user's work; expected about ${fmt(expected)})`,
      'the events carry no network address: the hour is the only sign of someone else using the account',
    ];
    ctx.alerts.emit(s.user, 'credentials', patients, first, last, scoreFromTail(p, ALPHA_DAY), evidence, true);
  }
}
