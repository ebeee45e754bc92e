/** The public surface of util: other folders import only from here. */
export { StrictJsonError, parseStrictJson } from './strictJson.js';
export { WorkerPool } from './workerPool.js';
export { WorkerDeadlineError, WorkerStoppedError, realTimer, runWorkerTask, serveWorker } from './workerTask.js';
export type { DeadlineTimer, WorkerModule } from './workerTask.js';
export { exitOnSignal } from './signals.js';
export { Rng } from './random.js';
