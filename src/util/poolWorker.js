/**
 * What each thread of a WorkerPool loads (piscina's `filename`): the pool's worker module, named in
 * the pool's workerData, whose default export answers a task. This file is plain JavaScript (tsc
 * copies it into dist/, allowJs) so that a thread loads it as it is, built or not:
 *  - built, the worker module is JavaScript too, and tsx is never imported (a clinic installs
 *    without development dependencies);
 *  - under tsx (tests, development, benches) the worker module is TypeScript. The pool leaves
 *    `--import tsx` out of the thread's options (workerThread.ts, withoutTsx) and tsx is
 *    registered here instead, before the module is loaded: the same way in every thread, however
 *    the parent came to run TypeScript.
 */
import { workerData } from 'node:worker_threads';

const { module } = workerData;
if (module.endsWith('.ts')) (await import('tsx/esm/api')).register();

export default (await import(module)).default;
