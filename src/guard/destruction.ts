/**
 * Destruction without encryption (issue 32): wipers truncate files, fill them with zeros or one
 * byte, cut them short or delete them. Each is judged against the fingerprint the guard keeps:
 *
 * - A file of substance (a known format, text, data; 128 bytes or more) now empty, zero-filled,
 *   one byte repeated, or cut to a quarter of its size or less with its structure gone, is *wiped*.
 *   Programs do that for an instant while they rewrite a file (truncate, then write), so one wiped
 *   file is only pending. It is destroyed when a second file is wiped while the first still is
 *   (re-read at that moment: size and time unchanged), which a program rewriting files one after
 *   another never shows, or when it is still wiped two seconds later (guard.ts's retry).
 * - Deletions count when the deleter leaves folders behind: three or more files in ten seconds,
 *   from folders still there, one of which lost its files before an unrelated one lost any, with
 *   fewer other changes than half as many meanwhile (see `deleted`). Staff and tools deleting a
 *   tree take each folder with them before the next, or (Node's fs.rm) all files first, then the
 *   folders: the verdict waits longer then (REMOVER_SETTLE_MS); git or an installer deletes among
 *   many writes; a backup prune or a user's selection deletes within one folder.
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
/**
 * Deletions are judged once they pause this long (and at the latest DELETE_MAX_WAIT_MS after the
 * first chance): a remover that works on several folders at once (rimraf, Node's fs.rm) removes
 * each folder within milliseconds of its last file, so folders still there after a pause were left
 * behind. A pause, not an age: when the guard falls behind, the deletions it judges late look
 * spread out in time although they happened together.
 */
export const DELETE_SETTLE_MS = 15;
const DELETE_MAX_WAIT_MS = 100;
/**
 * A tree removal looks like a wiper until its end: Node's fs.rm (and tools built on it) unlinks
 * every file of the tree and only then removes the folders, and a busy machine stalls it for tens
 * of milliseconds on the way, longer than DELETE_SETTLE_MS. So deletions that came as a remover's
 * streak (STREAK_FILES within STREAK_MS) and all lie in one top-level folder of the share, as a
 * removal of one folder's tree does, wait for a longer pause and longer at most. A paced deleter
 * (one file every 25 ms or slower) never makes a streak; a fast one is judged at once when it
 * moves on to another top-level folder (crossedTopFolders), and within REMOVER_MAX_WAIT_MS inside one.
 */
const STREAK_FILES = 8;
const STREAK_MS = 40;
const REMOVER_SETTLE_MS = 250;
const REMOVER_MAX_WAIT_MS = 5000;
export const DELETE_BURST = 3;
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

/**
 * A cut is a file shrunk to a quarter of its size or less (2 KiB or more before): an edit that
 * removes three quarters of a document is rare, and a file mid-rewrite is pending like any wipe.
 * Alone the size proves nothing (an export regenerated with fewer rows), so the rest of the file
 * must show it was cut rather than rewritten: its kind changed, or its format's structure is gone
 * (no tail, no directory), or text that ended its last line now stops inside one.
 */
const CUT = 0.25;
const CUT_SUBSTANCE = 2048;

function structureGone(old: Fingerprint, now: Fingerprint): boolean {
  if (now.kind !== old.kind || now.kind === 'zero') return true;
  if (now.kind === 'text') return old.lineEnd === true && now.lineEnd === false;
  return now.intact === false && old.intact !== false;
}

/** How a change destroyed a file's content without encrypting it, if it did. */
export function wipeSignal(old: Fingerprint, now: Fingerprint): string | undefined {
  if (UNJUDGED.has(old.kind) || old.kind === 'constant' || old.size < SUBSTANCE) return undefined;
  if (now.kind === 'empty') return `${old.kind} emptied (truncated to zero)`;
  if (now.kind === 'zero' && now.size >= old.size * 0.5) return `${old.kind} overwritten with zeros`;
  if (now.kind === 'constant') return `${old.kind} overwritten with one repeated byte`;
  if (now.size <= old.size * CUT && old.size >= CUT_SUBSTANCE && structureGone(old, now))
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

interface Deletion {
  path: string;
  dir: string;
  /** The top-level folder of its share it lies in; undefined for the share's own folder. */
  top?: string;
  t: number;
  confirmed?: boolean;
}

export class Destruction {
  /** `later` runs the deferred deletion verdict after `ms` (a timer; tests inject their own clock). */
  constructor(
    private readonly roots: string[],
    private readonly later: (fn: () => void, ms: number) => () => void = (fn, ms) => {
      const timer = setTimeout(fn, ms).unref();
      return () => clearTimeout(timer);
    },
  ) {}
  private readonly pending = new Map<string, Pending>();
  private readonly deletions: Deletion[] = [];
  private readonly changes: number[] = [];
  private verdict?: () => void; // cancels the pending verdict
  private firstChance?: number; // when the pending verdict was first due to wait
  private due?: number; // when it is due
  private streak = false; // the deletions since the last verdict or pause came as a remover's streak

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
   * A file of the baseline deleted (not renamed). Deletions are destruction when the deleter left
   * folders behind: DELETE_BURST or more files of substance in the window, from folders still
   * there, of which one lost its files before another, unrelated one (neither holds the other) lost
   * any. Staff and tools removing a tree remove each folder once its files are gone, before the
   * next (or, working on several at once, within milliseconds: the verdict waits for a pause); a
   * prune or a user's selection stays in one folder; a tree's parent and child are one branch.
   * Confirmed deletions go to `confirm`; once a burst is confirmed, each later deletion in the
   * window joins it at once.
   */
  deleted(p: string, old: Fingerprint, t: number, confirm: (c: Confirmed[]) => void): void {
    if (old.size < SUBSTANCE || UNJUDGED.has(old.kind) || transient(p, this.roots)) return;
    // A verdict whose time has come while its timer was held up (a busy process): the pause
    // happened all the same, before this deletion. Judge it first.
    if (this.verdict && this.due !== undefined && t >= this.due) this.decide(this.due, confirm);
    // A pause as long as a removal's longest ends it: what comes after is judged on its own pace.
    const previous = this.deletions.at(-1);
    if (previous && t - previous.t > REMOVER_SETTLE_MS) this.streak = false;
    this.deletions.push({ path: p, dir: path.dirname(p), top: this.topFolder(path.dirname(p)), t });
    while (this.deletions.length > 0 && t - this.deletions[0].t > DELETE_WINDOW_MS) this.deletions.shift();
    const n = this.deletions.length;
    if (n >= STREAK_FILES && t - this.deletions[n - STREAK_FILES].t <= STREAK_MS) this.streak = true;
    const v = this.burstOfDeletions(t);
    if (!v) return;
    if (v.live.some((d) => d.confirmed)) return this.confirmLive(v.live, v.signal, confirm);
    if (crossedTopFolders(v.live) || spreadOverTopFolders(v.live)) {
      this.clear();
      return this.confirmLive(v.live, v.signal, confirm);
    }
    // Wait for a pause in the deletions (each one moves the verdict on), up to the longest wait;
    // longer for what may be one folder's tree being removed.
    this.firstChance ??= t;
    const removal = this.streak && this.inOneTopFolder();
    const due = removal
      ? Math.min(t + REMOVER_SETTLE_MS, this.firstChance + REMOVER_MAX_WAIT_MS)
      : Math.min(t + DELETE_SETTLE_MS, this.firstChance + DELETE_MAX_WAIT_MS);
    this.verdict?.();
    this.due = due;
    this.verdict = this.later(() => this.decide(due, confirm), Math.max(0, due - t));
  }

  /** The deferred verdict: the deletions that make a burst now, their folders still there. */
  private decide(at: number, confirm: (c: Confirmed[]) => void): void {
    this.clear();
    const w = this.burstOfDeletions(at);
    if (w) this.confirmLive(w.live, w.signal, confirm);
  }

  /** A deletion verdict still to come (sync() waits for it). */
  get waiting(): boolean {
    return this.verdict !== undefined;
  }

  clear(): void {
    this.verdict?.();
    this.verdict = undefined;
    this.firstChance = undefined;
    this.due = undefined;
    this.streak = false;
  }

  /** Every deletion in the window lies in one top-level folder of its share (not in the share's own folder). */
  private inOneTopFolder(): boolean {
    const first = this.deletions[0].top;
    return first !== undefined && this.deletions.every((d) => d.top === first);
  }

  private topFolder(dir: string): string | undefined {
    const root = this.roots.find((r) => dir.startsWith(r + path.sep));
    if (!root) return undefined;
    const rest = dir.slice(root.length + 1);
    const cut = rest.indexOf(path.sep);
    return cut < 0 ? dir : dir.slice(0, root.length + 1 + cut);
  }

  private confirmLive(live: Deletion[], signal: string, confirm: (c: Confirmed[]) => void): void {
    const fresh = live.filter((d) => !d.confirmed);
    for (const d of fresh) d.confirmed = true;
    if (fresh.length > 0) confirm(fresh.map((d) => ({ path: d.path, signal })));
  }

  /** The deletions that make a burst at `t` (their folders still there); undefined: none. */
  private burstOfDeletions(t: number): { live: Deletion[]; signal: string } | undefined {
    const exists = new Map<string, boolean>();
    const stands = (dir: string) => exists.get(dir) ?? exists.set(dir, fs.existsSync(dir)).get(dir)!;
    // Folders removed meanwhile were removed whole: someone deleting a folder, not files.
    const live = this.deletions.filter((d) => stands(d.dir));
    const others = this.changes.filter((c) => t - c <= DELETE_WINDOW_MS).length;
    if (live.length < DELETE_BURST || others * 2 >= live.length) return undefined;
    // Order of arrival: the first and last deletion of each folder.
    const span = new Map<string, { first: number; last: number }>();
    live.forEach((d, i) => {
      const s = span.get(d.dir);
      if (!s) span.set(d.dir, { first: i, last: i });
      else s.last = i;
    });
    const signal = `${live.length} files deleted from ${span.size} folders in ${DELETE_WINDOW_MS / 1000} s, folders left behind`;
    if (live.some((d) => d.confirmed)) return { live, signal };
    for (const [a, sa] of span) for (const [b, sb] of span) if (sa.last < sb.first && unrelated(a, b)) return { live, signal };
    return undefined;
  }
}

/**
 * A deleter that emptied one top-level folder of the share, left its folders standing and went on
 * in another (two or more deletions of substance in each, every one in the first before any in
 * the second): no tree removal looks like that, so there is no pause to wait for. A tool removing
 * one folder's tree stays inside one top-level folder; one removing several one after the other
 * (rm -r A B) takes each with its folders before the next, so the first's deletions no longer
 * count (their folders are gone) when the second's begin; several removed at once interleave.
 * A wiper walking the share at thousands of files a second is judged when it moves on, not after
 * the longest wait (100 ms: the whole share). Assumes a share has more than one top-level folder
 * (departments, years, kinds of file): with everything under one folder only the pause tells. A
 * wiper deleting in random order is judged by spreadOverTopFolders.
 */
function crossedTopFolders(live: Deletion[]): boolean {
  const span = new Map<string, { first: number; last: number; n: number }>();
  live.forEach((d, i) => {
    if (d.top === undefined) return;
    const s = span.get(d.top);
    if (!s) span.set(d.top, { first: i, last: i, n: 1 });
    else {
      s.last = i;
      s.n++;
    }
  });
  const tops = [...span.values()].filter((s) => s.n >= 2);
  return tops.some((a) => tops.some((b) => a.last < b.first));
}

/**
 * Deletions from folders still standing in three or more top-level folders of the share at once:
 * a deleter taking files in random order across the share. A tree removal stays inside the folder
 * it removes; `rm -r A B C` takes each folder's tree, folders and all, before the next, so only one
 * has live deletions at a time; two removals at once make two. So there is no pause to wait for:
 * flat out, the pause (100 ms at most) was the whole share. What this takes for a wiper is three or
 * more removals of top-level folders running at once (a script removing old year folders in
 * parallel), and a user's deletions in three departments within ten seconds, which the rule above
 * judges an alarm after a pause anyway (docs/guard.md).
 */
function spreadOverTopFolders(live: Deletion[]): boolean {
  const tops = new Set<string>();
  for (const d of live) if (d.top !== undefined) tops.add(d.top);
  return tops.size >= SPREAD_TOP_FOLDERS;
}
const SPREAD_TOP_FOLDERS = 3;

/** Neither folder holds the other. */
function unrelated(a: string, b: string): boolean {
  return a !== b && !a.startsWith(b + path.sep) && !b.startsWith(a + path.sep);
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
