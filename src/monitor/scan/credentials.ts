/**
 * Shared or stolen credentials: one login in two places at once (two networks alternating within
 * minutes), or used from a network the user rarely uses in hours the user does not work.
 */
import type { UserState } from './accumulate.js';
import type { DetectionContext } from './detect.js';
import { SIMULTANEOUS_PINGS_PER_HOUR } from './thresholds.js';

export function credentials(ctx: DetectionContext, s: UserState): void {
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
    const simultaneous = Math.max(SIMULTANEOUS_PINGS_PER_HOUR, 3 * ctx.peers.baseline(s).pingsPerHour);
    if ((n.pingPong >= 3 && !usual(n)) || n.maxPingsPerHour >= simultaneous) {
      evidence.push(`${n.pingPong} alternations within 5 minutes (${n.maxPingsPerHour} in one hour) between ${usual(n) ? 'two networks' : 'a network the user rarely uses and another'}: one account in two places at once`);
      score = Math.max(score, 0.7 + 0.29 * (1 - Math.exp(-n.pingPong / 10)));
      first = n.pingFirst;
      last = n.pingLast;
    }
    if (!usual(n) && usualTotal > 0 && ctx.peers.sharedNetworkUsers(n.network, s.user.idx) < 3) {
      // Hours that make up under 5% of the user's work from their usual networks (an odd overtime night stays under it).
      let offShift = 0;
      for (let h = 0; h < 24; h++) if (usualHours[h] / usualTotal < 0.05) offShift += n.hours[h];
      if (offShift >= 3 && offShift >= 0.5 * n.events) {
        evidence.push(`${offShift} events outside the hours the user works, from a network the user used on ${n.days.size} day(s) and few others use`);
        score = Math.max(score, 0.65 + 0.3 * (1 - Math.exp(-offShift / 20)));
      }
    }
    if (evidence.length === 0) continue;
    ctx.alerts.emit(s.user, 'credentials', n.patients, first, last, score, evidence, true);
  }
}
