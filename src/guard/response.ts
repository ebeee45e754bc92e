/**
 * The response to an alarm, apart from the alarm line itself: making the share read-only and the
 * protective snapshot. The snapshot is a function the guard is given, so that the server can hand
 * it the backup module (a snapshot of the named files into the append-only repository) while the
 * CLI, which runs without an installation, copies the files into a write-once folder.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { fingerprint, isKnownFormat, type Fingerprint } from './fingerprint.js';

export interface SnapshotRequest {
  /** The watched folders. */
  roots: string[];
  /** Files not (yet) touched by the attack, with the baseline they must still match. */
  files: Array<{ path: string; baseline: Fingerprint }>;
  /** When the alarm was raised (ISO 8601). */
  alarmTime: string;
}

export interface SnapshotResult {
  /** Where the snapshot is (a folder, or the backup repository's snapshot id). */
  location: string;
  files: number;
  bytes: number;
  /** Files left out because they no longer matched their baseline when copied (touched meanwhile). */
  changedMeanwhile: string[];
}

/** Takes the protective snapshot; the guard calls it once per incident, at its first alarm. */
export type ProtectiveSnapshot = (req: SnapshotRequest) => Promise<SnapshotResult>;

/** Whether the file at `p` still has the content of its baseline (as far as the fingerprint tells). */
export async function stillMatches(base: Fingerprint, p: string): Promise<boolean> {
  return sameContent(base, await fingerprint(p));
}

function sameContent(base: Fingerprint, now: Fingerprint | undefined): boolean {
  if (!now) return false;
  if (isKnownFormat(base.kind) || base.kind === 'text') return now.kind === base.kind && now.sample === base.sample;
  return now.sample === base.sample;
}

/**
 * The CLI's protective snapshot: a copy (never a hard link: a link shares the blocks that the
 * attacker is overwriting) of each untouched file into a new folder under `dir`, named by the time,
 * then every file 0444 and every folder 0555 so nothing in it is changed by accident. Each copy is
 * fingerprinted again and dropped if it no longer matches the baseline: a file the attacker reached
 * during the copy is not saved in its damaged state as if it were good.
 */
export function copySnapshot(dir: string): ProtectiveSnapshot {
  return async (req) => {
    const target = path.join(path.resolve(dir), req.alarmTime.replace(/[:.]/g, '-'));
    await fsp.mkdir(target, { recursive: true, mode: 0o700 });
    let files = 0;
    let bytes = 0;
    const changed: string[] = [];
    const madeDirs = new Set<string>();
    const work = [...req.files];
    const worker = async () => {
      for (let f = work.shift(); f; f = work.shift()) {
        const root = req.roots.find((r) => f.path.startsWith(r + path.sep));
        if (!root) continue;
        const dest = path.join(target, path.basename(root), path.relative(root, f.path));
        await fsp.mkdir(path.dirname(dest), { recursive: true });
        madeDirs.add(path.dirname(dest));
        try {
          await fsp.copyFile(f.path, dest, fs.constants.COPYFILE_EXCL);
        } catch {
          changed.push(f.path); // vanished meanwhile
          continue;
        }
        if (!sameContent(f.baseline, await fingerprint(dest))) {
          await fsp.rm(dest, { force: true });
          changed.push(f.path);
          continue;
        }
        await fsp.chmod(dest, 0o444);
        files++;
        bytes += f.baseline.size;
      }
    };
    await Promise.all(Array.from({ length: 4 }, worker));
    // Deepest folders first, so a parent is closed only after its children.
    for (const d of [...madeDirs, target].sort((a, b) => b.length - a.length)) await fsp.chmod(d, 0o555).catch(() => {});
    return { location: target, files, bytes, changedMeanwhile: changed };
  };
}

/** A file or folder whose write bits the read-only response took off, with its mode before. */
export interface SavedMode {
  path: string;
  mode: number;
}

/**
 * Takes the write bits off every file and folder of the share (a folder without them refuses new
 * files, renames and deletes). Processes that run as root, or as the owner and change the mode
 * back, are not stopped by it; the share's users (Samba's, say) are. Returns the entries changed
 * with their modes before, which `restoreWriteBits` gives back after the clean-up.
 */
export async function makeReadOnly(roots: string[], skip: (p: string) => boolean): Promise<SavedMode[]> {
  const saved: SavedMode[] = [];
  const walk = async (d: string) => {
    let entries: fs.Dirent[];
    try {
      entries = await fsp.readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    // The folder first: from that moment it refuses new files, renames and deletes.
    const st = await fsp.stat(d).catch(() => undefined);
    if (st && st.mode & 0o222) {
      await fsp.chmod(d, st.mode & 0o7555).then(
        () => saved.push({ path: d, mode: st.mode & 0o7777 }),
        () => {},
      );
    }
    await Promise.all(
      entries.map(async (e) => {
        const p = path.join(d, e.name);
        if (skip(p)) return;
        if (e.isDirectory()) await walk(p);
        else if (e.isFile()) {
          const fst = await fsp.stat(p).catch(() => undefined);
          if (fst && fst.mode & 0o222) {
            await fsp.chmod(p, fst.mode & 0o7555).then(
              () => saved.push({ path: p, mode: fst.mode & 0o7777 }),
              () => {},
            );
          }
        }
      }),
    );
  };
  for (const r of roots) await walk(r);
  return saved;
}

/**
 * Gives back the write bits the read-only response took (and only those: a mode changed since by
 * someone else keeps its other bits). Entries that are gone, or that were replaced by a link,
 * are skipped. Returns how many entries were given their write bits back.
 */
export async function restoreWriteBits(saved: SavedMode[]): Promise<number> {
  let n = 0;
  for (const m of saved) {
    const st = await fsp.lstat(m.path).catch(() => undefined);
    if (!st || st.isSymbolicLink()) continue;
    await fsp.chmod(m.path, (st.mode & 0o7777) | (m.mode & 0o222)).then(
      () => n++,
      () => {},
    );
  }
  return n;
}
