/**
 * The one streaming pass over the access log. Each event updates bounded aggregates only: per user
 * (24 hour-of-day counters, a row per network used, a row per active day), per unexplained
 * (user, patient) pair, and the running state of the last few events per user (for sweeps and
 * two-addresses-at-once). Nothing per event is kept, so memory follows users × days and the
 * pairs the records do not explain, not the length of the log.
 */
import { TieBaseRates } from './baseRates.js';
import type { AccessEvent } from './events.js';
import { explain, underCareElsewhere, REASONS, type Reason } from './explain.js';
import { DAY_MS, type Patient, type ReferenceData, type User } from './reference.js';
import { SAMPLE } from './thresholds.js';
import { countWhere, useNetwork, type BlindHours, type NetworkUse } from './whereFrom.js';

export { SAMPLE } from './thresholds.js';
export type { BlindHours, NetworkUse } from './whereFrom.js';

const STEP_GAP_MS = 10 * 60_000;
const SHORT_VIEW_MS = 15_000;
/** Half an hour without an event ends a session. */
const SESSION_GAP_MS = 30 * 60_000;
/** Work this close to an access is the work it was for. */
const WORK_WINDOW_MS = 12 * 3_600_000;
/** A night shift that began on the last day of employment ends the next morning. */
export const END_GRACE_MS = 12 * 3_600_000;
/** Identifiers or names this close count as "next to each other" in a sweep. */
const ADJACENT_RANKS = 3;

export interface UserDay {
  day: number;
  events: number;
  accesses: number;
  distinct: number;
  unexplained: number;
  searches: number;
  writes: number;
  exported: number;
  steps: number;
  adjacent: number;
  shortViews: number;
  unexplainedPatients: number[];
  unexplainedFirst: number;
  unexplainedLast: number;
  exportPatients: number[];
  exportFirst: number;
  exportLast: number;
  sweepPatients: number[];
  sweepFirst: number;
  sweepLast: number;
  /** Accesses that carry no network address: the only credentials evidence is then the hour. */
  blind: BlindHours | undefined;
}

export interface Pair {
  user: number;
  patient: number;
  first: number;
  last: number;
  accesses: number;
  /** Accesses no care link or role explains (break-the-glass does not count as a link here). */
  unexplained: number;
  /**
   * Times of accesses explained only by the role, ward or department that no work of the user
   * (a write, export or print within 12 hours) accompanies; and the time of the last such work.
   */
  idleWeak: number[];
  lastActT: number;
  wrote: boolean;
  /** The user wrote to, exported or printed the patient's record: the work a role-level explanation stands for. */
  acted: boolean;
  breakGlassUses: number;
  firstBreakGlass: number;
  actedAfterBreakGlass: boolean;
  /** An unexplained access came while the patient was under care in another department. */
  elsewhere: boolean;
  days: number[];
  /**
   * Separate looks at the chart: accesses half an hour or more after the pair's last one start a
   * new visit (a chart reopened in the afternoon, or on another day, is a second visit).
   */
  visits: number;
}

export interface UserState {
  user: User;
  events: number;
  accesses: number;
  hours: Uint32Array;
  /** Explained accesses per hour of day: the hours the user works (misuse, unexplained, does not shift them). */
  workHours: Uint32Array;
  days: Map<number, UserDay>;
  networks: Map<string, NetworkUse>;
  afterEnd: { count: number; first: number; last: number; patients: number[] };
  // running state
  openDay: number;
  openDistinct: Set<number>;
  openUnexplained: Set<number>;
  openExported: Set<number>;
  lastPatient: Patient | undefined;
  lastAccessT: number;
  prevAddress: string | undefined;
  prevAddressT: number;
  prevPrevAddress: string | undefined;
  prevPrevAddressT: number;
  lastEventT: number;
  sessionStart: number;
  /** Explained accesses that came with a network address. */
  explainedFromNetworks: number;
}

export class Accumulator {
  readonly states: UserState[] = [];
  readonly pairs = new Map<number, Pair>();
  events = 0;
  accesses = 0;
  explained = 0;
  readonly byReason: Record<Reason, number> = Object.fromEntries(REASONS.map((r) => [r, 0])) as Record<Reason, number>;
  eventsWithoutUser = 0;
  firstT = Infinity;
  lastT = -Infinity;

  /** How often personal ties occur in explained work: the base rates the pair detectors test against. */
  readonly ties: TieBaseRates;

  constructor(readonly ref: ReferenceData) {
    this.ties = new TieBaseRates(ref);
  }

  state(user: User): UserState {
    let s = this.states[user.idx];
    if (!s) {
      s = {
        user,
        events: 0,
        accesses: 0,
        hours: new Uint32Array(24),
        workHours: new Uint32Array(24),
        days: new Map(),
        networks: new Map(),
        afterEnd: { count: 0, first: Infinity, last: -Infinity, patients: [] },
        openDay: -1,
        openDistinct: new Set(),
        openUnexplained: new Set(),
        openExported: new Set(),
        lastPatient: undefined,
        lastAccessT: -Infinity,
        prevAddress: undefined,
        prevAddressT: -Infinity,
        prevPrevAddress: undefined,
        prevPrevAddressT: -Infinity,
        lastEventT: -Infinity,
        sessionStart: -Infinity,
        explainedFromNetworks: 0,
      };
      this.states[user.idx] = s;
    }
    return s;
  }

  private dayOf(s: UserState, day: number): UserDay {
    let d = s.days.get(day);
    if (!d) {
      d = {
        day,
        events: 0,
        accesses: 0,
        distinct: 0,
        unexplained: 0,
        searches: 0,
        writes: 0,
        exported: 0,
        steps: 0,
        adjacent: 0,
        shortViews: 0,
        unexplainedPatients: [],
        unexplainedFirst: Infinity,
        unexplainedLast: -Infinity,
        exportPatients: [],
        exportFirst: Infinity,
        exportLast: -Infinity,
        sweepPatients: [],
        sweepFirst: Infinity,
        sweepLast: -Infinity,
        blind: undefined,
      };
      s.days.set(day, d);
    }
    if (day > s.openDay) {
      // The log runs forward in time: a user's earlier day is finished once a later one begins.
      s.openDay = day;
      s.openDistinct.clear();
      s.openUnexplained.clear();
      s.openExported.clear();
    }
    return d;
  }

  /** Counts a patient once per user-day while the day is open; a late event for a closed day counts as new. */
  private once(s: UserState, set: Set<number>, day: number, patient: number): boolean {
    if (day !== s.openDay) return true;
    if (set.has(patient)) return false;
    set.add(patient);
    return true;
  }

  add(e: AccessEvent): void {
    this.events++;
    if (e.t < this.firstT) this.firstT = e.t;
    if (e.t > this.lastT) this.lastT = e.t;
    const user = e.user ? this.ref.userFor(e.user) : undefined;
    if (!user) {
      this.eventsWithoutUser++;
      return;
    }
    const s = this.state(user);
    s.events++;
    if (e.t - s.lastEventT > SESSION_GAP_MS || e.t < s.sessionStart) s.sessionStart = e.t;
    if (e.t > s.lastEventT) s.lastEventT = e.t;
    const day = Math.floor(e.t / DAY_MS);
    const hour = Math.floor((e.t % DAY_MS) / 3_600_000);
    s.hours[hour]++;
    const d = this.dayOf(s, day);
    d.events++;
    if (e.interaction === 'search') d.searches++;
    if (e.interaction === 'write') d.writes++;
    const afterEnd = user.endMs !== undefined && e.t > user.endMs + END_GRACE_MS;
    if (afterEnd) {
      s.afterEnd.count++;
      if (e.t < s.afterEnd.first) s.afterEnd.first = e.t;
      if (e.t > s.afterEnd.last) s.afterEnd.last = e.t;
    }
    // After employment ends every event is the terminated account's; before, where it came from is credentials evidence.
    let net: NetworkUse | undefined;
    if (e.address && !afterEnd) net = useNetwork(s, e.address, e.t, day, hour);

    for (const ref of e.patients) {
      const patient = this.ref.patientFor(ref);
      if (!patient) continue;
      this.access(s, d, patient, e, day, hour, net, afterEnd, e.patients.length === 1);
    }
  }

  private access(
    s: UserState,
    d: UserDay,
    patient: Patient,
    e: AccessEvent,
    day: number,
    hour: number,
    net: NetworkUse | undefined,
    afterEnd: boolean,
    single: boolean,
  ): void {
    const user = s.user;
    this.accesses++;
    s.accesses++;
    d.accesses++;
    const firstToday = this.once(s, s.openDistinct, day, patient.idx);
    if (firstToday) d.distinct++;
    if (afterEnd && s.afterEnd.patients.length < SAMPLE && !s.afterEnd.patients.includes(patient.idx)) s.afterEnd.patients.push(patient.idx);
    if (net && net.patients.length < SAMPLE && !net.patients.includes(patient.idx)) net.patients.push(patient.idx);

    if (e.interaction === 'export' || e.interaction === 'print') {
      if (this.once(s, s.openExported, day, patient.idx)) {
        d.exported++;
        if (d.exportPatients.length < SAMPLE) d.exportPatients.push(patient.idx);
      }
      if (e.t < d.exportFirst) d.exportFirst = e.t;
      if (e.t > d.exportLast) d.exportLast = e.t;
    }

    const reason = explain(user, patient, e.t);
    // Going down one's own ward list or clinic list is work, even in identifier order; a sweep is of charts nothing ties the user to.
    if (single) this.step(s, d, patient, e.t, firstToday, reason === undefined || reason === 'role' || reason === 'department');
    const key = user.idx * 4_194_304 + patient.idx;
    let pair = this.pairs.get(key);
    if (reason) {
      this.explained++;
      this.byReason[reason]++;
      this.ties.explained(user, patient, reason);
    } else if (e.breakGlass) {
      this.explained++;
      this.byReason['break-glass']++;
    }
    if (reason || e.breakGlass) s.workHours[hour]++;
    if (!afterEnd) countWhere(s, d, patient, e, hour, net, !reason && !e.breakGlass);
    const weak = reason === 'ward' || reason === 'department' || reason === 'role';
    const personal = user.selfPatients.has(patient.idx) || (weak && (patient.restricted || user.householdPatients.has(patient.idx)));
    if (!reason || e.breakGlass || personal) {
      if (!pair) {
        pair = {
          user: user.idx,
          patient: patient.idx,
          first: e.t,
          last: e.t,
          accesses: 0,
          unexplained: 0,
          idleWeak: [],
          lastActT: -Infinity,
          wrote: false,
          acted: false,
          breakGlassUses: 0,
          firstBreakGlass: Infinity,
          actedAfterBreakGlass: false,
          elsewhere: false,
          days: [],
          visits: 0,
        };
        this.pairs.set(key, pair);
      }
      if (!reason) {
        pair.unexplained++;
        if (!pair.elsewhere && underCareElsewhere(user, patient, e.t)) pair.elsewhere = true;
        if (this.once(s, s.openUnexplained, day, patient.idx)) {
          d.unexplained++;
          if (d.unexplainedPatients.length < SAMPLE) d.unexplainedPatients.push(patient.idx);
        }
        if (e.t < d.unexplainedFirst) d.unexplainedFirst = e.t;
        if (e.t > d.unexplainedLast) d.unexplainedLast = e.t;
      }
      if (weak && e.t - pair.lastActT > WORK_WINDOW_MS && pair.idleWeak.length < 16) pair.idleWeak.push(e.t);
      if (e.breakGlass) {
        pair.breakGlassUses++;
        if (e.t < pair.firstBreakGlass) pair.firstBreakGlass = e.t;
      }
    }
    if (pair) {
      if (pair.accesses === 0 || e.t - pair.last >= SESSION_GAP_MS) pair.visits++;
      pair.accesses++;
      if (e.t < pair.first) pair.first = e.t;
      if (e.t > pair.last) pair.last = e.t;
      if (pair.days.length < 64 && !pair.days.includes(day)) pair.days.push(day);
      if (e.interaction === 'write' || e.interaction === 'export' || e.interaction === 'print') {
        pair.acted = true;
        pair.lastActT = e.t;
        if (pair.idleWeak.length > 0) pair.idleWeak = pair.idleWeak.filter((w) => e.t - w > WORK_WINDOW_MS);
      }
      if (e.interaction === 'write') {
        pair.wrote = true;
        // Clinical action after emergency access: a write within a day of it.
        if (e.t >= pair.firstBreakGlass && e.t - pair.firstBreakGlass <= DAY_MS) pair.actedAfterBreakGlass = true;
      }
    }
  }

  /** Sweeps: consecutive charts whose identifiers or names are next to each other. */
  private step(s: UserState, d: UserDay, patient: Patient, t: number, firstToday: boolean, loose: boolean): void {
    const prev = s.lastPatient;
    const gap = t - s.lastAccessT;
    // A sweep moves on to charts not yet opened that day; going back and forth between two is not one.
    if (prev && prev !== patient && firstToday && gap <= STEP_GAP_MS && gap >= 0) {
      d.steps++;
      if (gap < SHORT_VIEW_MS) d.shortViews++;
      const byId = prev.idRank >= 0 && patient.idRank >= 0 && Math.abs(prev.idRank - patient.idRank) <= ADJACENT_RANKS;
      const byName = prev.nameRank >= 0 && patient.nameRank >= 0 && Math.abs(prev.nameRank - patient.nameRank) <= ADJACENT_RANKS;
      if (loose && (byId || byName)) {
        d.adjacent++;
        if (d.sweepPatients.length < SAMPLE) {
          if (!d.sweepPatients.includes(prev.idx)) d.sweepPatients.push(prev.idx);
          d.sweepPatients.push(patient.idx);
        }
        if (s.lastAccessT < d.sweepFirst) d.sweepFirst = s.lastAccessT;
        if (t > d.sweepLast) d.sweepLast = t;
      }
    }
    if (prev !== patient || gap > 0) {
      s.lastPatient = patient;
      s.lastAccessT = t;
    }
  }
}
