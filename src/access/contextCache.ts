/**
 * The decision contexts of (caller, patient) pairs, kept in this process so that a clinician going
 * through a chart does not pay for the same relationships on every read.
 *
 * Why a cache is safe here, when rule 9 says a revocation takes effect for every process within a
 * second:
 *  - Every write that changes who may see a patient (relationships, memberships, consent,
 *    restriction, grants) sends `pg_notify('carewall_access', ...)` inside its transaction; the
 *    database delivers it to every listening process when, and only when, the write commits.
 *    A notification drops the entries it names (a patient, a practitioner's memberships, or all).
 *  - On the embedded database there is no other process: every change is this process's own,
 *    dropped from the cache as its transaction ends, and nothing else needs checking.
 *  - On a server, notifications can lag or a listening connection can break. So each process notifies
 *    itself a heartbeat every quarter second; notifications reach a listener in commit order, so
 *    once a heartbeat sent at time T has come back, every revocation committed before T has too.
 *    An entry is used only while the last returned heartbeat is younger than a second: a broken or
 *    lagging channel turns the cache off instead of letting it go stale.
 *  - A load that overlaps a notification is used for its own decision but not kept (its snapshot
 *    may predate the change the notification announced).
 *  - An entry also ends when time alone would change the answer: access_context() returns the
 *    number of seconds until the next start or end of any relationship, membership, consent or
 *    grant it looked at (an appointment's window opening, an encounter's follow-up closing).
 *  - Decisions inside a write transaction never use or fill it: the transaction may have changed
 *    what the cache knows.
 */
import { LRUCache } from 'lru-cache';
import type { Database } from '../db/index.js';

export const ACCESS_CHANNEL = 'carewall_access';
const HEARTBEAT_MS = 250;
/** Rule 9: no cached decision outlives a revocation by more than a second. */
const FRESHNESS_MS = 1000;
/** Pairs kept; past it the least recently used make room (a clinic's working set is far smaller). */
export const MAX_CONTEXT_ENTRIES = 50_000;

interface Entry<T> {
  value: T;
  practitioner: string;
  patient: string;
  /** The clock's time after which time alone may have changed the context. */
  until: number;
}

/** What one write changed: patients whose access changed, practitioners whose groups changed, or everything. */
export interface AccessChange {
  patients?: Iterable<string>;
  members?: Iterable<string>;
  all?: boolean;
}

/** The payload of one notification ('*' when it would not fit). Exported for the writers. */
export function changePayload(change: AccessChange): string | undefined {
  if (change.all) return '*';
  const items = [...new Set([...[...(change.patients ?? [])].map((p) => `p:${p}`), ...[...(change.members ?? [])].map((m) => `m:${m}`)])];
  if (items.length === 0) return undefined;
  const payload = items.join(' ');
  return payload.length > 7000 ? '*' : payload;
}

/** One key per (patient, caller): a patient id never holds the separator. */
const pairKey = (patientId: string, callerKey: string) => `${patientId}\u0000${callerKey}`;

export class ContextCache<T> {
  /**
   * (patient, caller) -> entry: lru-cache keeps the most recently used pairs and gives each its own
   * time to live. `until` is still checked on every read: lru-cache serves an entry until its time
   * to live has passed, and a context must end at the boundary itself (a relationship's end).
   */
  private readonly entries: LRUCache<string, Entry<T>>;
  /** patient -> its pairs' keys, to drop a patient's entries without going through every entry. */
  private readonly keysOfPatient = new Map<string, Set<string>>();
  private generation = 0;
  private beatSeq = 0;
  private readonly beatsSent = new Map<number, number>();
  private confirmedAt = -Infinity;
  private started = false;
  private timer?: NodeJS.Timeout;
  private stopListening?: () => Promise<void>;
  private readonly processTag = `${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  private confirmedSeq = 0;
  private readonly catchingUp = new Set<{ seq: number; done: () => void }>();

  /** `clock` is performance's by default; tests give their own, to move time without waiting for it. */
  constructor(
    private readonly db: Database,
    private readonly clock: { now(): number } = performance,
    maxEntries = MAX_CONTEXT_ENTRIES,
  ) {
    this.entries = new LRUCache<string, Entry<T>>({
      max: maxEntries,
      perf: clock,
      // Read the clock at every check: its default caches the time for a millisecond, and a test's clock moves at will.
      ttlResolution: 0,
      dispose: (entry, key, reason) => {
        if (reason !== 'set') this.unindex(entry.patient, key);
      },
    });
  }

  /** Pairs held now. */
  get size(): number {
    return this.entries.size;
  }

  /** Starts listening; until a heartbeat has come back, nothing is served from the cache. */
  async start(): Promise<void> {
    if (this.stopListening) return;
    this.stopListening = await this.db.listen(
      ACCESS_CHANNEL,
      (payload) => this.onNotification(payload),
      () => this.onBroken(),
    );
    this.started = true;
    if (this.db.singleProcess) return;
    this.timer = setInterval(() => void this.beat(), HEARTBEAT_MS);
    this.timer.unref();
    await this.beat();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const stop = this.stopListening;
    this.stopListening = undefined;
    this.clear();
    this.confirmedAt = -Infinity;
    this.started = false;
    await stop?.();
  }

  /** Whether entries may be served now (the channel has proven itself within the last second). */
  get live(): boolean {
    if (this.db.singleProcess) return this.started;
    return this.clock.now() - this.confirmedAt < FRESHNESS_MS;
  }

  /**
   * Resolves once a heartbeat sent after this call has come back. Notifications travel on one
   * channel, in commit order, so every change committed before the call has then been applied here.
   */
  async caughtUp(): Promise<void> {
    if (this.db.singleProcess) return;
    const seq = this.beatSeq + 1;
    const arrived = new Promise<void>((resolve) => {
      const waiter = { seq, done: () => (this.catchingUp.delete(waiter), resolve()) };
      this.catchingUp.add(waiter);
    });
    await this.beat();
    await arrived;
  }

  /** The cache's clock: a load's `startedAt`. */
  now(): number {
    return this.clock.now();
  }

  /** A token taken before a load: `set` keeps the loaded value only if nothing changed meanwhile. */
  ticket(): number {
    return this.generation;
  }

  get(callerKey: string, patientId: string): T | undefined {
    if (!this.live) return undefined;
    const key = pairKey(patientId, callerKey);
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (this.clock.now() >= e.until) {
      this.entries.delete(key);
      return undefined;
    }
    return e.value;
  }

  /**
   * Keeps a loaded context. `startedAt` is `now()` before the load; `validForSeconds` is
   * how long time alone leaves it true (null: no boundary ahead).
   */
  set(ticket: number, callerKey: string, practitioner: string, patientId: string, value: T, startedAt: number, validForSeconds: number | null): void {
    if (ticket !== this.generation || !this.live) return;
    const until = startedAt + (validForSeconds === null ? Infinity : Math.max(0, validForSeconds * 1000));
    const ttl = until - this.clock.now();
    if (ttl <= 0) return; // already over: nothing worth keeping
    const key = pairKey(patientId, callerKey);
    this.entries.set(key, { value, practitioner, patient: patientId, until }, { ttl: Number.isFinite(ttl) ? Math.ceil(ttl) : 0 });
    let keys = this.keysOfPatient.get(patientId);
    if (!keys) this.keysOfPatient.set(patientId, (keys = new Set()));
    keys.add(key);
  }

  clear(): void {
    this.entries.clear();
    this.keysOfPatient.clear();
  }

  private unindex(patientId: string, key: string): void {
    const keys = this.keysOfPatient.get(patientId);
    if (keys?.delete(key) && keys.size === 0) this.keysOfPatient.delete(patientId);
  }

  private onNotification(payload: string): void {
    if (payload.startsWith('beat:')) {
      const [, tag, seq] = payload.split(':');
      if (tag !== this.processTag) return;
      const sentAt = this.beatsSent.get(Number(seq));
      if (sentAt !== undefined) {
        this.confirmedAt = Math.max(this.confirmedAt, sentAt);
        for (const s of this.beatsSent.keys()) if (s <= Number(seq)) this.beatsSent.delete(s);
      }
      this.confirmedSeq = Math.max(this.confirmedSeq, Number(seq));
      for (const w of this.catchingUp) if (w.seq <= this.confirmedSeq) w.done();
      return;
    }
    const items = payload.split(' ');
    this.forget({
      all: items.includes('*'),
      patients: items.filter((i) => i.startsWith('p:')).map((i) => i.slice(2)),
      members: items.filter((i) => i.startsWith('m:')).map((i) => i.slice(2)),
    });
  }

  /**
   * Drops what a change makes stale, at once, in this process (its own writes and grants, before
   * their responses leave); other processes drop it when the notification arrives.
   */
  forget(change: AccessChange): void {
    this.generation++;
    if (change.all) {
      this.clear();
      return;
    }
    for (const patient of change.patients ?? []) {
      for (const key of [...(this.keysOfPatient.get(patient) ?? [])]) this.entries.delete(key);
    }
    const members = new Set(change.members ?? []);
    if (members.size === 0) return;
    // A PractitionerRole named on a care team: which practitioner holds it is not known here.
    if ([...members].some((m) => !m.startsWith('Practitioner/'))) {
      this.clear();
      return;
    }
    const stale: string[] = [];
    for (const [key, e] of this.entries.entries()) if (members.has(e.practitioner)) stale.push(key);
    for (const key of stale) this.entries.delete(key);
  }

  private onBroken(): void {
    this.generation++;
    this.confirmedAt = -Infinity;
    this.clear();
  }

  private async beat(): Promise<void> {
    const seq = ++this.beatSeq;
    this.beatsSent.set(seq, this.clock.now());
    if (this.beatsSent.size > 64) this.beatsSent.delete(Math.min(...this.beatsSent.keys()));
    try {
      await this.db.query('select pg_notify($1, $2)', [ACCESS_CHANNEL, `beat:${this.processTag}:${seq}`]);
    } catch {
      // The database is unreachable: no heartbeat returns and the cache turns itself off.
    }
  }
}
