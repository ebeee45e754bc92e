/**
 * The callers behind bearer tokens, kept in this process for at most a second.
 *
 * Why: every authenticated request asked the database who its token belongs to. On a read that
 * was one of its three statements, and on this machine each statement's socket write alone costs
 * about as much as the access decision (docs/benchmarks.md, "where the server's CPU goes"). A
 * clinician's client sends many requests a second on one token; one lookup a second serves them.
 *
 * Why it is safe, in the terms docs/access.md sets for revocations (at once in the process that
 * wrote it, within a second in every other):
 *  - An entry is used only until a second after its lookup was sent, so whatever another process
 *    commits (a logout, a disabled account, a second factor reset, a practitioner unbound) holds
 *    here within a second of its commit.
 *  - Changes made through this process's IdentityService end every entry when they end
 *    (`changed`), and a lookup that overlapped such a change is answered but not kept.
 *  - An entry also ends when the session would end by time alone: its expiry, its idle limit,
 *    the account's end of validity, whichever comes first.
 *  - Only positive answers are kept: an unknown token is asked about every time.
 *  - With a streaming replica nothing is kept: the caller's write position (Who.readsAfter) may
 *    move in another process, and a read must never go to a replica that has not seen it.
 */
import { LRUCache } from 'lru-cache';
import type { Who } from '../shared/index.js';

/** Rule 9 of docs/access.md: a revocation holds in every process within a second. */
export const SESSION_FRESHNESS_MS = 1000;
/** Sessions kept; past it the least recently used make room (a clinic has far fewer at once). */
const MAX_SESSIONS = 10_000;

interface Entry {
  who: Who;
  /** The clock's time after which the entry is not used. */
  until: number;
}

/** What a lookup returns besides the caller: how long the session has left by time alone. */
export interface Lookup {
  who: Who;
  secondsLeft: number;
}

export class SessionCache {
  /** A monotonic clock by default; tests move it. */
  clock: { now(): number } = performance;
  private readonly entries = new LRUCache<string, Entry>({ max: MAX_SESSIONS });
  /** Bumped when a change ends: a lookup that began before it is not kept. */
  private generation = 0;
  /** Changes under way: lookups made meanwhile may read the state before them, so none is kept. */
  private changing = 0;

  constructor(private readonly enabled: boolean) {}

  /** The caller behind the token hash (hex), from the cache or from `lookup`. */
  async who(key: string, lookup: () => Promise<Lookup | null>): Promise<Who | null> {
    const now = this.clock.now();
    const hit = this.entries.get(key);
    if (hit && now < hit.until) return hit.who;
    if (hit) this.entries.delete(key);
    const generation = this.generation;
    const found = await lookup();
    if (!found) return null;
    if (this.enabled && this.changing === 0 && generation === this.generation) {
      const until = now + Math.min(SESSION_FRESHNESS_MS, found.secondsLeft * 1000);
      if (until > now) this.entries.set(key, { who: found.who, until });
    }
    return found.who;
  }

  /** Runs a change to sessions or accounts; every entry ends when it does (committed or not). */
  async changed<T>(change: () => Promise<T>): Promise<T> {
    this.changing++;
    try {
      return await change();
    } finally {
      this.changing--;
      this.generation++;
      this.entries.clear();
    }
  }
}
