/**
 * Flat-out attacks (issue 32): when changes to the tree arrive faster than the guard can judge them
 * one by one, the burst itself is judged. The watcher counts, as events arrive (before any file is
 * read), how many distinct files of the baseline changed or vanished in the last second. During a
 * burst of BURST_FILES or more, one file judged destroyed is enough for the alarm: the second would
 * arrive only after dozens more files were gone. Outside a burst, the evidence adds up as before.
 * Benign bursts (a checkout, an installer, a sync) write valid files and destroy none, so they
 * raise nothing by this rule.
 */
export const BURST_FILES = 20;
const WINDOW_MS = 1000;

export class BurstMeter {
  private readonly recent = new Map<string, number>(); // path -> last change

  /** A watcher event for a file the baseline knows. */
  saw(p: string, t: number): void {
    this.recent.delete(p); // re-inserted last: the map stays in time order
    this.recent.set(p, t);
    for (const [q, at] of this.recent) {
      if (t - at <= WINDOW_MS) break;
      this.recent.delete(q);
    }
  }

  /** Distinct files changed in the last second, when that is a burst; 0 otherwise. */
  burst(t: number): number {
    let n = 0;
    for (const at of this.recent.values()) if (t - at <= WINDOW_MS) n++;
    return n >= BURST_FILES ? n : 0;
  }
}
