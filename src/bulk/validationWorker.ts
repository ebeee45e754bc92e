/** A worker thread of `carewall import`: validates the batches the main thread reads (validation.ts). */
import { parentPort } from 'node:worker_threads';
import { validateForImport, type ToValidate } from './validation.js';

parentPort?.on('message', (msg: { id: number; items: ToValidate[] }) => {
  try {
    parentPort?.postMessage({ id: msg.id, results: msg.items.map(validateForImport) });
  } catch (err) {
    parentPort?.postMessage({ id: msg.id, error: (err as Error).message });
  }
});
