/**
 * Recomputes the real false-negative rates that src/guard/stats.ts and docs/guard.md quote for the
 * guard's small-sample cut-offs: P(X² ≥ cut) for Pearson's X² of n uniform draws over k values,
 * exactly, by dynamic programming over the k bins (counts Poissonised, then conditioned on their
 * total n). Monte Carlo cannot reach 1e-10; chi-square(k − 1) understates the discrete tail.
 * Usage: node --import tsx scripts/guard-cutoff-rates.ts K NOMINAL N...   (e.g. 256 1e-12 64 128)
 * Agrees with simulation where simulation reaches (n = 64 and 128 at 1e-4: 6.5e-4 and 4.1e-4).
 */
import jStatUntyped from 'jstat';

const jStat = jStatUntyped as unknown as {
  chisquare: { inv(p: number, dof: number): number };
  gammaln(x: number): number;
};

function exactTail(n: number, k: number, cut: number): number {
  const lambda = n / k;
  // X² = (k/n)·Σc² − n, so X² ≥ cut exactly when Σc² reaches this.
  const cap = Math.ceil(((cut + n) * n) / k - 1e-9);
  const pois: number[] = [];
  for (let c = 0; ; c++) {
    const p = Math.exp(-lambda + c * Math.log(lambda) - jStat.gammaln(c + 1));
    if (c > lambda && p < 1e-40) break; // beyond any tail that matters to a double
    pois.push(p);
  }
  let below = new Float64Array((n + 1) * cap); // [balls so far][Σc² so far], Σc² under the cap
  let over = new Float64Array(n + 1); // [balls so far], Σc² already at or over the cap
  below[0] = 1;
  for (let bin = 0; bin < k; bin++) {
    const nextBelow = new Float64Array((n + 1) * cap);
    const nextOver = new Float64Array(n + 1);
    for (let m = 0; m <= n; m++) {
      if (over[m]) for (let c = 0; c < pois.length && m + c <= n; c++) nextOver[m + c] += over[m] * pois[c];
      // Σc² has the parity of Σc (c² ≡ c mod 2) and is at least it: half the states are empty.
      for (let s = m; s < cap; s += 2) {
        const v = below[m * cap + s];
        if (!v) continue;
        for (let c = 0; c < pois.length && m + c <= n; c++) {
          const s2 = s + c * c;
          if (s2 >= cap) nextOver[m + c] += v * pois[c];
          else nextBelow[(m + c) * cap + s2] += v * pois[c];
        }
      }
    }
    below = nextBelow;
    over = nextOver;
  }
  let under = 0;
  for (let s = 0; s < cap; s++) under += below[n * cap + s];
  return over[n] / (over[n] + under);
}

const [k, nominal, ...sizes] = process.argv.slice(2).map(Number);
const cut = jStat.chisquare.inv(1 - nominal, k - 1);
for (const n of sizes) console.log(`k=${k} n=${n} cut=${cut.toFixed(1)} (nominal ${nominal}): real ${exactTail(n, k, cut).toExponential(2)}`);
