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
import { explain } from './explain.js';
import { usualNetwork } from './peers.js';
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
  if ((settled && n.pingPong >= 3 && !usual(n)) || n.maxPingsPerHour >= simultaneous) {
    evidence.push(
      `${n.pingPong} alternations within 5 minutes (${n.maxPingsPerHour} in one hour) between ${usual(n) ? 'two networks' : 'a network the user rarely uses and another'}: one account in two places at once`,
    );
    score = Math.max(score, 0.7 + 0.29 * (1 - Math.exp(-n.pingPong / 10)));
    first = n.pingFirst;
    last = n.pingLast;
  }
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
      if (offShift >= 3 && offShift >= 0.5 * n.events) {
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
    if (unexplained >= MIN_UNEXPLAINED) {
      const expected = rate(n.unexplainedPatients.length, n.accesses) * n.accesses;
      const p = poissonTail(unexplained, expected);
      if (p < ALPHA_USER) {
        evidence.push(
          `${unexplained} patients nothing explains opened from a network the user used on ${n.days.size} day(s) (${n.accesses} accesses; expected about ${fmt(expected)} from the user's other work and the peer group)` +
            (home ? ", none of them under care where that network's own staff work" : ', a network no one else works from'),
        );
        score = Math.max(score, scoreFromTail(p, ALPHA_USER));
      }
    }
  }
  if (evidence.length === 0) return;
  ctx.alerts.emit(s.user, 'credentials', n.patients, first, last, score, evidence, true);
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
