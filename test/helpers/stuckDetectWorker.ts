/** A detection worker for tests that never returns: it says so on the channel, then spins for ever. */
import { BroadcastChannel, parentPort } from 'node:worker_threads';
import { DETECT_CHANNEL, type DetectSignal } from './detectChannel.js';

parentPort?.once('message', () => {
  new BroadcastChannel(DETECT_CHANNEL).postMessage({ state: 'stuck' } satisfies DetectSignal);
  for (;;);
});
