/**
 * Where each access came from: the networks an account is used from (with the alternations between
 * two of them within minutes: one login in two places at once), the accesses and unexplained
 * patients of each, and for accesses that carry no address, the day's counts per hour. The
 * material of the credentials detector; updated by the streaming pass, bounded like the rest.
 */
import type { AccessEvent } from './events.js';
import { networkOf } from './events.js';
import type { Patient } from './reference.js';
import type { UserDay, UserState } from './accumulate.js';
import { SAMPLE } from './thresholds.js';

const PING_PONG_MS = 5 * 60_000;

/**
 * A day's accesses without a network address, per hour of day, and their unexplained patients:
 * the first access to each, and when the session it was part of began (a session ends after 30
 * minutes without an event).
 */
export interface BlindHours {
  accesses: Uint16Array;
  patients: number[];
  times: number[];
  sessionStarts: number[];
}

export interface NetworkUse {
  network: string;
  events: number;
  days: Set<number>;
  hours: Uint32Array;
  first: number;
  last: number;
  pingPong: number;
  pingFirst: number;
  pingLast: number;
  /** Alternations of the last hour, and the most ever seen within one hour. */
  recentPings: number[];
  maxPingsPerHour: number;
  patients: number[];
  /** Patient accesses from this network while employed, those the records explain, and the patients nothing explains (first access each). */
  accesses: number;
  explained: number;
  /** Days with explained work from this network: where the user's own work happens (misuse does not make a network usual). */
  explainedDays: Set<number>;
  unexplainedPatients: number[];
  unexplainedTimes: number[];
}

export function useNetwork(s: UserState, address: string, t: number, day: number, hour: number): NetworkUse {
  const key = networkOf(address);
  let n = s.networks.get(key);
  if (!n) {
    n = {
      network: key,
      events: 0,
      days: new Set(),
      hours: new Uint32Array(24),
      first: t,
      last: t,
      pingPong: 0,
      pingFirst: Infinity,
      pingLast: -Infinity,
      recentPings: [],
      maxPingsPerHour: 0,
      patients: [],
      accesses: 0,
      explained: 0,
      explainedDays: new Set(),
      unexplainedPatients: [],
      unexplainedTimes: [],
    };
    s.networks.set(key, n);
  }
  n.events++;
  n.days.add(day);
  n.hours[hour]++;
  if (t < n.first) n.first = t;
  if (t > n.last) n.last = t;
  // Two networks alternating within minutes (A, B, A): one login in two places at once.
  if (key !== s.prevAddress) {
    if (s.prevAddress !== undefined && key === s.prevPrevAddress && t - s.prevPrevAddressT <= PING_PONG_MS) {
      for (const k of [key, s.prevAddress]) {
        const m = s.networks.get(k)!;
        m.pingPong++;
        if (s.prevPrevAddressT < m.pingFirst) m.pingFirst = s.prevPrevAddressT;
        if (t > m.pingLast) m.pingLast = t;
        while (m.recentPings.length > 0 && t - m.recentPings[0] > 3_600_000) m.recentPings.shift();
        m.recentPings.push(t);
        if (m.recentPings.length > m.maxPingsPerHour) m.maxPingsPerHour = m.recentPings.length;
      }
    }
    s.prevPrevAddress = s.prevAddress;
    s.prevPrevAddressT = s.prevAddressT;
    s.prevAddress = key;
  }
  s.prevAddressT = t;
  return n;
}

/** Per network (or per hour, for accesses without an address): the accesses, and the unexplained patients among them. */
export function countWhere(s: UserState, d: UserDay, patient: Patient, e: AccessEvent, hour: number, net: NetworkUse | undefined, unexplained: boolean): void {
  if (net) {
    net.accesses++;
    if (!unexplained) {
      net.explained++;
      net.explainedDays.add(d.day);
      s.explainedFromNetworks++;
    }
    if (unexplained && net.unexplainedPatients.length < SAMPLE && !net.unexplainedPatients.includes(patient.idx)) {
      net.unexplainedPatients.push(patient.idx);
      net.unexplainedTimes.push(e.t);
    }
    return;
  }
  const b = (d.blind ??= { accesses: new Uint16Array(24), patients: [], times: [], sessionStarts: [] });
  if (b.accesses[hour] < 65_535) b.accesses[hour]++;
  if (unexplained && b.patients.length < SAMPLE && !b.patients.includes(patient.idx)) {
    b.patients.push(patient.idx);
    b.times.push(e.t);
    b.sessionStarts.push(s.sessionStart);
  }
}
