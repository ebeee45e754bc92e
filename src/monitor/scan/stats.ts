/** Robust statistics for baselines: medians, MADs, quantiles and Poisson tails. */

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

/** P(X ≥ k) for X ~ Poisson(λ). */
export function poissonTail(k: number, lambda: number): number {
  if (k <= 0) return 1;
  if (lambda <= 0) return 0;
  // 1 − P(X ≤ k−1), summed in log space to stay accurate for large λ and k.
  let term = Math.exp(-lambda);
  let cdf = term;
  for (let i = 1; i < k; i++) {
    term *= lambda / i;
    cdf += term;
    if (term < 1e-300 && i > lambda) break;
  }
  if (cdf < 0.999999) return Math.max(0, 1 - cdf);
  // Close to 1: sum the tail directly instead of losing it to rounding.
  let tailTerm = Math.exp(-lambda + k * Math.log(lambda) - logFactorial(k));
  let tail = 0;
  for (let i = k; i < k + 1000 && tailTerm > 1e-320; i++) {
    tail += tailTerm;
    tailTerm *= lambda / (i + 1);
  }
  return tail;
}

function logFactorial(n: number): number {
  let s = 0;
  for (let i = 2; i <= n; i++) s += Math.log(i);
  return s;
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

/** The smallest k with P(X ≥ k) < α for X ~ Poisson(λ). */
export function poissonQuantile(lambda: number, alpha: number): number {
  if (lambda <= 0) return 1;
  let k = Math.max(1, Math.floor(lambda));
  while (poissonTail(k, lambda) >= alpha) k++;
  return k;
}
