/**
 * Test detection workers (gatedDetectWorker, stuckDetectWorker) and the test that started them
 * talk over a BroadcastChannel of this name: it reaches every thread of the test's process, so a
 * worker can say it has begun detecting even while it never yields again.
 */
import { BroadcastChannel } from 'node:worker_threads';

export const DETECT_CHANNEL = 'carewall-test-detect';

export type DetectSignal = { state: 'detecting'; events: number; users: string[]; first?: number; last?: number } | { state: 'stuck' };

/** The next message on the channel that is in `state`. */
export function nextSignal<S extends DetectSignal['state']>(channel: BroadcastChannel, state: S): Promise<Extract<DetectSignal, { state: S }>> {
  return new Promise((resolve) => {
    const listener = (e: Event) => {
      const data = (e as MessageEvent).data as DetectSignal;
      if (data?.state !== state) return;
      channel.removeEventListener('message', listener);
      resolve(data as Extract<DetectSignal, { state: S }>);
    };
    channel.addEventListener('message', listener);
  });
}
