/**
 * Webhooks: a JSON POST to each configured URL when privacy officers are told something (a
 * break-the-glass, an account suspended, a ransomware alarm). No payload names a patient or a file.
 *
 * A receiver that is down or busy is tried again with growing pauses (1, 2, 4, 8 s: five attempts
 * in about 15 s), each attempt bounded by a timeout; a refusal (4xx other than 408 and 429) is not
 * retried, it would only be refused again. Delivery runs beside the request: a slow receiver never
 * holds up an emergency. It is kept in memory only: the in-app list (notices.ts) is the
 * record that survives a restart.
 */
import type { Logger } from '../log.js';

export interface WebhookOptions {
  /** Attempts per URL, the first included. */
  attempts?: number;
  /** The pause before the second attempt; doubled before each next one. */
  firstPauseMs?: number;
  /** How long one attempt may take. */
  timeoutMs?: number;
  /** How a pause is waited (tests pass one that returns at once and notes the pause). */
  pause?: (ms: number) => Promise<void>;
}

const DEFAULTS = { attempts: 5, firstPauseMs: 1000, timeoutMs: 5000 };

export class Webhooks {
  private readonly inFlight = new Set<Promise<void>>();
  private readonly opts: Required<WebhookOptions>;

  constructor(
    private readonly urls: readonly string[],
    private readonly log: Logger,
    options: WebhookOptions = {},
  ) {
    this.opts = { ...DEFAULTS, pause: (ms) => new Promise((r) => setTimeout(r, ms).unref()), ...options };
  }

  /** Starts delivering `payload` to every URL and returns at once. */
  send(payload: object): void {
    const body = JSON.stringify(payload);
    for (const url of this.urls) {
      const delivery = this.deliver(url, body).finally(() => this.inFlight.delete(delivery));
      this.inFlight.add(delivery);
    }
  }

  /** Waits for the deliveries under way (tests; a clean shutdown). */
  async settle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private async deliver(url: string, body: string): Promise<void> {
    const host = new URL(url).host; // logged instead of the URL, which may carry a secret token
    let pauseMs = this.opts.firstPauseMs;
    for (let attempt = 1; attempt <= this.opts.attempts; attempt++) {
      let retry: boolean;
      let why: string;
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
          signal: AbortSignal.timeout(this.opts.timeoutMs),
        });
        await res.body?.cancel();
        if (res.ok) return;
        retry = res.status >= 500 || res.status === 408 || res.status === 429;
        why = `status ${res.status}`;
      } catch (err) {
        retry = true;
        why = (err as Error).name === 'TimeoutError' ? 'timed out' : 'unreachable';
      }
      if (!retry || attempt === this.opts.attempts) {
        this.log.error({ webhook: host, attempts: attempt, why }, 'notification webhook not delivered');
        return;
      }
      await this.opts.pause(pauseMs);
      pauseMs *= 2;
    }
  }
}
