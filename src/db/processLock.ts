/**
 * One process per embedded database folder. The lock file holds the owner's pid, so a lock left by
 * a process that was killed (power cut, SIGKILL) is recognised as stale at once and taken over,
 * and the clinic's server restarts without anyone deleting files by hand.
 */
import fs from 'node:fs';

export class LockedError extends Error {}

export function acquireProcessLock(lockPath: string): () => void {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = fs.openSync(lockPath, 'wx', 0o600);
      fs.writeSync(fd, String(process.pid));
      fs.closeSync(fd);
      return () => {
        try {
          if (fs.readFileSync(lockPath, 'utf8') === String(process.pid)) fs.unlinkSync(lockPath);
        } catch {
          /* already gone */
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number(fs.readFileSync(lockPath, 'utf8').trim());
      if (owner && owner !== process.pid && isAlive(owner)) throw new LockedError(`locked by process ${owner}`);
      if (owner === process.pid) throw new LockedError('already open in this process');
      fs.rmSync(lockPath, { force: true }); // stale: its owner is gone
    }
  }
  throw new LockedError('could not take the lock');
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
