/**
 * Worker threads answering tasks in turn, or the calling thread when there are none: CPU-bound
 * work (verifying the audit log, validating an import) spread over the machine's cores while the
 * main thread keeps reading. The threads are piscina's: it queues tasks, hands each to an idle
 * thread, fails only the tasks a crashed thread held, and starts another in its place.
 *
 * A worker module's default export answers a task (`export default (task) => result`); it runs in
 * each thread through poolWorker.js, which loads it built or under tsx alike.
 */
import { Piscina } from 'piscina';
import { withoutTsx, workerModuleUrl } from './workerThread.js';

export class WorkerPool<Task, Result> {
  private readonly threads: Piscina<Task, Result> | undefined;

  /**
   * `size` threads running the module `baseName` beside `callerUrl` (see workerModuleUrl), or
   * `inline` on this thread when `size` is 0. A thread that crashes fails the tasks it held and
   * is replaced, so the pool keeps its size.
   */
  constructor(
    readonly size: number,
    callerUrl: string,
    baseName: string,
    private readonly inline: (task: Task) => Result,
  ) {
    if (size === 0) return;
    this.threads = new Piscina<Task, Result>({
      filename: new URL('./poolWorker.js', import.meta.url).href,
      workerData: { module: workerModuleUrl(callerUrl, baseName).href },
      // All started at once and kept: the callers size the pool for the work at hand and close it after.
      minThreads: size,
      maxThreads: size,
      execArgv: withoutTsx(process.execArgv),
    });
    // A thread that crashes holding no task is reported as the pool's 'error' event, which would
    // otherwise end the process; it has been replaced already and no task was lost.
    this.threads.on('error', () => {});
  }

  /** Runs the task; `transfer` hands buffers over to the worker instead of copying them. */
  run(task: Task, transfer: ArrayBuffer[] = []): Promise<Result> {
    if (!this.threads) {
      try {
        return Promise.resolve(this.inline(task));
      } catch (err) {
        return Promise.reject(err as Error);
      }
    }
    return this.threads.run(task, { transferList: transfer });
  }

  /** Stops the threads; tasks not yet answered fail. */
  async close(): Promise<void> {
    await this.threads?.destroy();
  }
}
