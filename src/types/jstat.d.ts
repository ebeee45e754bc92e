/**
 * The one function of jstat (MIT, no dependencies, no types of its own) that the monitor uses:
 * the regularized lower incomplete gamma function P(a, x), documented in jstat's
 * doc/md/special-functions.md.
 */
declare module 'jstat' {
  const jStat: { lowRegGamma(a: number, x: number): number };
  export default jStat;
}
