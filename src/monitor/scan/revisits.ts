/**
 * How often the log's own unexplained pairs (and idle weakly explained ones) come back: ordinary
 * unlinked work is mostly one look, now and then a second, rarely more; a tie reopened again and
 * again is the rarer thing. Counted in visits (Pair.visits: looks half an hour or more apart, so a
 * chart reopened later the same day counts, as one reopened on another day does), learned per
 * context from the whole log as shares of pairs with at least v visits, v = 2, 3, …: the tie
 * test's revisit ladder (pairDetectors.ts).
 */
import type { Pair } from './accumulate.js';
import type { Context } from './baseRates.js';

/** The ladder stops here: more visits than this count as this many. */
const MAX_VISITS = 64;

export interface Revisits {
  /** atLeast[c][v]: the share of the log's pairs in context c with v visits or more (v ≥ 2; [0] and [1] are 1). */
  atLeast: Record<Context, number[]>;
}

/**
 * The shares with half a pair added (Jeffreys), so that a number of visits no pair of the log reached
 * is rare, not impossible; every share is at most the one before.
 */
export function learnRevisits(pairs: Iterable<Pair>): Revisits {
  const n = { any: 0, weak: 0 };
  const byVisits: Record<Context, number[]> = { any: new Array<number>(MAX_VISITS + 1).fill(0), weak: new Array<number>(MAX_VISITS + 1).fill(0) };
  for (const p of pairs) {
    // Read-only pairs: a chart the user wrote in is reopened for the care written (pairDetectors.ts counts the same).
    if (p.wrote) continue;
    const c: Context | undefined = p.unexplained > 0 ? 'any' : p.idleWeak.length > 0 ? 'weak' : undefined;
    if (!c) continue;
    n[c]++;
    byVisits[c][Math.min(MAX_VISITS, p.visits)]++;
  }
  const ladder = (c: Context) => {
    const out = new Array<number>(MAX_VISITS + 1).fill(1);
    let atLeast = 0;
    for (let v = MAX_VISITS; v >= 2; v--) {
      atLeast += byVisits[c][v];
      out[v] = (atLeast + 0.5) / (n[c] + 1);
    }
    return out;
  };
  return { atLeast: { any: ladder('any'), weak: ladder('weak') } };
}

/** The share of the log's pairs in this context with `visits` visits or more. */
export function revisitShare(r: Revisits, context: Context, visits: number): number {
  return r.atLeast[context][Math.max(0, Math.min(MAX_VISITS, visits))];
}

/**
 * The p-values a "some tied pair had v visits or more" test can give, v = 2, 3, …: with tied
 * pairs Poisson(λ), those with v visits or more are Poisson(λ·share(v)), and the chance of at
 * least one is 1 − e^(−λ·share(v)). Decreasing; what the budget charges (AlertBudget.ladder).
 */
export function revisitTails(r: Revisits, context: Context, lambda: number): number[] {
  const out: number[] = [];
  for (let v = 2; v <= MAX_VISITS; v++) out.push(-Math.expm1(-lambda * r.atLeast[context][v]));
  return out;
}
