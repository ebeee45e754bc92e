/**
 * Bulk detectors, tested per user-day: a day's distinct patients (volume) or exported and printed
 * patients (mass export) beyond robust fences of both the user's other days and the peers' days,
 * and sweeps through consecutive identifiers or names (enumeration) improbable against the peers.
 */
import type { UserDay, UserState } from './accumulate.js';
import { fmt, isoDay } from './alerting.js';
import type { DetectionContext } from './detect.js';
import type { DailyStat } from './peers.js';
import { DAY_MS } from './reference.js';
import { median, poissonQuantile, poissonTail, quantile, scaledMad, scoreFromRatio, scoreFromTail } from './stats.js';
import { ALPHA_DAY, FENCE_MADS, MIN_MASS } from './thresholds.js';

/** Fence over the user's other days and over the peers' days; both must be crossed. */
function fence(s: UserState, own: (d: UserDay) => number, peers: DailyStat, except: UserDay, floor: number, bursty = false) {
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

export function volume(ctx: DetectionContext, s: UserState): void {
  const b = ctx.peers.baseline(s);
  const flagged: Array<{ d: UserDay; f: ReturnType<typeof fence> }> = [];
  for (const d of s.days.values()) {
    if (d.distinct < 5 || ctx.alerts.covered(s.user.idx, d.unexplainedFirst, d.unexplainedLast)) continue;
    const f = fence(s, (x) => x.distinct, b.dailyDistinct, d, 5);
    // A busy day of explained work is not misuse: most of the excess must be unexplained.
    if (d.distinct > f.threshold && d.unexplained >= Math.max(3, 0.5 * (d.distinct - f.base))) flagged.push({ d, f });
  }
  for (const run of consecutiveDays(flagged.map((x) => x.d))) {
    const items = flagged.filter((x) => run.includes(x.d));
    const top = items.reduce((a, c) => (c.d.distinct / c.f.threshold > a.d.distinct / a.f.threshold ? c : a));
    const ratioPeers = top.f.peerMed > 0 ? `, ${fmt(top.d.distinct / top.f.peerMed)}× the user's peer group (median ${fmt(top.f.peerMed)})` : '';
    const ratioOwn = top.f.ownMed > 0 ? `, ${fmt(top.d.distinct / top.f.ownMed)}× the user's own median (${fmt(top.f.ownMed)})` : '';
    const evidence = [
      `${top.d.distinct} distinct patients on ${isoDay(top.d.day * DAY_MS)}${ratioPeers}${ratioOwn}`,
      `${run.reduce((n, d) => n + d.unexplained, 0)} of them with no care link explaining the access`,
    ];
    if (run.length > 1) evidence.push(`${run.length} such days in a row`);
    const patients = run.flatMap((d) => d.unexplainedPatients);
    ctx.alerts.emit(
      s.user,
      'volume',
      patients,
      Math.min(...run.map((d) => d.unexplainedFirst)),
      Math.max(...run.map((d) => d.unexplainedLast)),
      scoreFromRatio(top.d.distinct, top.f.threshold),
      evidence,
      true,
    );
  }
}

export function massExport(ctx: DetectionContext, s: UserState): void {
  const b = ctx.peers.baseline(s);
  const flagged: Array<{ d: UserDay; f: ReturnType<typeof fence> }> = [];
  for (const d of s.days.values()) {
    if (d.exported < MIN_MASS || ctx.alerts.covered(s.user.idx, d.exportFirst, d.exportLast)) continue;
    const f = fence(s, (x) => x.exported, b.dailyExported, d, MIN_MASS, true);
    if (d.exported > f.threshold) flagged.push({ d, f });
  }
  for (const run of consecutiveDays(flagged.map((x) => x.d))) {
    const items = flagged.filter((x) => run.includes(x.d));
    const top = items.reduce((a, c) => (c.d.exported / c.f.threshold > a.d.exported / a.f.threshold ? c : a));
    const evidence = [
      `${top.d.exported} patients exported or printed on ${isoDay(top.d.day * DAY_MS)}`,
      `peer group median ${fmt(top.f.peerMed)} a day, the user's own median ${fmt(top.f.ownMed)}; threshold ${fmt(top.f.threshold)}`,
    ];
    ctx.alerts.emit(
      s.user,
      'export',
      run.flatMap((d) => d.exportPatients),
      Math.min(...run.map((d) => d.exportFirst)),
      Math.max(...run.map((d) => d.exportLast)),
      scoreFromRatio(top.d.exported, top.f.threshold),
      evidence,
      true,
    );
  }
}

export function enumeration(ctx: DetectionContext, s: UserState): void {
  const b = ctx.peers.baseline(s);
  // By chance alone, the next chart is within 3 ranks by identifier or by name with probability about 12/N.
  const chance = 12 / Math.max(12, ctx.ref.patients.length);
  const others = [...b.adjacencyByUser].filter(([u]) => u !== s.user.idx).map(([, r]) => r);
  const rate = Math.max(others.length > 0 ? median(others) : 0, chance);
  const flagged: Array<{ d: UserDay; p: number }> = [];
  for (const d of s.days.values()) {
    if (d.adjacent < 5 || ctx.alerts.covered(s.user.idx, d.sweepFirst, d.sweepLast)) continue;
    const p = poissonTail(d.adjacent, rate * d.steps);
    if (p < ALPHA_DAY) flagged.push({ d, p });
  }
  for (const run of consecutiveDays(flagged.map((x) => x.d))) {
    const items = flagged.filter((x) => run.includes(x.d));
    const top = items.reduce((a, c) => (c.p < a.p ? c : a));
    const d = top.d;
    const evidence = [
      `${d.adjacent} of ${d.steps} consecutive charts on ${isoDay(d.day * DAY_MS)} next to each other by identifier or name (expected about ${fmt(rate * d.steps)})`,
    ];
    if (d.searches > 0) evidence.push(`${d.searches} searches that day`);
    if (d.shortViews > 0) evidence.push(`${d.shortViews} charts left within 15 seconds`);
    ctx.alerts.emit(
      s.user,
      'enumeration',
      run.flatMap((x) => x.sweepPatients),
      Math.min(...run.map((x) => x.sweepFirst)),
      Math.max(...run.map((x) => x.sweepLast)),
      scoreFromTail(top.p, ALPHA_DAY),
      evidence,
      true,
    );
  }
}

/** Days in runs of consecutive calendar days (a gap of one free day still joins them). */
export function consecutiveDays(days: UserDay[]): UserDay[][] {
  const sorted = [...days].sort((a, b) => a.day - b.day);
  const runs: UserDay[][] = [];
  for (const d of sorted) {
    const last = runs[runs.length - 1];
    if (last && d.day - last[last.length - 1].day <= 2) last.push(d);
    else runs.push([d]);
  }
  return runs;
}
