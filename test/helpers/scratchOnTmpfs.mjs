/**
 * Imported first by `npm test` (`--import`), in the runner and in each test file's process: the
 * tests' scratch folders (os.tmpdir(): data folders, installation templates, shares, repositories)
 * go to a RAM-backed tmpfs when the machine has one with room, unless TMPDIR is set already.
 *
 * Every test server copies a migrated installation (1,345 files, 42 MB) and removes it after: on
 * ext4 that is about a second of system time per server (copy 1.0 s, removal 0.1–0.6 s), on tmpfs
 * 0.08 s, and the embedded database's own writes are cheaper there too. What the tests check does
 * not change: files, modes, modification times, fs.watch and a killed process's acknowledged writes
 * (in the page cache either way) behave the same. A small tmpfs (a container's 64 MB /dev/shm) or
 * none leaves the system's temporary folder in use.
 *
 * Plain JavaScript: the worker threads Carewall starts get the process's flags without tsx.
 */
import fs from 'node:fs';
import path from 'node:path';

const SHM = '/dev/shm';
const TMPFS_MAGIC = 0x01021994;
/** Room for two test files at once with their servers, shares and repositories, with a wide margin. */
const NEEDED_BYTES = 4 * 1024 ** 3;

/** @returns {string | undefined} */
function tmpfsScratch() {
  try {
    const fsStats = fs.statfsSync(SHM);
    if (fsStats.type !== TMPFS_MAGIC || fsStats.bavail * fsStats.bsize < NEEDED_BYTES) return undefined;
    const uid = process.getuid?.();
    if (uid === undefined) return undefined;
    const dir = path.join(SHM, `carewall-tests-${uid}`);
    // Traversable (0711) as /tmp is: the private PostgreSQL and mail servers' own users reach their folders in it.
    fs.mkdirSync(dir, { mode: 0o711, recursive: true });
    // /dev/shm is everyone's: use the folder only if it is ours and nobody else writes in it (not a link someone left there).
    const own = fs.lstatSync(dir);
    if (!own.isDirectory() || own.uid !== uid || (own.mode & 0o022) !== 0) return undefined;
    return dir;
  } catch {
    return undefined;
  }
}

if (!process.env.TMPDIR) {
  const dir = tmpfsScratch();
  if (dir) process.env.TMPDIR = dir;
}
