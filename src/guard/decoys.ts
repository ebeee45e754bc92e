/**
 * Decoy files: two per folder, real documents no person has a reason to change. One sorts first
 * (a leading "!" sorts before digits and letters both bytewise and in the usual locale collations),
 * is the smallest file of the folder and carries the newest modification time (a month ahead,
 * renewed), so alphabetical, smallest-first and newest-first traversals meet it before anything
 * else; the other sorts last, is an ordinary-sized letter and carries the oldest time, for the
 * reverse orders. Their names come from a per-installation random pick, kept with the list of
 * decoys outside the share (never inside it, where an attacker could read it).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fingerprint, type Fingerprint } from './fingerprint.js';
import { docx, prose, Rng } from './formats.js';

export interface DecoyState {
  seed: number;
  decoys: string[];
}

const WORDS = ['Billing', 'Referrals', 'Scans', 'Invoices', 'Letters', 'Archive', 'Accounts', 'Records'];
export const FUTURE_MS = 30 * 86400e3;
const OLD = new Date(Date.UTC(2016, 4, 17, 10, 12, 0));

export function loadDecoyState(file: string): DecoyState {
  if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, 'utf8')) as DecoyState;
  return { seed: crypto.randomInt(1, 2 ** 31 - 1), decoys: [] };
}

export function saveDecoyState(file: string, state: DecoyState): void {
  fs.writeFileSync(file, JSON.stringify(state) + '\n', { mode: 0o600 });
}

/** Folders that get no decoys: version-control and package folders are rewritten wholesale by tools. */
export const NO_DECOY_DIRS = new Set(['.git', 'node_modules', '.svn', '.hg']);

export function decoyNames(seed: number, dir: string): { first: string; last: string } {
  const h = crypto.createHash('sha256').update(`${seed}:${dir}`).digest();
  const w1 = WORDS[h[0] % WORDS.length];
  const w2 = WORDS[h[1] % WORDS.length];
  return { first: `!${w1} index.txt`, last: `zz ${w2} archive ${2014 + (h[2] % 4)}.docx` };
}

/** Plants the two decoys in a folder (unless present); returns their paths. */
export async function plantDecoys(dir: string, seed: number, now = Date.now()): Promise<string[]> {
  const { first, last } = decoyNames(seed, dir);
  const rng = new Rng(seed ^ crypto.createHash('sha256').update(dir).digest().readUInt32LE(0));
  const a = path.join(dir, first);
  const b = path.join(dir, last);
  if (!fs.existsSync(a)) {
    // About 300 bytes: smaller than any real document, yet a plausible index note.
    fs.writeFileSync(a, `Index of this folder, kept by the front desk.\n${prose(rng, 40)}\n`);
    const t = new Date(now + FUTURE_MS);
    fs.utimesSync(a, t, t);
  }
  if (!fs.existsSync(b)) {
    fs.writeFileSync(b, await docx(rng, rng.int(20, 40)));
    fs.utimesSync(b, OLD, OLD);
  }
  return [a, b];
}

/** Keeps the "newest" decoy ahead of every real file: renews its time when less than a week is left. */
export function renewDecoyTime(file: string, now = Date.now()): number | undefined {
  try {
    const st = fs.statSync(file);
    if (st.mtimeMs - now > 7 * 86400e3 || st.mtimeMs < now - 365 * 86400e3 * 5) return undefined;
    if (st.mtimeMs < Date.UTC(2017, 0, 1)) return undefined; // the "oldest" decoy keeps its old time
    const t = new Date(now + FUTURE_MS);
    fs.utimesSync(file, t, t);
    return fs.statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
}

/** A decoy whose folder vanished gets this long to turn up elsewhere under its name (staff moving a folder). */
export const DECOY_MOVE_MS = 2000;

/** The decoys of one guard, and the ones on the move. */
export class DecoySet {
  private readonly paths = new Set<string>();
  /** Decoys whose folder vanished, waiting to turn up elsewhere. */
  private readonly moving = new Map<string, Fingerprint>();

  constructor(private readonly stateFile: string) {}

  has(p: string): boolean {
    return this.paths.has(p);
  }

  get list(): string[] {
    return [...this.paths];
  }

  /**
   * Plants the decoys in every folder (but version-control and package folders) and hands each
   * one's fingerprint to `learn` in the same step as it becomes a decoy: an event of the planting
   * itself, judged meanwhile, then sees either an ordinary new file or a decoy with its baseline.
   */
  async plant(folders: string[], roots: string[], learn: (p: string, fp: Fingerprint) => void): Promise<void> {
    const state = loadDecoyState(this.stateFile);
    for (const d of folders) {
      const root = roots.find((r) => d === r || d.startsWith(r + path.sep))!;
      if (
        path
          .relative(root, d)
          .split(path.sep)
          .some((s) => NO_DECOY_DIRS.has(s))
      )
        continue;
      // A folder that refuses the decoys (read-only after an alarm, not the guard's to write) goes without.
      const planted = await plantDecoys(d, state.seed).catch(() => [] as string[]);
      for (const p of planted) {
        const fp = await fingerprint(p);
        if (!fp) continue;
        learn(p, fp);
        this.paths.add(p);
      }
    }
    state.decoys = this.list;
    saveDecoyState(this.stateFile, state);
  }

  /** A new file that is a moving decoy arriving at its new place: the decoy's old path. */
  arriving(p: string, fp: Fingerprint): string | undefined {
    for (const [from, dfp] of this.moving) {
      if (dfp.sample === fp.sample && dfp.size === fp.size && path.basename(from) === path.basename(p)) return from;
    }
    return undefined;
  }

  /** Its folder is gone: waits DECOY_MOVE_MS for it to arrive elsewhere, then calls `lost`. */
  leaving(p: string, fp: Fingerprint, lost: () => void): void {
    this.moving.set(p, fp);
    setTimeout(() => {
      if (this.moving.delete(p)) lost();
    }, DECOY_MOVE_MS).unref();
  }

  /** The decoy moved from `from` to `to` with its folder. */
  moved(from: string, to: string): void {
    this.paths.delete(from);
    this.paths.add(to);
    this.moving.delete(from);
    if (fs.existsSync(this.stateFile)) saveDecoyState(this.stateFile, { ...loadDecoyState(this.stateFile), decoys: this.list });
  }
}
