/**
 * The marker files of Guard.sync(): one written in each watched folder, whose own event shows that
 * the events in flight before it have arrived. Markers are never judged; each is removed once its
 * event is here.
 */
import fs from 'node:fs';
import path from 'node:path';

const PREFIX = '.carewall-guard-sync-';

export class SyncMarkers {
  /** Markers waiting for their own event, by path. */
  private readonly waiting = new Map<string, () => void>();
  private made = 0;

  static isMarker(p: string): boolean {
    return path.basename(p).startsWith(PREFIX);
  }

  /** For the watcher's callback: true when `p` is a marker's event (it is then not a change to judge). */
  arrived(p: string): boolean {
    const done = this.waiting.get(p);
    if (!done) return false;
    this.waiting.delete(p);
    done();
    return true;
  }

  /** Resolves once a marker written in each root has raised its event; rejects after `timeoutMs`. */
  async passThrough(roots: string[], timeoutMs: number): Promise<void> {
    await Promise.all(
      roots.map(
        (root) =>
          new Promise<void>((resolve, reject) => {
            const marker = path.join(root, `${PREFIX}${process.pid}-${++this.made}`);
            const timer = setTimeout(() => {
              this.waiting.delete(marker);
              reject(new Error('the file-system watcher did not deliver its events'));
            }, timeoutMs);
            this.waiting.set(marker, () => {
              clearTimeout(timer);
              fs.rmSync(marker, { force: true }); // after its event: a file made and removed at once may raise none
              resolve();
            });
            try {
              fs.writeFileSync(marker, '');
            } catch {
              // A folder made read-only by an alarm takes no marker; the scan after it still finds its changes.
              clearTimeout(timer);
              this.waiting.delete(marker);
              resolve();
            }
          }),
      ),
    );
  }
}
