/**
 * Pair scenarios, from the (user, patient) aggregates: personal ties (self, family, co-worker,
 * neighbour, VIP), charts many unrelated users open at once, curiosity and department mismatch
 * against the peers' rate; then repeat offenders over every alert of the run.
 */
import type { Alert, Scenario } from '../catalog.js';
import type { Pair } from './accumulate.js';
import { NO_LINK } from './alerting.js';
import type { DetectionContext } from './detect.js';
import { DAY_MS } from './reference.js';
import { poissonTail } from './stats.js';
import { ALPHA_DAY, ALPHA_USER, INCIDENT_GAP_MS, REPEAT_GAP_MS } from './thresholds.js';
import { relation } from './ties.js';

/**
 * Pairs of patients many unrelated users opened within a day of each other: news travels, a chart
 * becomes famous. The rate to beat is the log's own: unexplained readers per patient per day.
 */
function trendingPairs(ctx: DetectionContext): Set<Pair> {
  const byPatient = new Map<number, Pair[]>();
  let total = 0;
  for (const p of ctx.acc.pairs.values()) {
    if (p.unexplained === 0 || p.wrote) continue;
    const list = byPatient.get(p.patient);
    if (list) list.push(p);
    else byPatient.set(p.patient, [p]);
    total++;
  }
  const days = Math.max(1, (ctx.acc.lastT - ctx.acc.firstT) / DAY_MS);
  const rate = total / Math.max(1, ctx.ref.patients.length * days);
  const out = new Set<Pair>();
  for (const list of byPatient.values()) {
    if (list.length < 3) continue;
    list.sort((a, b) => a.first - b.first);
    for (let i = 0, j = 0; j < list.length; j++) {
      // The window's start catches up with its end at most: i never passes j.
      while (i < j && list[j].first - list[i].first > DAY_MS) i++;
      const n = j - i + 1;
      if (n >= 3 && poissonTail(n, rate) < ALPHA_DAY) for (let k = i; k <= j; k++) out.add(list[k]);
    }
  }
  return out;
}

export function pairScenarios(ctx: DetectionContext): void {
  const trending = trendingPairs(ctx);
  for (const s of ctx.peers.states) {
    const u = s.user;
    const personal = new Map<Scenario, Array<{ pair: Pair; evidence: string }>>();
    const add = (scenario: Scenario, pair: Pair, evidence: string) => {
      const list = personal.get(scenario) ?? [];
      list.push({ pair, evidence });
      personal.set(scenario, list);
    };
    const candidates: Pair[] = [];
    for (const pair of ctx.peers.pairsOf(u.idx)) {
      if (ctx.alerts.isConsumed(pair)) continue;
      const patient = ctx.ref.patients[pair.patient];
      const rel = relation(ctx.ref, u, patient);
      // A personal tie outweighs a weak explanation (the role, the ward, the department) unless the user did the work it stands for.
      const weakOnly = pair.idleWeak.length > 0;
      if (rel && (pair.unexplained > 0 || rel.scenario === 'self' || weakOnly)) {
        add(
          rel.scenario,
          pair,
          rel.evidence +
            (pair.unexplained === 0 && rel.scenario !== 'self'
              ? ' (only the role, ward or department explains the access, and the user wrote, exported or printed nothing)'
              : ''),
        );
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
      const rate = ctx.peers.baseline(s).candidatesPerAccess;
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
        evidence.push(
          `${accesses} access${accesses === 1 ? '' : 'es'} to ${group.length} patient${group.length === 1 ? '' : 's'} over ${days} day${days === 1 ? '' : 's'}${readOnly ? ', no clinical action' : ''}`,
        );
        const base: Record<string, number> = { self: 0.9, family: 0.85, coworker: 0.7, neighbour: 0.7, vip: 0.75, department: 0.6, curiosity: 0.55 };
        const score = (base[scenario] ?? 0.6) + 0.04 * Math.min(5, accesses - 1) + 0.03 * Math.min(5, group.length - 1);
        ctx.alerts.emit(
          u,
          scenario,
          group.map((x) => x.pair.patient),
          Math.min(...group.map((x) => x.pair.first)),
          Math.max(...group.map((x) => x.pair.last)),
          score,
          evidence,
          false,
        );
      }
    }
  }
}

export function repeatOffenders(ctx: DetectionContext): void {
  const byUser = new Map<string, Alert[]>();
  for (const a of ctx.alerts.alerts) {
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
    const user = ctx.ref.userFor(userRef)!;
    const patients = list.flatMap((a) => a.patients).map((r) => ctx.ref.patientFor(r)!.idx);
    const evidence = [`${incidents} separate incidents: ${[...new Set(list.map((a) => a.scenario))].join(', ')}`];
    const first = Date.parse(list[0].firstAccess);
    const last = Math.max(...list.map((a) => Date.parse(a.lastAccess)));
    ctx.alerts.emit(user, 'repeat', patients, first, last, Math.max(...list.map((a) => a.score)) + 0.05 * (incidents - 1), evidence, false);
  }
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
