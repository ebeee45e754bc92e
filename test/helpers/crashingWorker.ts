/**
 * A WorkerPool module for test/worker-pool.test.ts: doubles a number; sums bytes handed over;
 * meets another task (each waits until both run, then answers with its thread's id: two tasks
 * answered at once prove two live threads); or, for 'crash', holds the task and dies (an uncaught
 * error in the thread) without answering it.
 */
import { threadId } from 'node:worker_threads';

export type PoolTestTask = { double: number } | { sum: Uint8Array } | { meet: SharedArrayBuffer } | 'crash';

export default (task: PoolTestTask): number | Promise<number> => {
  if (task === 'crash')
    return new Promise<number>(() =>
      setImmediate(() => {
        throw new Error('the worker broke');
      }),
    );
  if ('double' in task) return task.double * 2;
  if ('sum' in task) return task.sum.reduce((a, b) => a + b, 0);
  const arrived = new Int32Array(task.meet);
  Atomics.add(arrived, 0, 1);
  Atomics.notify(arrived, 0);
  for (let seen = Atomics.load(arrived, 0); seen < 2; seen = Atomics.load(arrived, 0)) Atomics.wait(arrived, 0, seen);
  return threadId;
};
