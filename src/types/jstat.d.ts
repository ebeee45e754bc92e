/**
 * The functions of jstat (MIT, no dependencies, no types of its own) that Carewall uses: the
 * regularized lower incomplete gamma function P(a, x) (the monitor), documented in jstat's
 * doc/md/special-functions.md, and the chi-square quantile function (the guard's cut-offs),
 * documented in doc/md/distributions.md.
 */
declare module 'jstat' {
  const jStat: {
    lowRegGamma(a: number, x: number): number;
    chisquare: { inv(p: number, dof: number): number };
  };
  export default jStat;
}
