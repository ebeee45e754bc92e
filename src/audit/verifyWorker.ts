/** A worker thread of `carewall audit verify`: hashes the chunks the main thread reads (verifyChunk.ts). */
import { parentPort } from 'node:worker_threads';
import { hashChunk, type ChunkTask } from './verifyChunk.js';

parentPort?.on('message', (msg: { id: number; task: ChunkTask }) => {
  try {
    parentPort?.postMessage({ id: msg.id, result: hashChunk(msg.task) });
  } catch (err) {
    parentPort?.postMessage({ id: msg.id, error: (err as Error).message });
  }
});
