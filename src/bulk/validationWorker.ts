/** A worker thread of `carewall import`: validates the batches the main thread reads (validation.ts). */
import { serveWorker } from '../util/index.js';
import { validateForImport, type ToValidate } from './validation.js';

serveWorker((items: ToValidate[]) => items.map(validateForImport));
