/** A worker thread of `carewall audit verify`: hashes the chunks the main thread reads (verifyChunk.ts). */
import { serveWorker } from '../util/index.js';
import { hashChunk } from './verifyChunk.js';

serveWorker(hashChunk);
