/** The worker pool (src/util/workerPool.ts): a crashed worker fails only its own tasks and is replaced. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WorkerPool } from '../src/util/workerPool.js';

test('a worker that crashes is replaced: the pool keeps answering with its full size', { timeout: 60_000 }, async () => {
  const pool = new WorkerPool<number | 'crash', number>(2, import.meta.url, 'helpers/crashingWorker', () => {
    throw new Error('always in a worker');
  });
  try {
    assert.deepEqual(await Promise.all([pool.run(1), pool.run(2)]), [2, 4]);
    // Task 2 goes to worker 0, which dies right after answering; a task it still held would fail.
    await pool.run('crash');
    // Until the crash is seen, a task may still be sent to the dying worker: it fails, it does not hang.
    const results = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => pool.run(i)));
    for (const r of results) if (r.status === 'rejected') assert.match(String(r.reason), /broke|stopped/);
    // Once replaced, every task is answered again, on both slots.
    let answered: number[] = [];
    for (let attempt = 0; attempt < 200; attempt++) {
      const round = await Promise.allSettled([pool.run(10), pool.run(20)]);
      if (round.every((r) => r.status === 'fulfilled')) {
        answered = round.map((r) => (r as PromiseFulfilledResult<number>).value);
        break;
      }
    }
    assert.deepEqual(answered, [20, 40]);
  } finally {
    await pool.close();
  }
});
