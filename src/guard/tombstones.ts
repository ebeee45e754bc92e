/**
 * Files that vanished, remembered by folder for a while: to recognise one coming back encrypted
 * under its old name, the other half of a rename, or an original deleted beside its unreadable copy.
 */
import { isUnreadable } from './evidence.js';
import type { Fingerprint } from './fingerprint.js';

/** How long a vanished file is remembered, to recognise it coming back encrypted. */
export const TOMBSTONE_MS = 600e3;
/** Files vanished without a pair count for new unreadable files this long (incident.ts's window for weak signs). */
const WEAK_WINDOW_MS = 600e3;

export interface Tombstone {
  path: string;
  fp: Fingerprint;
  t: number;
}

export class Tombstones {
  private readonly byFolder = new Map<string, Tombstone[]>();

  add(dir: string, t: Tombstone): void {
    const list = (this.byFolder.get(dir) ?? []).filter((x) => t.t - x.t < TOMBSTONE_MS);
    list.push(t);
    this.byFolder.set(dir, list);
  }

  /** Vanished readable files without a pair, lately. */
  unpaired(now: number): number {
    let n = 0;
    for (const list of this.byFolder.values()) for (const t of list) if (now - t.t < WEAK_WINDOW_MS && !isUnreadable(t.fp)) n++;
    return n;
  }

  /** The first match in `dir` (every folder when undefined), taken out. */
  take(dir: string | undefined, match: (t: Tombstone) => boolean): Tombstone | undefined {
    const now = Date.now();
    const lists = dir === undefined ? [...this.byFolder.values()] : [this.byFolder.get(dir) ?? []];
    for (const list of lists) {
      const i = list.findIndex((t) => now - t.t < TOMBSTONE_MS && match(t));
      if (i >= 0) return list.splice(i, 1)[0];
    }
    return undefined;
  }
}
