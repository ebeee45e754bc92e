/**
 * False-alert control over the whole scan. The pair detectors (personal ties, curiosity,
 * department mismatch) do not alert on their own: each hands in a candidate with a p-value (the
 * probability, under the hospital's own base rates, of seeing at least this much if the user's
 * work were ordinary), and every test made registers its expected count λ, whether it found
 * anything or not. The scan's level α is the largest p-value of a candidate at which the expected
 * number of false alerts, Σ over all tests of P(Poisson(λ) reaches a count with tail ≤ α), stays
 * within the alert budget: an explicit budget, computed from the discrete tests as they are (a
 * test whose smallest possible p is above α cannot give a false alert, and is not charged for one).
 * Candidates above the level are not dropped: they make the ranked watch list, with the same
 * plain-words evidence.
 */
import type { Scenario } from '../catalog.js';
import type { User } from './reference.js';
import { negBinomialQuantile, negBinomialTail, poissonQuantile, poissonTail } from './stats.js';

/** Default: at most one false alert per 1,000 user-days from the whole scan. */
export const FALSE_ALERTS_PER_1000_USER_DAYS = 1;
/**
 * The share of the budget the ranked (pair) detectors may spend; the account and bulk detectors
 * keep their fixed per-user and per-day levels (thresholds.ts) and spend the rest.
 */
export const PAIR_BUDGET_SHARE = 0.5;
/** No level above this, whatever the budget allows: a p-value of 0.05 is not evidence enough to accuse anyone. */
export const MAX_LEVEL = 0.05;
/**
 * A scan of a few users over a few days (a small practice, the live monitor's window) may still
 * spend this many expected false alerts: less would leave it blind to a single snoop.
 */
export const MIN_BUDGET = 1;
/** The watch list keeps this many candidates at most, the most improbable first. */
export const WATCH_MAX = 200;
/** Candidates less surprising than this are ordinary and not worth a privacy officer's look. */
export const WATCH_P = 0.2;

export interface Candidate {
  user: User;
  scenario: Scenario;
  p: number;
  /** What was compared with what, in plain words. */
  checked: string;
  /** Emits the candidate's alerts (one per incident window) with the evidence given. */
  emit: (extra: string) => void;
  /** The candidate's patients and window, for the watch list. */
  patients: string[];
  first: number;
  last: number;
  evidence: string[];
  /** An account-level candidate (credentials): when it alerts, its window is no longer the pair detectors'. */
  covers?: boolean;
}

export interface WatchItem {
  user: string;
  scenario: Scenario;
  patients: string[];
  p: number;
  firstAccess: string;
  lastAccess: string;
  evidence: string[];
  /** The scan's level: a candidate alerts when its p-value (times its weight) is at or below it. */
  level: number;
  /**
   * Present when privacy officers' closures weighed this pattern down (learning.ts): the factor
   * its p-value was multiplied by before the level was applied.
   */
  weight?: number;
}

export interface BudgetOptions {
  /** Expected false alerts per 1,000 user-days the clinic accepts. */
  falseAlertsPer1000UserDays?: number;
  /** What privacy officers' closures taught (live/learning.ts): a pattern's p-values weighed down. */
  adjustments?: PatternWeight[];
}

/**
 * A pattern a privacy officer's closures weighed down: the scenario for one peer group (role ×
 * department, `User.peerKey`). Its candidates' p-values are multiplied by `weight` (1 to
 * MAX_WEIGHT) before the level is applied; what no longer reaches it goes to the watch list.
 */
export interface PatternWeight {
  scenario: Scenario;
  group: string;
  weight: number;
}

/**
 * The most a pattern can be weighed down, whatever the closures: a candidate ten times more
 * improbable than the level still alerts, so closing cases cannot switch a detector off.
 */
export const MAX_WEIGHT = 10;

export class AlertBudget {
  readonly candidates: Candidate[] = [];
  level = 0;
  /** Expected false alerts of the pair detectors at the chosen level. */
  expected = 0;
  watch: WatchItem[] = [];

  constructor(
    private readonly userDays: number,
    private readonly opts: BudgetOptions = {},
  ) {}

  /** Expected counts of the tests made, users with nothing to flag included. */
  private readonly nulls: number[] = [];
  /** The same for tests made only where the count is at least one (a chart-day with a reader). */
  private readonly given: number[] = [];

  add(c: Candidate): void {
    this.candidates.push(c);
  }

  /**
   * Tests whose p-value falls to α or below with probability at most α (empirical tails), each
   * firing for as many users as `alertsAt(α)` says (a crowd of readers is one alert per reader).
   */
  private uniformTests: Array<{ tests: number; alertsAt: (alpha: number) => number }> = [];

  uniform(tests: number, alertsAt: (alpha: number) => number = () => 1): void {
    this.uniformTests.push({ tests, alertsAt });
  }

  /**
   * Tests of a count that is negative binomial (mean, variance) when the user's work is ordinary:
   * charged, as the Poisson ones, the tail at the smallest count whose tail is within α.
   */
  private readonly overdispersed: Array<[number, number]> = [];

  negBinomialTest(mean: number, variance: number): void {
    if (mean > 0) this.overdispersed.push([mean, variance]);
  }

  /**
   * Tests whose p-value can only be one of `tails` (decreasing; a revisit ladder, revisits.ts):
   * at level α each is charged the largest of its tails within α, the chance it falls that low.
   */
  private readonly ladders: number[][] = [];

  ladder(tails: number[]): void {
    if (tails.length > 0 && tails[0] > 0) this.ladders.push(tails);
  }

  /** One test made: the count it compares with is Poisson(λ) when the user's work is ordinary. */
  test(lambda: number, givenOne = false): void {
    if (lambda > 0) (givenOne ? this.given : this.nulls).push(lambda);
  }

  /** Expected false alerts at level α: for each test, the probability its p-value falls to α or below. */
  expectedFalse(alpha: number): number {
    if (!(alpha > 0)) return 0;
    let sum = 0;
    for (const [mean, variance] of this.overdispersed) sum += negBinomialTail(negBinomialQuantile(alpha, mean, variance), mean, variance);
    // An empirical share is never below 1/tests: at most ⌊α·tests⌋ of them fall to α. The level
    // is one of those shares, k/tests, and (k/tests)·tests can come out a hair under k in doubles
    // (1/49·49 < 1): floored as it is, the largest crowd of a log was charged nothing, and the
    // top of the log's own distribution alerted for free.
    for (const u of this.uniformTests) sum += Math.floor(alpha * u.tests * (1 + 1e-9)) * u.alertsAt(alpha);
    for (const lambda of this.nulls) {
      // The smallest count whose tail is within α; its tail is the chance of a false alert.
      const k = lambda < 1 ? smallK(lambda, alpha) : poissonQuantile(lambda, alpha);
      sum += poissonTail(k, lambda);
    }
    for (const tails of this.ladders) {
      // The first rung within α (tails are decreasing; a binary search keeps this cheap).
      let lo = 0;
      let hi = tails.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (tails[mid] <= alpha) hi = mid;
        else lo = mid + 1;
      }
      if (lo < tails.length) sum += tails[lo];
    }
    for (const lambda of this.given) {
      const one = -Math.expm1(-lambda);
      const k = lambda < 1 ? smallK(lambda, alpha * one) : poissonQuantile(lambda, alpha * one);
      sum += poissonTail(k, lambda) / one;
    }
    return sum;
  }

  /** Decides every candidate: alert at or below the scan's level, the watch list above it. */
  decide(): void {
    const per1000 = this.opts.falseAlertsPer1000UserDays ?? FALSE_ALERTS_PER_1000_USER_DAYS;
    const budget = Math.max(MIN_BUDGET, (PAIR_BUDGET_SHARE * per1000 * this.userDays) / 1000);
    const weights = new Map<string, number>();
    for (const w of this.opts.adjustments ?? []) if (w.weight > 1) weights.set(`${w.scenario}|${w.group}`, Math.min(MAX_WEIGHT, w.weight));
    const weightOf = (c: Candidate) => weights.get(`${c.scenario}|${c.user.peerKey}`) ?? 1;
    // A weighed-down pattern is judged on its p-value times the weight, against the level the
    // unweighted candidates set: learning moves that pattern's candidates to the watch list and
    // never raises or lowers the bar of anything else.
    const pw = (c: Candidate) => Math.min(1, c.p * weightOf(c));
    const ranked = [...this.candidates].sort((a, b) => pw(a) - pw(b) || a.p - b.p);
    // Binary search over the candidates' own p-values (the level only matters where one lies).
    const ps = [...new Set(this.candidates.map((c) => c.p).filter((p) => p <= MAX_LEVEL))].sort((x, y) => x - y);
    let lo = -1;
    let hi = ps.length;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (this.expectedFalse(ps[mid]) <= budget) lo = mid;
      else hi = mid;
    }
    this.level = lo >= 0 ? ps[lo] : 0;
    this.expected = lo >= 0 ? this.expectedFalse(this.level) : 0;
    const m = this.overdispersed.length + this.nulls.length + this.given.length + this.ladders.length + this.uniformTests.reduce((n, u) => n + u.tests, 0);
    const pct = (x: number) => (x < 1e-4 ? x.toExponential(1) : x.toPrecision(2));
    const weighed = (c: Candidate) => {
      const w = weightOf(c);
      return w > 1 ? ` (× ${w.toPrecision(2)}: privacy officers closed such cases for this role and department as legitimate or false positives)` : '';
    };
    const why = (c: Candidate) =>
      `${c.checked}; p = ${pct(c.p)}${weighed(c)}, the scan's level ${pct(this.level)} (${m} tests, expected false alerts ${this.expected.toFixed(1)} within a budget of ${budget.toFixed(1)}: ${per1000} per 1,000 user-days)`;
    // Account-level alerts first, as outside the budget: the pairs inside their window are theirs.
    for (const c of ranked) if (c.covers && pw(c) <= this.level) c.emit(why(c));
    for (const c of ranked) {
      if (pw(c) <= this.level) {
        if (!c.covers) c.emit(why(c));
      } else if (c.p < WATCH_P && this.watch.length < WATCH_MAX)
        // Learning never drops a candidate: one weighed down below the level is watched on its own p.
        this.watch.push({
          user: c.user.ref,
          scenario: c.scenario,
          patients: c.patients,
          p: Number(c.p.toPrecision(3)),
          firstAccess: new Date(c.first).toISOString(),
          lastAccess: new Date(c.last).toISOString(),
          evidence: [...c.evidence, why(c)],
          level: this.level,
          ...(weightOf(c) > 1 ? { weight: weightOf(c) } : {}),
        });
    }
  }
}

/** The smallest k ≥ 1 with P(Poisson(λ) ≥ k) ≤ α, for small λ (a few steps). */
function smallK(lambda: number, alpha: number): number {
  let k = 1;
  while (poissonTail(k, lambda) > alpha && k < 64) k++;
  return k;
}
