/**
 * Destruction without encryption (issue 32): wipers truncate files, fill them with zeros or one
 * byte, cut them short or delete them. Each is judged against the fingerprint the guard keeps:
 *
 * - A file of substance (a known format, text, data; 128 bytes or more) now empty, zero-filled,
 *   one byte repeated, or cut below a tenth of its size with its structure gone, is *wiped*.
 *   Programs do that for an instant while they rewrite a file (truncate, then write), so one wiped
 *   file is only pending. It is destroyed when a second file is wiped while the first still is
 *   (re-read at that moment: size and time unchanged), which a program rewriting files one after
 *   another never shows, or when it is still wiped two seconds later (guard.ts's retry).
 * - Deletions count when they come in a burst that only deletes: four or more files in ten
 *   seconds, from two or more folders that are still there, with fewer other changes than half as
 *   many meanwhile. Staff deleting a folder take the folder with them; git or an installer
 *   deletes among many writes; a backup prune deletes within its own folder.
 *
 * Logs, temporary and work files, and files in temp, cache or log folders are emptied by their
 * programs as a matter of course (log rotation, cache clean-up): never counted. Neither is a file
 * emptied after its content was copied beside it (copytruncate rotation under any name).
 */
import fs from 'node:fs';
import path from 'node:path';
import { UNJUDGED, WORK_EXTENSIONS, type Fingerprint } from './fingerprint.js';

/** A wiped file stays pending this long; after it, only the retry's verdict counts. */
const PENDING_MS = 60e3;
const DELETE_WINDOW_MS = 10e3;
const DELETE_SETTLE_MS = 100;
export const DELETE_BURST = 4;
const SUBSTANCE = 128;

const TRANSIENT_DIRS = new Set(['tmp', 'temp', 'cache', '.cache', 'caches', 'log', 'logs', 'spool', '$recycle.bin', '.trash']);

/**
 * Files whose programs empty or delete them as a matter of course. Folders are judged inside the
 * watched root only: a share kept under /tmp is not a temp folder.
 */
export function transient(p: string, roots: string[]): boolean {
  const root = roots.find((r) => p.startsWith(r + path.sep));
  const rel = root ? path.relative(root, p) : path.basename(p);
  const name = path.basename(rel).toLowerCase();
  if (name.startsWith('~') || name.startsWith('.~lock.') || name.endsWith('~')) return true;
  // app.log, app.log.1, app.1.log, error_log
  if (/\.log(\.\d+)?$/.test(name) || /(^|[._-])log$/.test(name)) return true;
  const ext = path.extname(name).slice(1);
  if (ext && WORK_EXTENSIONS.has(ext)) return true;
  return path
    .dirname(rel)
    .split(path.sep)
    .some((d) => TRANSIENT_DIRS.has(d.toLowerCase()));
}

/** How a change destroyed a file's content without encrypting it, if it did. */
export function wipeSignal(old: Fingerprint, now: Fingerprint): string | undefined {
  if (UNJUDGED.has(old.kind) || old.kind === 'constant' || old.size < SUBSTANCE) return undefined;
  if (now.kind === 'empty') return `${old.kind} emptied (truncated to zero)`;
  if (now.kind === 'zero' && now.size >= old.size * 0.5) return `${old.kind} overwritten with zeros`;
  if (now.kind === 'constant') return `${old.kind} overwritten with one repeated byte`;
  if (now.size < old.size * 0.1 && old.size >= 4096 && (now.intact === false || now.kind !== old.kind || now.kind === 'zero'))
    return `${old.kind} cut to ${Math.round((100 * now.size) / old.size)}% of its size`;
  return undefined;
}

interface Pending {
  path: string;
  size: number;
  mtimeMs: number;
  signal: string;
  t: number;
}

export interface Confirmed {
  path: string;
  signal: string;
}

export class Destruction {
  /** `later` runs the deferred deletion verdict (a timer; tests inject their own clock). */
  constructor(
    private readonly roots: string[],
    private readonly later: (fn: () => void) => () => void = (fn) => {
      const timer = setTimeout(fn, DELETE_SETTLE_MS).unref();
      return () => clearTimeout(timer);
    },
  ) {}
  private readonly pending = new Map<string, Pending>();
  private readonly deletions: Array<{ path: string; dir: string; t: number }> = [];
  private readonly changes: number[] = [];
  private verdict?: () => void; // cancels the pending verdict

  /**
   * A file judged wiped: the files now known destroyed (it and every other still wiped), or none
   * while it is the only one.
   */
  wiped(p: string, now: Fingerprint, signal: string, t: number): Confirmed[] {
    this.pending.set(p, { path: p, size: now.size, mtimeMs: now.mtimeMs, signal, t });
    const still: Pending[] = [];
    for (const [q, w] of this.pending) {
      if (t - w.t > PENDING_MS || !unchanged(w)) this.pending.delete(q);
      else still.push(w);
    }
    if (still.length < 2) return [];
    for (const w of still) this.pending.delete(w.path);
    return still.map((w) => ({ path: w.path, signal: w.signal }));
  }

  /** The file has content again (a rewrite finished): not wiped. */
  refilled(p: string): void {
    this.pending.delete(p);
  }

  /** A content change or a new file (not a deletion): what a burst that only deletes lacks. */
  changed(t: number): void {
    this.changes.push(t);
    while (this.changes.length > 0 && t - this.changes[0] > DELETE_WINDOW_MS) this.changes.shift();
  }

  /** A vanished name turned up under a new one (a rename judged after the old name): no deletion. */
  undelete(p: string, t: number): void {
    const i = this.deletions.findIndex((d) => d.path === p);
    if (i >= 0) this.deletions.splice(i, 1);
    this.changed(t);
  }

  /**
   * A file of the baseline deleted (not renamed). When the deletions make a burst, the verdict
   * waits DELETE_SETTLE_MS: a folder being removed whole (its children deleted in parallel, the
   * folder last) is gone by then, and its deletions no longer count. Confirmed deletions go to
   * `confirm`.
   */
  deleted(p: string, old: Fingerprint, t: number, confirm: (c: Confirmed[]) => void): void {
    if (old.size < SUBSTANCE || UNJUDGED.has(old.kind) || transient(p, this.roots)) return;
    this.deletions.push({ path: p, dir: path.dirname(p), t });
    while (this.deletions.length > 0 && t - this.deletions[0].t > DELETE_WINDOW_MS) this.deletions.shift();
    if (this.verdict || this.burstOfDeletions(t).length === 0) return;
    this.verdict = this.later(() => {
      this.verdict = undefined;
      const live = this.burstOfDeletions(t);
      if (live.length > 0) confirm(live);
    });
  }

  /** A deletion verdict still to come (sync() waits for it). */
  get waiting(): boolean {
    return this.verdict !== undefined;
  }

  clear(): void {
    this.verdict?.();
    this.verdict = undefined;
  }

  private burstOfDeletions(t: number): Confirmed[] {
    // Folders removed meanwhile were removed whole: someone deleting a folder, not files.
    const live = this.deletions.filter((d) => fs.existsSync(d.dir));
    const folders = new Set(live.map((d) => d.dir));
    const others = this.changes.filter((c) => t - c <= DELETE_WINDOW_MS).length;
    if (live.length < DELETE_BURST || folders.size < 2 || others * 2 >= live.length) return [];
    return live.map((d) => ({ path: d.path, signal: `${live.length} files deleted from ${folders.size} folders in ${DELETE_WINDOW_MS / 1000} s` }));
  }
}

/** Still as it was seen wiped: same size and time, so no write has happened since. */
function unchanged(w: Pending): boolean {
  try {
    const st = fs.statSync(w.path);
    return st.size === w.size && st.mtimeMs === w.mtimeMs;
  } catch {
    return false; // gone: the deletion rules judge that
  }
}
