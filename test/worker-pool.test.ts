/** The worker pool (src/util/workerPool.ts, piscina's threads): a crashed worker fails only its own tasks and is replaced. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WorkerPool } from '../src/util/workerPool.js';
import type { PoolTestTask } from './helpers/crashingWorker.js';

const pool = (size: number) =>
  new WorkerPool<PoolTestTask, number>(size, import.meta.url, 'helpers/crashingWorker', (task) => {
    if (typeof task === 'object' && 'double' in task) return task.double * 2;
    throw new Error('not inline');
  });

/** Two tasks that each wait for the other: answered only when two threads run them at once. */
const meet = (p: WorkerPool<PoolTestTask, number>) => {
  const arrived = new SharedArrayBuffer(4);
  return Promise.all([p.run({ meet: arrived }), p.run({ meet: arrived })]);
};

test('a worker that crashes fails the task it held, and is replaced: the pool keeps its full size', { timeout: 60_000 }, async () => {
  const p = pool(2);
  try {
    const before = await meet(p);
    assert.equal(new Set(before).size, 2);
    // The crash holds one thread; the other tasks are answered by the other thread or, queued, by
    // the replacement. None of them is lost with the crashed thread.
    const crashed = p.run('crash');
    const others = Array.from({ length: 6 }, (_, i) => p.run({ double: i }));
    await assert.rejects(crashed, /the worker broke/);
    assert.deepEqual(await Promise.all(others), [0, 2, 4, 6, 8, 10]);
    // Two threads again: the one that survived and a new one.
    const after = await meet(p);
    assert.equal(new Set(after).size, 2);
    assert.equal(after.filter((id) => before.includes(id)).length, 1);
  } finally {
    await p.close();
  }
});

test('buffers handed over move to the worker rather than being copied', { timeout: 60_000 }, async () => {
  const p = pool(1);
  try {
    const bytes = new Uint8Array([1, 2, 3, 250]);
    assert.equal(await p.run({ sum: bytes }, [bytes.buffer]), 256);
    assert.equal(bytes.byteLength, 0, 'the sender no longer holds the buffer');
    const kept = new Uint8Array([5, 6]);
    assert.equal(await p.run({ sum: kept }), 11);
    assert.equal(kept.byteLength, 2, 'without a transfer list the buffer is copied');
  } finally {
    await p.close();
  }
});

test('a pool of size 0 runs its tasks on the calling thread', async () => {
  const p = pool(0);
  assert.equal(await p.run({ double: 21 }), 42);
  await assert.rejects(p.run('crash'), /not inline/);
  await p.close();
});
