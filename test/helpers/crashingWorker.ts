/** A worker that doubles numbers, and dies (an uncaught error in the thread) when asked to. */
import { serveWorker } from '../../src/util/workerPool.js';

serveWorker((n: number | 'crash') => {
  if (n === 'crash')
    setImmediate(() => {
      throw new Error('the worker broke');
    });
  return n === 'crash' ? 0 : n * 2;
});
