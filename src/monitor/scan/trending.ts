/**
 * Charts in the news: many users with no link open one chart within a day. The null is learned
 * from the log's own crowds of unexplained readers, and every chart-day is charged to the alert
 * budget (budget.ts) as the test it is.
 */
import type { Pair } from './accumulate.js';
import { MAX_LEVEL } from './budget.js';
import type { DetectionContext } from './detect.js';
import { DAY_MS } from './reference.js';
import { poissonTail } from './stats.js';

/**
 * Pairs of patients many unrelated users opened within a day of each other: news travels, a chart
 * becomes famous. The rate to beat is the log's own: unexplained readers per chart and day.
 * Each pair in such a window, with the window's tail probability.
 */
export function trendingPairs(ctx: DetectionContext): Map<Pair, number> {
  const byPatient = new Map<number, Pair[]>();
  for (const p of ctx.acc.pairs.values()) {
    if (p.unexplained === 0 || p.wrote) continue;
    const list = byPatient.get(p.patient);
    if (list) list.push(p);
    else byPatient.set(p.patient, [p]);
  }
  // The null is learned from the log's own (chart, day) cells with any unexplained reader: their
  // mean is that of a zero-truncated Poisson, whose λ it gives. Charts under care (in another
  // department than the reader's) and charts not under care are learned apart: where unlinked
  // work is common, an admitted patient's chart gets a few readers a day, and only a crowd beyond
  // that is news.
  const strata = [new Map<number, number>(), new Map<number, number>()];
  const totals = [0, 0];
  for (const [patient, list] of byPatient) {
    for (const p of list) {
      const k = p.elsewhere ? 1 : 0;
      const cell = patient * 100_000 + Math.floor(p.first / DAY_MS);
      strata[k].set(cell, (strata[k].get(cell) ?? 0) + 1);
      totals[k]++;
    }
  }
  // A stratum of a few cells would learn its rate from the crowd it is to judge: PRIOR_CELLS cells
  // of one reader each (the fewest a cell has) are added to each.
  const rates = strata.map((cells, k) => truncatedPoissonLambda((totals[k] + PRIOR_CELLS) / (cells.size + PRIOR_CELLS)));
  // Every chart-day's largest crowd: the most readers of the chart within one day.
  const largest = new Map<number, number>();
  for (const [patient, list] of byPatient) {
    list.sort((a, b) => a.first - b.first);
    for (let i = 0, j = 0; j < list.length; j++) {
      while (i < j && list[j].first - list[i].first > DAY_MS) i++;
      const cell = patient * 100_000 + Math.floor(list[j].first / DAY_MS);
      largest.set(cell, Math.max(largest.get(cell) ?? 0, j - i + 1));
    }
  }
  const counts = Float64Array.from(largest.values()).sort();
  const atLeast = (n: number) => {
    let lo = 0;
    let hi = counts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (counts[mid] < n) lo = mid + 1;
      else hi = mid;
    }
    return counts.length - lo;
  };
  // Readers crowd on some charts more than a Poisson allows (admissions, wards that share work):
  // with enough chart-days, the share of them with a crowd this big bounds the tail too. Every
  // chart-day is then a test whose p falls to α with probability at most α, charged as such; with
  // fewer, every chart-day is charged as the Poisson test it is.
  // Crowds are over-dispersed when far more chart-days reach three readers than the Poisson fit
  // predicts (more than twice as many, and three more): then the log's own crowds are the null.
  const all = truncatedPoissonLambda((totals[0] + totals[1] + PRIOR_CELLS) / (strata[0].size + strata[1].size + PRIOR_CELLS));
  const predicted = (counts.length * poissonTail(3, all)) / -Math.expm1(-all);
  const empirical = counts.length >= EMPIRICAL_CELLS && atLeast(3) > 2 * predicted + 3;
  // A crowd that fires is one alert per reader: the smallest crowd whose share is within α.
  const crowdAt = (alpha: number) => {
    let n = 3;
    while (n < 10_000 && atLeast(n) / counts.length > alpha) n++;
    return n;
  };
  if (empirical) ctx.budget.uniform(counts.length, crowdAt);
  else
    strata.forEach((cells, k) => {
      for (let i = 0; i < cells.size; i++) ctx.budget.test(rates[k], true);
    });
  const out = new Map<Pair, number>();
  for (const list of byPatient.values()) {
    if (list.length < 3) continue;
    list.sort((a, b) => a.first - b.first);
    for (let i = 0, j = 0; j < list.length; j++) {
      // The window's start catches up with its end at most: i never passes j.
      while (i < j && list[j].first - list[i].first > DAY_MS) i++;
      const n = j - i + 1;
      let rate = rates[0];
      for (let k = i; k <= j; k++) if (list[k].elsewhere) rate = Math.max(rate, rates[1]);
      let p = n >= 3 ? poissonTail(n, rate) / -Math.expm1(-rate) : 1;
      if (empirical) p = Math.max(p, atLeast(n) / counts.length);
      if (p < MAX_LEVEL) for (let k = i; k <= j; k++) out.set(list[k], Math.min(p, out.get(list[k]) ?? 1));
    }
  }
  return out;
}

/** Cells of one reader each that every stratum of the trending null starts from. */
const PRIOR_CELLS = 20;
/** From this many chart-days with unexplained readers on, their own crowds bound the trending tail. */
const EMPIRICAL_CELLS = 200;

/** λ of a Poisson whose zero-truncated mean is m (≥ 1): λ / (1 − e^−λ) = m, by bisection. */
export function truncatedPoissonLambda(m: number): number {
  if (m <= 1) return 1e-6;
  let lo = 0;
  let hi = m;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (mid / -Math.expm1(-mid) < m) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}
