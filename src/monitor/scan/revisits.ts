/**
 * How often the log's own unexplained pairs (and idle weakly explained ones) come back on later
 * days: ordinary unlinked work is mostly one look, now and then a second day, rarely more; a tie
 * opened on day after day is the rarer thing. Learned per context from the whole log, as shares of
 * pairs seen on at least d days, d = 2, 3, …: the tie test's revisit ladder (pairDetectors.ts).
 */
import type { Pair } from './accumulate.js';
import type { Context } from './baseRates.js';

/** Pairs keep at most this many days (accumulate.ts); the ladder stops there. */
const MAX_DAYS = 64;

export interface Revisits {
  /** atLeast[c][d]: the share of the log's pairs in context c seen on d days or more (d ≥ 2; [0] and [1] are 1). */
  atLeast: Record<Context, number[]>;
}

/**
 * The shares with half a pair added (Jeffreys), so that a number of days no pair of the log reached
 * is rare, not impossible; every share is at most the one before.
 */
export function learnRevisits(pairs: Iterable<Pair>): Revisits {
  const n = { any: 0, weak: 0 };
  const byDays: Record<Context, number[]> = { any: new Array<number>(MAX_DAYS + 1).fill(0), weak: new Array<number>(MAX_DAYS + 1).fill(0) };
  for (const p of pairs) {
    const c: Context | undefined = p.unexplained > 0 ? 'any' : p.idleWeak.length > 0 ? 'weak' : undefined;
    if (!c) continue;
    n[c]++;
    byDays[c][Math.min(MAX_DAYS, p.days.length)]++;
  }
  const ladder = (c: Context) => {
    const out = new Array<number>(MAX_DAYS + 1).fill(1);
    let atLeast = 0;
    for (let d = MAX_DAYS; d >= 2; d--) {
      atLeast += byDays[c][d];
      out[d] = (atLeast + 0.5) / (n[c] + 1);
    }
    return out;
  };
  return { atLeast: { any: ladder('any'), weak: ladder('weak') } };
}

/** The share of the log's pairs in this context seen on `days` days or more. */
export function revisitShare(r: Revisits, context: Context, days: number): number {
  return r.atLeast[context][Math.max(0, Math.min(MAX_DAYS, days))];
}

/**
 * The p-values a "some tied pair came back on d days or more" test can give, d = 2, 3, …: with
 * tied pairs Poisson(λ), those seen on d days or more are Poisson(λ·share(d)), and the chance of at
 * least one is 1 − e^(−λ·share(d)). Decreasing; what the budget charges (AlertBudget.ladder).
 */
export function revisitTails(r: Revisits, context: Context, lambda: number): number[] {
  const out: number[] = [];
  for (let d = 2; d <= MAX_DAYS; d++) out.push(-Math.expm1(-lambda * r.atLeast[context][d]));
  return out;
}
