/** Robust statistics for baselines: medians, MADs, quantiles and Poisson tails. */
import jStat from 'jstat';

export function median(values: ArrayLike<number>): number {
  return quantile(values, 0.5);
}

export function quantile(values: ArrayLike<number>, q: number): number {
  const n = values.length;
  if (n === 0) return 0;
  const sorted = Float64Array.from(values).sort();
  const pos = (n - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** Median absolute deviation, scaled (×1.4826) to estimate a standard deviation. */
export function scaledMad(values: ArrayLike<number>, med = median(values)): number {
  const dev = Array.from(values, (v) => Math.abs(v - med));
  return 1.4826 * median(dev);
}

/**
 * P(X ≥ k) for X ~ Poisson(λ): the regularized lower incomplete gamma function P(⌈k⌉, λ), from
 * jstat. Sums of e^−λ·λ^i/i! lose everything once e^−λ underflows (λ above about 745), which one
 * busy user's day reaches; the incomplete gamma keeps the tail in log space. Checked against
 * 60-digit sums for λ from 1e-9 to 1e6 and tails down to 1e-300 (test/monitor-stats.test.ts).
 * @stdlib/math-base-special-gammainc 0.3.1 was not used: for λ above 1000 and k below λ + 50 its
 * asymptotic series starts one term off Boost's (a instead of a − 1), giving P(X ≥ 1050) for
 * λ = 1001 as 0.014 instead of 0.064.
 */
export function poissonTail(k: number, lambda: number): number {
  if (Number.isNaN(k) || Number.isNaN(lambda)) return NaN;
  if (k <= 0) return 1;
  if (lambda <= 0) return 0;
  if (lambda === Infinity) return 1;
  const n = Math.ceil(k);
  // jstat's loops run about 0.4·k times whatever the answer: where the Chernoff bound
  // P(X ≥ n) ≤ e^(n − λ)·(λ/n)^n is already below the smallest double, the answer is 0.
  if (n > lambda && n - lambda + n * Math.log(lambda / n) < -746) return 0;
  return jStat.lowRegGamma(n, lambda);
}

/**
 * A tail probability as a score in [0.5, 1): 0.5 exactly at the significance level α, rising with
 * every further order of magnitude.
 */
export function scoreFromTail(p: number, alpha: number): number {
  if (p <= 0) return 0.99;
  const strength = Math.log10(p) / Math.log10(alpha);
  return clampScore(1 - 0.5 / strength);
}

/** x against the threshold it crossed, as a score in [0.5, 1). */
export function scoreFromRatio(x: number, threshold: number): number {
  return clampScore(1 - 0.5 / Math.max(1, x / Math.max(threshold, 1e-9)));
}

export function clampScore(s: number): number {
  return Math.round(Math.min(0.99, Math.max(0.5, s)) * 100) / 100;
}

/** Far beyond any count the monitor sees; above it the integers are no longer all doubles. */
const MAX_LAMBDA = 2 ** 50;
/**
 * Doubling and bisection steps: the tail is 0 (below the doubles) within about 40·√λ + 800 of λ,
 * reached in a few dozen doublings and halved in as many again; more means a bug, said as one.
 */
const MAX_STEPS = 128;

/**
 * The smallest k ≥ max(1, ⌊λ⌋) with P(X ≥ k) < α for X ~ Poisson(λ). A bracket found by doubling
 * steps from √λ, then bisected: about 2·log₂ of the distance tail calls, each loop bounded.
 */
export function poissonQuantile(lambda: number, alpha: number): number {
  if (!(lambda <= MAX_LAMBDA)) throw new RangeError(`poissonQuantile: λ must be a number up to ${MAX_LAMBDA}`);
  if (!(alpha > 0)) throw new RangeError('poissonQuantile: α must be above 0');
  if (lambda <= 0) return 1;
  // Invariant: P(X ≥ below) ≥ α and P(X ≥ above) < α.
  let below = Math.max(1, Math.floor(lambda));
  if (poissonTail(below, lambda) < alpha) return below;
  let step = Math.max(1, Math.ceil(Math.sqrt(lambda)));
  let above = below + step;
  for (let i = 0; poissonTail(above, lambda) >= alpha; i++) {
    if (i >= MAX_STEPS) throw new Error('poissonQuantile: no bracket found');
    below = above;
    step *= 2;
    above = below + step;
  }
  for (let i = 0; above - below > 1; i++) {
    if (i >= MAX_STEPS) throw new Error('poissonQuantile: the bisection did not close');
    const mid = below + Math.floor((above - below) / 2);
    if (poissonTail(mid, lambda) < alpha) above = mid;
    else below = mid;
  }
  return above;
}

/**
 * jstat's regularized incomplete beta function I_x(a, b) (doc/md/special-functions.md); src/types/jstat.d.ts,
 * shared with the guard, declares only what that uses, so it is typed here.
 */
const ibeta = (jStat as unknown as { ibeta(x: number, a: number, b: number): number }).ibeta;

/**
 * P(X ≥ k) for a count whose rate differs between people: X ~ negative binomial with the given
 * mean and variance (a Poisson whose rate is gamma-distributed across users), from the
 * regularized incomplete beta function, P(X ≥ k) = I_{1−q}(k, r) with r = mean²/(variance − mean)
 * and q = r/(r + mean). With no more variance than a Poisson has, the Poisson tail.
 */
export function negBinomialTail(k: number, mean: number, variance: number): number {
  if (k <= 0) return 1;
  if (!(variance > mean * (1 + 1e-9)) || mean <= 0) return poissonTail(k, mean);
  const r = (mean * mean) / (variance - mean);
  const q = r / (r + mean);
  return Math.min(1, Math.max(0, ibeta(1 - q, Math.ceil(k), r)));
}

/** The smallest k ≥ 1 with negBinomialTail(k, mean, variance) ≤ α: doubling, then bisection (bounded loops). */
export function negBinomialQuantile(alpha: number, mean: number, variance: number): number {
  let hi = Math.max(1, Math.ceil(mean));
  for (let i = 0; negBinomialTail(hi, mean, variance) > alpha; i++) {
    if (i > 60) throw new Error(`negBinomialQuantile(${alpha}, ${mean}, ${variance}) did not converge`);
    hi *= 2;
  }
  let lo = 0;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (mid >= 1 && negBinomialTail(mid, mean, variance) <= alpha) hi = mid;
    else lo = mid;
  }
  return hi;
}
