/** Runs the monitor's Poisson functions in a worker thread, so that a test can stop one that never returns. */
import { poissonQuantile, poissonTail } from '../../src/monitor/scan/stats.js';

export type StatsCall = { fn: 'tail'; k: number; lambda: number } | { fn: 'quantile'; lambda: number; alpha: number };

export default (c: StatsCall) => (c.fn === 'tail' ? poissonTail(c.k, c.lambda) : poissonQuantile(c.lambda, c.alpha));
