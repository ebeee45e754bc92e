/** A worker thread of `carewall audit verify`: hashes the chunks the main thread reads (verifyChunk.ts; a WorkerPool's module). */
import { hashChunk } from './verifyChunk.js';

export default hashChunk;
