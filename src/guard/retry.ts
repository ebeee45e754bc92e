/**
 * Files looked at again once their write has finished: an empty, zero-filled or cut-short file is
 * a write in progress as often as a wipe. The look comes after 10 ms, then 20, 30... about two
 * seconds in all (20 looks); after that, the file is as it stays.
 */
const LOOKS = 20;

export class Retries {
  private readonly counts = new Map<string, number>();
  private readonly timers = new Set<NodeJS.Timeout>();

  /** Schedules another look at `p`; false when its looks are used up (judge it as it is now). */
  again(p: string, look: (p: string) => void): boolean {
    const n = (this.counts.get(p) ?? 0) + 1;
    this.counts.set(p, n);
    if (n > LOOKS) {
      this.counts.delete(p);
      return false;
    }
    const t = setTimeout(() => {
      this.timers.delete(t);
      look(p);
    }, 10 * n).unref();
    this.timers.add(t);
    return true;
  }

  /** Looks already scheduled for `p` since it was last seen with content. */
  looks(p: string): number {
    return this.counts.get(p) ?? 0;
  }

  /** The file has content again: its next emptying starts afresh. */
  done(p: string): void {
    this.counts.delete(p);
  }

  /** Looks still to come (sync() waits for them). */
  get waiting(): number {
    return this.timers.size;
  }

  clear(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
