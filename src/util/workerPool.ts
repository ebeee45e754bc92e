/**
 * Worker threads answering requests in turn, or the calling thread when there are none: CPU-bound
 * work (verifying the audit log, validating an import) spread over the machine's cores while the
 * main thread keeps reading. A request is `{id, task}`, an answer `{id, result}` or `{id, error}`.
 */
import { parentPort, type Worker } from 'node:worker_threads';
import { startWorker } from './workerThread.js';

export class WorkerPool<Task, Result> {
  private readonly workers: Worker[] = [];
  /** Tasks waiting for an answer, with the worker they went to (a crash fails only its own). */
  private readonly waiting = new Map<number, { resolve: (r: Result) => void; reject: (e: Error) => void; worker: number }>();
  private nextId = 0;
  private closed = false;

  /**
   * `size` workers running the module `baseName` beside `callerUrl` (which calls `serveWorker`),
   * or `inline` on this thread when `size` is 0. A worker that crashes fails the tasks it held and
   * is replaced, so the pool keeps its size.
   */
  constructor(
    readonly size: number,
    private readonly callerUrl: string,
    private readonly baseName: string,
    private readonly inline: (task: Task) => Result,
  ) {
    for (let i = 0; i < size; i++) this.workers.push(this.start(i));
  }

  private start(slot: number): Worker {
    const w = startWorker(this.callerUrl, this.baseName);
    w.on('message', (msg: { id: number; result?: Result; error?: string }) => {
      const p = this.waiting.get(msg.id);
      this.waiting.delete(msg.id);
      if (msg.error === undefined) p?.resolve(msg.result as Result);
      else p?.reject(new Error(msg.error));
    });
    let failed = false;
    const fail = (err: Error) => {
      if (failed) return;
      failed = true;
      for (const [id, p] of this.waiting) {
        if (p.worker !== slot) continue;
        this.waiting.delete(id);
        p.reject(err);
      }
      if (!this.closed) this.workers[slot] = this.start(slot);
    };
    w.on('error', fail);
    w.on('exit', (code) => fail(new Error(`a worker stopped (exit code ${code})`)));
    return w;
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
    const slot = id % this.workers.length;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject, worker: slot });
      this.workers[slot].postMessage({ id, task }, transfer);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
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
