/**
 * Pair scenarios, from the (user, patient) aggregates: personal ties (self, family, co-worker,
 * neighbour, VIP) tested against the hospital's own base rates (baseRates.ts), charts many
 * unrelated users open at once (trending.ts), curiosity and department mismatch against the peers'
 * rate. Each is a candidate with a p-value for the alert budget (budget.ts), which decides what
 * becomes an alert and what the watch list; then repeat offenders over every alert of the run.
 */
import type { Alert, Scenario } from '../catalog.js';
import type { Pair } from './accumulate.js';
import { fmt, NO_LINK } from './alerting.js';
import type { DetectionContext } from './detect.js';
import { isTie, TIE_KEYS, tieKey, type Context, type Tie, type TieKey, type TieRate } from './baseRates.js';
import type { User } from './reference.js';
import { negBinomialTail, poissonTail, scoreFromTail } from './stats.js';
import { INCIDENT_GAP_MS, MIN_PEERS, REPEAT_GAP_MS } from './thresholds.js';
import { learnRevisits, revisitShare, revisitTails, type Revisits } from './revisits.js';
import { relation } from './ties.js';
import { trendingPairs } from './trending.js';

interface Item {
  pair: Pair;
  evidence: string;
}

const TIE_WORDS: Record<TieKey, string> = {
  self: "the user's own chart",
  family: 'of their household or family',
  coworker: 'members of staff of another department',
  'coworker-own-department': "members of staff of the user's own department",
  neighbour: 'neighbours (same street)',
  vip: 'labelled VIP / celebrity',
};

/**
 * A personal tie against the hospital's base rate: per kind of tie and context (unexplained
 * pairs against all explained pairs, idle weakly explained pairs against weakly explained ones),
 * how many tied patients the user's pairs would hold if they were like their peers' explained
 * work (Poisson tail); and how many days the most revisited tied patient was opened on, against
 * the log's own shares of such pairs that come back on as many days (revisits.ts): a colleague's
 * chart opened on four days is far rarer in ordinary work than one opened on two, and was tested
 * as if it were (until 2026-12-06 the test stopped at "two days or more"). The smaller tail; each
 * cell's two tests are charged to the budget by nullTests whether they found anything or not.
 */
function tieTest(ctx: DetectionContext, u: User, tie: Tie, items: Item[], n: { any: number; weak: number }, back: Revisits): { p: number; checked: string } {
  if (!ctx.acc.ties.learned())
    return { p: 0, checked: 'too little explained work in the log to learn how common such ties are here: flagged on the tie alone' };
  const cells = new Map<string, { key: TieKey; context: Context; k: number; most: number; days: number }>();
  for (const x of items) {
    const key = tieKey(ctx.ref, u, ctx.ref.patients[x.pair.patient], tie);
    const context: Context = x.pair.unexplained > 0 || tie === 'self' ? 'any' : 'weak';
    const id = `${key}|${context}`;
    const cell = cells.get(id) ?? { key, context, k: 0, most: 0, days: 0 };
    cell.k++;
    // Returning to a chart one writes in is care; the ladder counts read-only returns (as the log's shares do).
    if (!x.pair.wrote && x.pair.visits > cell.most) {
      cell.most = x.pair.visits;
      cell.days = x.pair.days.length;
    }
    cells.set(id, cell);
  }
  let best = { p: Infinity, checked: '' };
  for (const { key, context, k, most, days } of cells.values()) {
    const r = rateFor(ctx, u, key, context);
    const pairs = context === 'weak' ? n.weak : key === 'self' ? Math.max(1, n.any) : n.any;
    const expected = pairs * r.rate;
    const tests: Array<[number, number, number, string]> = [[poissonTail(k, expected), k, expected, '']];
    if (most >= 2) {
      const share = revisitShare(back, context, most);
      tests.push([
        -Math.expm1(-expected * share),
        1,
        expected * share,
        ` opened on ${most} separate visits or more (${days} day${days === 1 ? '' : 's'}; ${pctOf(share)} of such pairs in this log have as many)`,
      ]);
    }
    for (const [p, seen, lambda, what] of tests) {
      if (p < best.p)
        best = {
          p,
          checked:
            `base rate: ${r.withTie} of ${r.pairs} patients the user's ${r.group} peers opened ${r.reference} are ${TIE_WORDS[key]}` +
            ` (pooled with the wider hospital: rate ${r.rate.toPrecision(2)}); about ${lambda.toPrecision(2)} expected${what} among the user's ${pairs} ${context === 'weak' ? 'weakly explained' : 'unexplained'} patients, ${seen} seen`,
        };
    }
  }
  return best;
}

/** The rate to test against: for unexplained pairs, the higher of explained work's and the peers' unexplained work's. */
function rateFor(ctx: DetectionContext, u: User, key: TieKey, context: Context): TieRate & { reference: string } {
  const r = ctx.acc.ties.rate(u, key, context);
  if (context === 'weak') return { ...r, reference: 'explained only by the ward, department or role' };
  if (ctx.acc.ties.unexplainedUsers(u, key) < MIN_PEERS) return { ...r, reference: 'with an explanation' };
  // Little unexplained work says little: it is pooled with explained work's rate.
  const unx = ctx.acc.ties.rate(u, key, 'unexplained', r.rate);
  return unx.rate > r.rate ? { ...unx, reference: 'with no explanation' } : { ...r, reference: 'with an explanation' };
}

const pctOf = (x: number) => (x >= 0.01 ? `${(100 * x).toFixed(0)}%` : `${(100 * x).toPrecision(1)}%`);

/** The tie tests made for a user, one count and one revisit ladder per kind of tie and context: what the budget charges. */
function nullTests(ctx: DetectionContext, u: User, n: { any: number; weak: number }, back: Revisits): void {
  for (const key of TIE_KEYS) {
    // A tie no patient of the hospital can have with this user (no record of their own; no one on
    // their street, phone or address) is a test that cannot fire: the budget's rule for tests whose
    // smallest possible p is above the level, and not charged.
    if (key === 'self' && u.selfPatients.size === 0) continue;
    if ((key === 'family' || key === 'neighbour') && u.householdPatients.size === 0) continue;
    const any = (key === 'self' ? Math.max(1, n.any) : n.any) * rateFor(ctx, u, key, 'any').rate;
    ctx.budget.test(any);
    ctx.budget.ladder(revisitTails(back, 'any', any));
    if (key === 'self') continue;
    const weak = n.weak * ctx.acc.ties.rate(u, key, 'weak').rate;
    ctx.budget.test(weak);
    ctx.budget.ladder(revisitTails(back, 'weak', weak));
  }
}

/**
 * Each user's pairs become candidates for the alert budget (budget.ts): personal ties tested
 * against the hospital's own base rates (baseRates.ts), charts in the news, and curiosity and
 * department mismatch against the peers' rate.
 */
export function pairScenarios(ctx: DetectionContext): void {
  const trending = trendingPairs(ctx);
  const back = learnRevisits(ctx.acc.pairs.values());
  ctx.acc.ties.learnUnexplained(ctx.acc.pairs.values());
  for (const s of ctx.peers.states) {
    const u = s.user;
    const personal = new Map<Scenario, Item[]>();
    const add = (scenario: Scenario, pair: Pair, evidence: string) => {
      const list = personal.get(scenario) ?? [];
      list.push({ pair, evidence });
      personal.set(scenario, list);
    };
    const candidates: Pair[] = [];
    const news: Item[] = [];
    let unexplained = 0;
    for (const pair of ctx.peers.pairsOf(u.idx)) {
      if (ctx.alerts.isConsumed(pair)) continue;
      if (pair.unexplained > 0) unexplained++;
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
        news.push({ pair, evidence: 'many users with no care link opened this chart on the same day' });
        continue;
      }
      candidates.push(pair);
    }
    const n = { any: unexplained, weak: ctx.acc.ties.weakPairsOf(u.idx) };
    nullTests(ctx, u, n, back);
    for (const [scenario, items] of personal) {
      if (!isTie(scenario)) continue;
      const t = tieTest(ctx, u, scenario, items, n, back);
      propose(ctx, u, scenario, items, t.p, t.checked);
    }
    if (news.length > 0) {
      const p = Math.min(...news.map((x) => trending.get(x.pair) ?? 1));
      propose(
        ctx,
        u,
        'vip',
        news,
        p,
        "many users with no care link opened the same chart within a day: more than the log's own rate of unexplained readers per chart makes likely",
      );
    }
    // Curiosity and department mismatch: more unexplained, read-only patients than the peers' rate
    // makes likely, allowing for how much that rate differs from one peer to the next (a negative
    // binomial; a Poisson at the median rate took every user with a habit above it for a snoop).
    const b = ctx.peers.baseline(s);
    const expected = b.candidatesPerAccess * s.accesses;
    const variance = expected + b.candidatesRateVariance * s.accesses ** 2;
    ctx.budget.negBinomialTest(expected, variance);
    if (candidates.length > 0) {
      const p = negBinomialTail(candidates.length, expected, variance);
      const checked = `${candidates.length} unexplained, read-only patients against about ${fmt(expected)} at the peer group's rate (± ${fmt(Math.sqrt(variance))}, as much as it differs between the peers)`;
      const elsewhere = candidates
        .filter((x) => x.elsewhere)
        .map((pair) => ({ pair, evidence: 'the patient was under care in another department at the time' }));
      const quiet = candidates
        .filter((x) => !x.elsewhere)
        .map((pair) => ({ pair, evidence: 'no clinical action and nothing else in the records explains it' }));
      if (elsewhere.length > 0) propose(ctx, u, 'department', elsewhere, p, checked);
      if (quiet.length > 0) propose(ctx, u, 'curiosity', quiet, p, checked);
    }
  }
}

const BASE_SCORE: Record<string, number> = { self: 0.9, family: 0.85, coworker: 0.7, neighbour: 0.7, vip: 0.75, department: 0.6, curiosity: 0.55 };

/** One candidate for the budget: the user's pairs of one scenario, alerted one incident window at a time. */
function propose(ctx: DetectionContext, u: User, scenario: Scenario, items: Item[], p: number, checked: string): void {
  const groups = groupByTime(items);
  const evidenceOf = (group: Item[]) => {
    const accesses = group.reduce((n, x) => n + x.pair.accesses, 0);
    const days = new Set(group.flatMap((x) => x.pair.days)).size;
    const readOnly = group.every((x) => !x.pair.wrote);
    const evidence = [...new Set(group.map((x) => x.evidence))];
    if (group.some((x) => x.pair.unexplained > 0)) evidence.push(NO_LINK);
    evidence.push(
      `${accesses} access${accesses === 1 ? '' : 'es'} to ${group.length} patient${group.length === 1 ? '' : 's'} over ${days} day${days === 1 ? '' : 's'}${readOnly ? ', no clinical action' : ''}`,
    );
    return { evidence, accesses };
  };
  ctx.budget.add({
    user: u,
    scenario,
    p,
    checked,
    patients: [...new Set(items.map((x) => ctx.ref.patients[x.pair.patient].ref))],
    first: Math.min(...items.map((x) => x.pair.first)),
    last: Math.max(...items.map((x) => x.pair.last)),
    evidence: evidenceOf(items).evidence,
    emit: (why) => {
      for (const group of groups) {
        // A credentials alert the budget raised first covers this window: someone else's work.
        if (ctx.alerts.covered(u.idx, Math.min(...group.map((x) => x.pair.first)), Math.max(...group.map((x) => x.pair.last)))) continue;
        const { evidence, accesses } = evidenceOf(group);
        const score =
          Math.max(BASE_SCORE[scenario] ?? 0.6, scoreFromTail(p, ctx.budget.level)) + 0.04 * Math.min(5, accesses - 1) + 0.03 * Math.min(5, group.length - 1);
        ctx.alerts.emit(
          u,
          scenario,
          group.map((x) => x.pair.patient),
          Math.min(...group.map((x) => x.pair.first)),
          Math.max(...group.map((x) => x.pair.last)),
          score,
          [...evidence, why],
          false,
        );
      }
    },
  });
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
