/** A worker thread of `carewall import`: validates the batches the main thread reads (validation.ts; a WorkerPool's module). */
import { validateForImport, type ToValidate } from './validation.js';

export default (items: ToValidate[]) => items.map(validateForImport);
