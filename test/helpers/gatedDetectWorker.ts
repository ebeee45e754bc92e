/**
 * A detection worker for tests: the real detection (detection.ts, as detectWorker.ts runs it), held
 * at its start until the test posts 'go' on the channel, so that the test can use the server while
 * a scan is certainly detecting.
 */
import { BroadcastChannel, parentPort } from 'node:worker_threads';
import { detectAlerts, type DetectTask } from '../../src/monitor/live/detection.js';
import { DETECT_CHANNEL, type DetectSignal } from './detectChannel.js';

const channel = new BroadcastChannel(DETECT_CHANNEL);
parentPort?.once('message', ({ id, task }: { id: number; task: DetectTask }) => {
  channel.addEventListener('message', (e) => {
    if ((e as MessageEvent).data !== 'go') return;
    channel.close();
    parentPort?.postMessage({ id, result: detectAlerts(task) });
  });
  channel.postMessage({
    state: 'detecting',
    events: task.events.length,
    users: task.users,
    first: task.events[0]?.t,
    last: task.events.at(-1)?.t,
  } satisfies DetectSignal);
});
