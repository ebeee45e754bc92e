/**
 * Ransomware behaviours, reproduced on a test share with real encryption (AES-256-CTR under a
 * random key that is thrown away: the output is as random as any family's). Each records, per
 * file, the moment its original content became unrecoverable (before the destructive step
 * starts), so that "files lost before the alarm" can be counted against the alarm's time.
 */
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Rng } from '../formats.js';
import { SHARE_MARKER } from '../share.js';

export interface Target {
  path: string;
  size: number;
  mtimeMs: number;
}

export interface RunOptions {
  dir: string;
  /** Files per second; 0 is flat out; default the behaviour's own pace, else 40 (the median family). */
  pace?: number;
  seed: number;
  /** NDJSON log of `{"path","t"}` per destroyed file, appended synchronously (read by the bench). */
  log?: string;
  /** Stop after this many files. */
  limit?: number;
  /** Files never attacked (the bench passes none; a real attacker does not know the decoys). */
  skip?: Set<string>;
}

export interface RunResult {
  behaviour: string;
  files: number;
  started: number;
  finished: number;
}

type Order = 'readdir' | 'random' | 'smallest' | 'newest' | 'alphabetical';

export function listTargets(dir: string, order: Order, rng: Rng): Target[] {
  const out: Target[] = [];
  const walk = (d: string) => {
    const entries = fs.readdirSync(d, { withFileTypes: true });
    if (order === 'alphabetical') entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && e.name !== SHARE_MARKER) {
        const st = fs.statSync(p);
        out.push({ path: p, size: st.size, mtimeMs: st.mtimeMs });
      }
    }
  };
  walk(dir);
  if (order === 'random') {
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(rng.next() * (i + 1));
      [out[i], out[j]] = [out[j], out[i]];
    }
  } else if (order === 'smallest') out.sort((a, b) => a.size - b.size);
  else if (order === 'newest') out.sort((a, b) => b.mtimeMs - a.mtimeMs);
  return out;
}

const encrypt = (data: Buffer) => {
  const c = crypto.createCipheriv('aes-256-ctr', crypto.randomBytes(32), crypto.randomBytes(16));
  return Buffer.concat([c.update(data), c.final()]);
};

/** One file's destruction; calls `lost()` right before the original becomes unrecoverable. */
type Attack = (t: Target, lost: () => void) => Promise<void>;

const overwrite: Attack = async (t, lost) => {
  const data = await fsp.readFile(t.path);
  lost();
  await fsp.writeFile(t.path, encrypt(data));
};

/** Encrypts byte ranges in place (no truncation), as intermittent modes do. */
const inPlaceRanges =
  (ranges: (size: number) => Array<[number, number]>): Attack =>
  async (t, lost) => {
    const fh = await fsp.open(t.path, 'r+');
    try {
      let first = true;
      for (const [off, len] of ranges(t.size)) {
        const b = Buffer.alloc(Math.min(len, t.size - off));
        if (b.length <= 0) continue;
        await fh.read(b, 0, b.length, off);
        if (first) lost();
        first = false;
        await fh.write(encrypt(b), 0, b.length, off);
      }
    } finally {
      await fh.close();
    }
  };

const everyOther16 = inPlaceRanges((size) => {
  const r: Array<[number, number]> = [];
  for (let off = 0; off < size; off += 32) r.push([off, 16]);
  return r;
});
const headerOnly = inPlaceRanges(() => [[0, 4096]]);
/** About 3% of the file, in ten chunks spread evenly from the start. */
const fewPercent = inPlaceRanges((size) => {
  const len = Math.max(16, Math.floor((size * 0.03) / 10));
  return Array.from({ length: 10 }, (_, i) => [Math.floor((i * size) / 10), len] as [number, number]);
});

const base64InPlace: Attack = async (t, lost) => {
  const data = await fsp.readFile(t.path);
  lost();
  await fsp.writeFile(t.path, encrypt(data).toString('base64').replace(/.{76}/g, '$&\n'));
};

const overwriteRename =
  (ext: string): Attack =>
  async (t, lost) => {
    await overwrite(t, lost);
    await fsp.rename(t.path, t.path + ext);
  };

const moveOutEncryptBack: Attack = async (t, lost) => {
  const tmp = path.join(os.tmpdir(), `cw-sim-${crypto.randomBytes(6).toString('hex')}`);
  lost();
  await moveFile(t.path, tmp);
  await fsp.writeFile(tmp, encrypt(await fsp.readFile(tmp)));
  await moveFile(tmp, t.path);
};

async function moveFile(a: string, b: string): Promise<void> {
  try {
    await fsp.rename(a, b);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    await fsp.copyFile(a, b);
    await fsp.unlink(a);
  }
}

const copyThenDelete: Attack = async (t, lost) => {
  await fsp.writeFile(t.path + '.encrypted', encrypt(await fsp.readFile(t.path)));
  lost();
  await fsp.unlink(t.path);
};

/**
 * Wipers: the content is destroyed rather than held to ransom. Each keeps the file's name; the
 * destruction is a truncation, an overwrite of the same size, or the file's removal.
 */
const truncateToZero: Attack = async (t, lost) => {
  lost();
  await fsp.truncate(t.path, 0);
};

const fillInPlace =
  (fill: (size: number) => Buffer): Attack =>
  async (t, lost) => {
    const fh = await fsp.open(t.path, 'r+');
    try {
      lost();
      await fh.write(fill(t.size), 0, t.size, 0);
    } finally {
      await fh.close();
    }
  };

/** Keeps the first fifth of a percent (at least 512 bytes): enough for any header, not the document. */
const shrink: Attack = async (t, lost) => {
  const keep = Math.max(512, Math.floor(t.size * 0.002));
  if (keep >= t.size) return; // nothing is cut, nothing lost: not counted
  lost();
  await fsp.truncate(t.path, keep);
};

/** Cuts each file to a share of its size drawn per file, 1 to 20%, at least 256 bytes (held out). */
const cutRandom =
  (rng: Rng): Attack =>
  async (t, lost) => {
    const keep = Math.max(256, Math.floor(t.size * (0.01 + 0.19 * rng.next())));
    if (keep >= t.size) return;
    lost();
    await fsp.truncate(t.path, keep);
  };

/** What `shred -u` and sdelete do: overwrite with random bytes, then delete (held out). */
const shredDelete: Attack = async (t, lost) => {
  const fh = await fsp.open(t.path, 'r+');
  try {
    lost();
    await fh.write(crypto.randomBytes(t.size), 0, t.size, 0);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fsp.unlink(t.path);
};

const remove: Attack = async (t, lost) => {
  lost();
  await fsp.unlink(t.path);
};

/** Encrypts everything after the first `keep` bytes, in place: the magic number (and a DICOM preamble) survive. */
const keepHead = (keep: number): Attack => inPlaceRanges((size) => [[Math.min(keep, size), size]]);

const NOTE = (id: string) =>
  `YOUR FILES ARE ENCRYPTED\n\nAll your documents, databases and images have been encrypted with a strong algorithm.\n` +
  `Do not rename or modify the files: you will lose them for good. To get the decryption key, pay 0.5 BTC to\n` +
  `bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh within 72 hours, then contact us with your personal ID ${id}\n` +
  `through the Tor browser at http://lockbitsupp7pqhkrdqvkrq7zt5pe4yyzbmzfe6lfbxhqckwbqcmhayd.onion\n`;

interface Behaviour {
  description: string;
  order: Order;
  attack: Attack;
  /** Files attacked at once (workers). */
  concurrency?: number;
  /** Default pace when none is given (files per second). */
  pace?: number;
  /**
   * Added after the detectors it tests were tuned, and never used to tune them (the bench marks
   * its rows): how the guard fares on behaviours it was not shaped on.
   */
  heldOut?: boolean;
  /** Attack through short-lived child processes, this many files each. */
  processBatch?: number;
  note?: boolean;
}

export const BEHAVIOURS: Record<string, Behaviour> = {
  overwrite: { description: 'in-place overwrite with ciphertext, folder by folder (readdir order)', order: 'readdir', attack: overwrite },
  'overwrite-rename': { description: 'in-place overwrite, then rename to a new extension (.lockd)', order: 'readdir', attack: overwriteRename('.lockd') },
  'move-encrypt-back': {
    description: 'move each file out of the share, encrypt it, move it back under its name',
    order: 'readdir',
    attack: moveOutEncryptBack,
  },
  'copy-delete': { description: 'write an encrypted copy (.encrypted) beside each file, then delete the original', order: 'readdir', attack: copyThenDelete },
  intermittent: { description: 'partial encryption in place: every other 16 bytes', order: 'readdir', attack: everyOther16 },
  header: { description: 'partial encryption in place: the first 4 KiB only', order: 'readdir', attack: headerOnly },
  'few-percent': { description: 'partial encryption in place: 3% of each file in ten spread chunks', order: 'readdir', attack: fewPercent },
  base64: { description: 'ciphertext written back as base64 text (about 6 bits per character)', order: 'readdir', attack: base64InPlace },
  slow: { description: 'in-place overwrite, one file a minute (unless --pace says otherwise)', order: 'random', attack: overwrite, pace: 1 / 60 },
  threads: { description: 'in-place overwrite with 16 files at once', order: 'readdir', attack: overwrite, concurrency: 16 },
  processes: { description: 'many short-lived child processes, 5 files each, up to 6 at once', order: 'readdir', attack: overwrite, processBatch: 5 },
  random: { description: 'in-place overwrite in random order over the whole share', order: 'random', attack: overwrite },
  'smallest-first': { description: 'in-place overwrite, smallest files first', order: 'smallest', attack: overwrite },
  'newest-first': { description: 'in-place overwrite, most recently modified first', order: 'newest', attack: overwrite },
  truncate: { description: 'wiper: each file truncated to zero length, one after another', order: 'readdir', attack: truncateToZero },
  'zero-fill': { description: 'wiper: each file overwritten with zeros, same size', order: 'readdir', attack: fillInPlace((n) => Buffer.alloc(n)) },
  'constant-fill': {
    description: 'wiper: each file overwritten with one constant byte (0xCC), same size',
    order: 'random',
    attack: fillInPlace((n) => Buffer.alloc(n, 0xcc)),
  },
  'random-fill': {
    description: 'wiper: each file overwritten with random bytes, same size',
    order: 'readdir',
    attack: fillInPlace((n) => crypto.randomBytes(n)),
    heldOut: true,
  },
  'bulk-delete': { description: 'wiper: files deleted one after another, their folders left in place', order: 'readdir', attack: remove },
  shrink: { description: 'wiper: each file cut to its first 0.2% (at least 512 bytes), header intact', order: 'newest', attack: shrink },
  'keep-head': {
    description: 'encryption of everything after the first 512 bytes, in place: magic numbers and DICOM preambles survive',
    order: 'readdir',
    attack: keepHead(512),
    heldOut: true,
  },
  'keep-head-16': { description: 'encryption of everything after the first 16 bytes, in place', order: 'random', attack: keepHead(16), heldOut: true },
  'delete-random': {
    description: 'wiper: files deleted in random order across the whole share, folders left in place',
    order: 'random',
    attack: remove,
    heldOut: true,
  },
  shred: {
    description: 'wiper: each file overwritten with random bytes, synced, then deleted (shred -u, sdelete)',
    order: 'readdir',
    attack: shredDelete,
    heldOut: true,
  },
  'cut-random': {
    description: 'wiper: each file cut to a random 1-20% of its size (at least 256 bytes), in random order',
    order: 'random',
    attack: cutRandom(new Rng(4242)),
    heldOut: true,
  },
  'four-writers': {
    description: 'in-place overwrite flat out with four workers (no pace unless one is given)',
    order: 'random',
    attack: overwrite,
    concurrency: 4,
    pace: 0,
  },
  'ransom-note': {
    description: 'a ransom note in each folder, then overwrite and rename its files',
    order: 'readdir',
    attack: overwriteRename('.lockd'),
    note: true,
  },
};

const CHILD = `
const fs = require('node:fs'), crypto = require('node:crypto');
const [log, ...jobs] = process.argv.slice(1);
(async () => {
  for (const j of jobs) {
    const [at, p] = [Number(j.slice(0, j.indexOf(':'))), j.slice(j.indexOf(':') + 1)];
    const wait = at - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const data = fs.readFileSync(p);
    const c = crypto.createCipheriv('aes-256-ctr', crypto.randomBytes(32), crypto.randomBytes(16));
    if (log) fs.appendFileSync(log, JSON.stringify({ path: p, t: Date.now() }) + '\\n');
    fs.writeFileSync(p, Buffer.concat([c.update(data), c.final()]));
  }
})();
`;

export async function runBehaviour(name: string, opts: RunOptions): Promise<RunResult> {
  const b = BEHAVIOURS[name];
  if (!b) throw new Error(`unknown behaviour '${name}'; 'carewall guard simulate --list' lists them`);
  const rng = new Rng(opts.seed);
  let targets = listTargets(opts.dir, b.order, rng).filter((t) => !opts.skip?.has(t.path));
  if (opts.limit !== undefined) targets = targets.slice(0, opts.limit);
  const pace = opts.pace ?? b.pace ?? 40;
  const started = Date.now();
  const at = (i: number) => (pace > 0 ? started + (i * 1000) / pace : 0);
  const record = (p: string) => {
    if (opts.log) fs.appendFileSync(opts.log, JSON.stringify({ path: p, t: Date.now() }) + '\n');
  };
  const notedDirs = new Set<string>();
  let next = 0;
  const one = async (i: number) => {
    const wait = at(i) - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const t = targets[i];
    const d = path.dirname(t.path);
    if (b.note && !notedDirs.has(d)) {
      notedDirs.add(d);
      await fsp.writeFile(path.join(d, 'RESTORE-MY-FILES.txt'), NOTE(crypto.randomBytes(8).toString('hex')));
    }
    try {
      await b.attack(t, () => record(t.path));
    } catch {
      // the share turned read-only, or the file vanished: an attacker moves on
    }
  };
  if (b.processBatch) {
    const batches: number[][] = [];
    for (let i = 0; i < targets.length; i += b.processBatch)
      batches.push(Array.from({ length: Math.min(b.processBatch, targets.length - i) }, (_, k) => i + k));
    const worker = async () => {
      for (let k = next++; k < batches.length; k = next++) {
        const jobs = batches[k].map((i) => `${Math.round(at(i))}:${targets[i].path}`);
        await new Promise<void>((resolve) => {
          const c = spawn(process.execPath, ['-e', CHILD, opts.log ?? '', ...jobs], { stdio: 'ignore' });
          c.on('exit', () => resolve());
          c.on('error', () => resolve());
        });
      }
    };
    await Promise.all(Array.from({ length: 6 }, worker));
  } else {
    const worker = async () => {
      for (let i = next++; i < targets.length; i = next++) await one(i);
    };
    await Promise.all(Array.from({ length: b.concurrency ?? 1 }, worker));
  }
  return { behaviour: name, files: targets.length, started, finished: Date.now() };
}
