/**
 * Account-level detectors, each a test made once per user over the log: an account used after its
 * employment ended, unexplained access piling up before it ends (harvesting), and break-the-glass
 * used more than the peers do with no clinical action after.
 */
import type { UserState } from './accumulate.js';
import { fmt, isoDay, NO_LINK } from './alerting.js';
import type { DetectionContext } from './detect.js';
import { idleBreakGlass } from './peers.js';
import { DAY_MS } from './reference.js';
import { poissonTail, scoreFromTail } from './stats.js';
import { ALPHA_USER, HARVEST_WINDOW_MS } from './thresholds.js';

export function terminated(ctx: DetectionContext, s: UserState): void {
  const u = s.user;
  if (s.afterEnd.count === 0 || u.endMs === undefined) return;
  const ended = isoDay(u.endMs);
  const evidence = [`${s.afterEnd.count} events after employment ended on ${ended}`];
  if (s.afterEnd.patients.length > 0)
    evidence.push(`${s.afterEnd.patients.length}${s.afterEnd.patients.length >= 400 ? '+' : ''} patients opened by an account that should no longer be in use`);
  ctx.alerts.emit(u, 'terminated', s.afterEnd.patients, s.afterEnd.first, s.afterEnd.last, 0.8 + 0.19 * (1 - Math.exp(-s.afterEnd.count / 20)), evidence, true);
}

export function harvesting(ctx: DetectionContext, s: UserState): void {
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
  const peers = ctx.peers.baseline(s).unexplainedPerDay;
  const rate = Math.max(own, peers);
  const p = poissonTail(inside, rate * insideDays);
  if (p >= ALPHA_USER) return;
  const evidence = [
    `${inside} unexplained patient accesses in the ${insideDays} working days before employment ends on ${isoDay(u.endMs)}`,
    `expected about ${fmt(rate * insideDays)} from ${own >= peers ? "the user's own earlier weeks" : 'the peer group'}`,
    NO_LINK + ' (for those patients)',
  ];
  ctx.alerts.emit(u, 'harvesting', patients, first, last, scoreFromTail(p, ALPHA_USER), evidence, true);
}

export function breakGlass(ctx: DetectionContext, s: UserState): void {
  const pairs = ctx.peers.factsOf(s.user.idx).breakGlassPairs;
  if (pairs.length === 0) return;
  const idle = pairs.filter(idleBreakGlass);
  if (idle.length === 0) return;
  const b = ctx.peers.baseline(s);
  const days = Math.max(1, s.days.size);
  const pIdle = idle.length >= 2 ? poissonTail(idle.length, b.breakGlassIdlePerDay * days) : 1;
  const pRate = pairs.length >= 3 ? poissonTail(pairs.length, b.breakGlassPerDay * days) : 1;
  const p = Math.min(pIdle, pRate);
  if (p >= ALPHA_USER) return;
  const evidence = [
    `${idle.length} break-the-glass accesses with no clinical action in the day after and no care link`,
    `${pairs.length} break-the-glass patients in ${days} working days; peer group median ${fmt(b.breakGlassPerDay * days)} over the same time`,
  ];
  ctx.alerts.emit(
    s.user,
    'break-glass',
    idle.map((x) => x.patient),
    Math.min(...idle.map((x) => x.first)),
    Math.max(...idle.map((x) => x.last)),
    scoreFromTail(p, ALPHA_USER),
    evidence,
    true,
  );
}
