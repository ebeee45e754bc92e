/**
 * One task in a worker thread of its own, for CPU-bound work that must never hold up the main
 * thread nor outlive its welcome: the worker is terminated once it has answered, at a deadline, or
 * when the caller gives up (an AbortSignal, e.g. the server shutting down). Terminating a thread
 * stops even a loop that never returns, which nothing inside the thread could. The worker module
 * answers with `serveWorker` (below). A thread of its own per task, not a WorkerPool's: a pool's
 * threads are shared and kept, and a task stopped at its deadline must take its thread with it.
 */
import fs from 'node:fs';
import os from 'node:os';
import { isMainThread, parentPort } from 'node:worker_threads';
import { startWorker } from './workerThread.js';

/** A worker module: its base name beside `callerUrl` (see startWorker). */
export interface WorkerModule {
  callerUrl: string;
  baseName: string;
}

/** Calls `expire` after `ms` unless the returned cancel function is called first. */
export type DeadlineTimer = (ms: number, expire: () => void) => () => void;

export const realTimer: DeadlineTimer = (ms, expire) => {
  const t = setTimeout(expire, ms);
  return () => clearTimeout(t);
};

/** The task was still running at its deadline, and was stopped. */
export class WorkerDeadlineError extends Error {
  constructor(readonly ms: number) {
    super(`the worker had not answered within ${ms} ms and was stopped`);
    this.name = 'WorkerDeadlineError';
  }
}

/** The caller gave up (its AbortSignal fired), and the task was stopped. */
export class WorkerStoppedError extends Error {
  constructor() {
    super('the worker was stopped before it answered');
    this.name = 'WorkerStoppedError';
  }
}

export interface WorkerTaskOptions {
  deadlineMs: number;
  signal?: AbortSignal;
  /** The deadline's clock: tests inject one they can fire. */
  timer?: DeadlineTimer;
}

/**
 * Runs `task` in a new worker running `module`, and settles once the worker has been terminated:
 * with its answer, or with WorkerDeadlineError, WorkerStoppedError, or the worker's own failure.
 */
export function runWorkerTask<Task, Result>(module: WorkerModule, task: Task, options: WorkerTaskOptions): Promise<Result> {
  if (options.signal?.aborted) return Promise.reject(new WorkerStoppedError());
  return new Promise<Result>((resolve, reject) => {
    const worker = startWorker(module.callerUrl, module.baseName);
    let settled = false;
    const finish = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      cancelDeadline();
      options.signal?.removeEventListener('abort', onAbort);
      // Settled only once the thread is gone: after a stop, nothing of the task runs on.
      worker.terminate().then(outcome, outcome);
    };
    const onAbort = () => finish(() => reject(new WorkerStoppedError()));
    const cancelDeadline = (options.timer ?? realTimer)(options.deadlineMs, () => finish(() => reject(new WorkerDeadlineError(options.deadlineMs))));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (msg: { id: number; result?: Result; error?: string }) => {
      finish(() => (msg.error === undefined ? resolve(msg.result as Result) : reject(new Error(msg.error))));
    });
    worker.on('error', (err) => finish(() => reject(err)));
    worker.on('exit', (code) => finish(() => reject(new Error(`the worker exited (code ${code}) before it answered`))));
    try {
      worker.postMessage({ id: 0, task });
    } catch (err) {
      finish(() => reject(err as Error));
    }
  });
}

/**
 * In a worker module run by runWorkerTask: answers the request (`{id, task}`) with `handle`.
 * `background`: the thread runs at the lowest CPU priority (lowerThisThread), for work that may
 * take as long as it needs but must not take CPU from the requests the main thread serves.
 */
export function serveWorker<Task, Result>(handle: (task: Task) => Result, options: { background?: boolean } = {}): void {
  // Only a worker's own thread: a module loaded on the main thread by mistake lowers nothing.
  if (options.background && !isMainThread) lowerThisThread();
  parentPort?.on('message', (msg: { id: number; task: Task }) => {
    try {
      parentPort?.postMessage({ id: msg.id, result: handle(msg.task) });
    } catch (err) {
      parentPort?.postMessage({ id: msg.id, error: (err as Error).message || 'the worker failed' });
    }
  });
}

/**
 * This thread alone to the lowest CPU priority (nice 19): on a clinic's small server the main
 * thread answering requests and the embedded database in it then get the cores first, and this
 * thread what they leave. It matters when the cores are taken (bench/liveScan.ts on two cores with
 * one free measured no difference). Linux keeps a priority per thread, and
 * setpriority given a thread's id sets that thread's; Node gives no thread id, but
 * /proc/thread-self names it. Lowering one's own priority needs no privilege. Elsewhere (no /proc),
 * the thread keeps the normal priority.
 */
export function lowerThisThread(): void {
  let tid: number;
  try {
    tid = Number(fs.readlinkSync('/proc/thread-self').split('/').pop());
  } catch {
    return;
  }
  if (!Number.isInteger(tid) || tid <= 0) return;
  try {
    os.setPriority(tid, os.constants.priority.PRIORITY_LOW);
  } catch {
    // Not permitted here: the work runs all the same, at the normal priority.
  }
}
