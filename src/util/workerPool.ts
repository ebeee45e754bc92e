/**
 * Worker threads answering requests in turn, or the calling thread when there are none: CPU-bound
 * work (verifying the audit log, validating an import) spread over the machine's cores while the
 * main thread keeps reading. A request is `{id, task}`, an answer `{id, result}` or `{id, error}`.
 */
import { parentPort, type Worker } from 'node:worker_threads';
import { startWorker } from './workerThread.js';

export class WorkerPool<Task, Result> {
  private readonly workers: Worker[] = [];
  private readonly waiting = new Map<number, { resolve: (r: Result) => void; reject: (e: Error) => void }>();
  private nextId = 0;

  /**
   * `size` workers running the module `baseName` beside `callerUrl` (which calls `serveWorker`),
   * or `inline` on this thread when `size` is 0.
   */
  constructor(
    readonly size: number,
    callerUrl: string,
    baseName: string,
    private readonly inline: (task: Task) => Result,
  ) {
    for (let i = 0; i < size; i++) {
      const w = startWorker(callerUrl, baseName);
      w.on('message', (msg: { id: number; result?: Result; error?: string }) => {
        const p = this.waiting.get(msg.id);
        this.waiting.delete(msg.id);
        if (msg.error === undefined) p?.resolve(msg.result as Result);
        else p?.reject(new Error(msg.error));
      });
      w.on('error', (err) => {
        for (const p of this.waiting.values()) p.reject(err);
        this.waiting.clear();
      });
      this.workers.push(w);
    }
  }

  /** Runs the task; `transfer` hands buffers over to the worker instead of copying them. */
  run(task: Task, transfer: ArrayBuffer[] = []): Promise<Result> {
    if (this.workers.length === 0) {
      try {
        return Promise.resolve(this.inline(task));
      } catch (err) {
        return Promise.reject(err as Error);
      }
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.workers[id % this.workers.length].postMessage({ id, task }, transfer);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** In a worker module: answers each request of a WorkerPool with `handle`. */
export function serveWorker<Task, Result>(handle: (task: Task) => Result): void {
  parentPort?.on('message', (msg: { id: number; task: Task }) => {
    try {
      parentPort?.postMessage({ id: msg.id, result: handle(msg.task) });
    } catch (err) {
      parentPort?.postMessage({ id: msg.id, error: (err as Error).message || 'the worker failed' });
    }
  });
}
