/**
 * Background work yields the CPU to requests (issue 31): a worker served in the background (the
 * live monitor's detection) runs at the lowest CPU priority, its thread alone, so the main thread
 * that answers requests, and the embedded database in it, keep theirs. Read from Linux's /proc.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { runWorkerTask } from '../src/util/index.js';

/** The nice value in a /proc/…/stat file: field 19, counted after the command name's closing parenthesis. */
function niceIn(statPath: string): number {
  const stat = fs.readFileSync(statPath, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}

const linux = fs.existsSync('/proc/thread-self/stat');

test('a background worker runs at nice 19; the main thread keeps its priority', { skip: linux ? false : 'needs Linux /proc' }, async () => {
  const mainBefore = niceIn('/proc/thread-self/stat');
  const workerNice = await runWorkerTask<null, number>({ callerUrl: import.meta.url, baseName: 'helpers/niceWorker' }, null, { deadlineMs: 60_000 });
  assert.equal(workerNice, 19);
  assert.equal(niceIn('/proc/thread-self/stat'), mainBefore, 'the main thread is not lowered with it');
  assert.equal(niceIn(`/proc/${process.pid}/stat`), mainBefore, 'nor the process');
});
