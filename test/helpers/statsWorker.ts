/** Runs the monitor's Poisson functions in a worker thread, so that a test can stop one that never returns. */
import { poissonQuantile, poissonTail } from '../../src/monitor/scan/stats.js';
import { serveWorker } from '../../src/util/workerPool.js';

export type StatsCall = { fn: 'tail'; k: number; lambda: number } | { fn: 'quantile'; lambda: number; alpha: number };

serveWorker((c: StatsCall) => (c.fn === 'tail' ? poissonTail(c.k, c.lambda) : poissonQuantile(c.lambda, c.alpha)));
