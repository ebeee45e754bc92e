/**
 * For work outside a request (a background job, an approved export): the database going away for
 * a restart or a failover should delay it, not end it. Requests do not retry: they answer 503 with
 * Retry-After and the client tries again.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { fromDatabaseAway } from './errors.js';

export interface RetryOptions {
  /** Tries in all (the first included). */
  attempts: number;
  /** The first wait; each further wait doubles, up to maxDelayMs. */
  delayMs: number;
  maxDelayMs: number;
  /** Ends the waiting early (shutdown): the last failure is thrown. */
  signal?: AbortSignal;
  onRetry?: (attempt: number, err: unknown) => void;
}

/** Runs `op` again while it fails because the database is away; any other failure, or the last, is thrown. */
export async function retryWhileAway<T>(op: () => Promise<T>, opts: RetryOptions): Promise<T> {
  let delay = opts.delayMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await op();
    } catch (err) {
      if (attempt >= opts.attempts || !fromDatabaseAway(err) || opts.signal?.aborted) throw err;
      opts.onRetry?.(attempt, err);
      try {
        await sleep(delay, undefined, { signal: opts.signal });
      } catch {
        throw err; // aborted while waiting
      }
      delay = Math.min(delay * 2, opts.maxDelayMs);
    }
  }
}
