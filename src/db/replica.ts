/**
 * Reads that may run on a streaming replica (DATABASE_REPLICA_URL, docs/scale-out.md): searches and
 * histories, the heavy part of a clinic's reading. Two promises hold whatever the replica's lag:
 *
 *  - Rule 9, a revocation holds everywhere within a second: the replica is used only while it is
 *    known to hold everything the primary had committed at most a second ago. Every 200 ms the
 *    primary's WAL position is sampled (pg_current_wal_lsn(), taken after the time noted with it,
 *    so it covers every commit before that time) and then the replica's replay position; the newest
 *    sample the replica has replayed is the time it is "fresh as of". A read made more than a second
 *    after a revocation committed therefore sees the revocation, on the replica or the primary.
 *  - Read-your-writes: each account's WAL position after its last write is kept in the database
 *    (identity), so every process knows it; a caller's read goes to the replica only once the
 *    replica has replayed that far. An unknown position means the primary.
 *
 * Anything else (a replica that is unreachable, lags, or is no longer in recovery because it was
 * promoted) sends reads to the primary: the replica only ever takes load off, it is never needed.
 */
import { DatabaseUnavailableError } from './errors.js';
import type { Queryable, QueryOptions, QueryResult } from './database.js';

/** The longest a read on the replica may lag behind the primary (rule 9: a revocation within a second). */
export const REPLICA_FRESHNESS_MS = 1000;
/** How often the primary's and the replica's positions are compared. */
export const REPLICA_SAMPLE_MS = 200;

/** A pg_lsn ('16/B374D848') as a number that compares. */
export function parseLsn(text: string): bigint {
  const m = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(text);
  if (!m) throw new Error('not a WAL position');
  return (BigInt(`0x${m[1]}`) << 32n) + BigInt(`0x${m[2]}`);
}

/** What is known of the replica's lag: pure bookkeeping, fed by the sampler (and by tests, with their own clock). */
export class ReplicaFreshness {
  private samples: Array<{ at: number; position: bigint }> = [];
  private freshAsOf = Number.NEGATIVE_INFINITY;
  private replayed = -1n;

  constructor(private readonly clock: () => number = Date.now) {}

  /** The primary's position, read after `at`: every commit before `at` lies at or below it. */
  primaryAt(at: number, position: bigint): void {
    this.samples.push({ at, position });
    // A replica far behind must not make this grow without bound: older samples could only make it "fresh as of" long ago.
    const horizon = at - 10 * REPLICA_FRESHNESS_MS;
    if (this.samples.length > 1 && this.samples[0].at < horizon) this.samples = this.samples.filter((s) => s.at >= horizon);
  }

  /** The replica's replay position, read after the samples so far; undefined: unreachable or not a replica. */
  replicaAt(position: bigint | undefined): void {
    if (position === undefined) {
      this.replayed = -1n;
      this.freshAsOf = Number.NEGATIVE_INFINITY;
      return;
    }
    this.replayed = position;
    let newest: number | undefined;
    for (const s of this.samples) if (s.position <= position && (newest === undefined || s.at > newest)) newest = s.at;
    if (newest !== undefined) {
      this.freshAsOf = Math.max(this.freshAsOf, newest);
      this.samples = this.samples.filter((s) => s.at > newest);
    }
  }

  /** Whether a read for a caller whose last write ended at `after` may run on the replica now. */
  usableAfter(after: string | undefined): boolean {
    if (after === undefined) return false;
    let needed: bigint;
    try {
      needed = parseLsn(after);
    } catch {
      return false;
    }
    return this.clock() - this.freshAsOf <= REPLICA_FRESHNESS_MS && this.replayed >= needed;
  }

  /** How far behind the primary the replica is known to be, in ms (Infinity: not usable). */
  lagMs(): number {
    return this.clock() - this.freshAsOf;
  }
}

type Query = <T>(sql: string, params?: unknown[], options?: QueryOptions) => Promise<QueryResult<T>>;

/**
 * The sampler and the routing: `reader(after)` is the replica when usable for that caller, else
 * the primary; a replica that fails a query is left for the primary until the next sample says
 * otherwise.
 */
export class ReplicaRoute {
  readonly freshness: ReplicaFreshness;
  private timer: NodeJS.Timeout | undefined;
  private sampling = false;

  constructor(
    private readonly primary: Queryable,
    private readonly replicaQuery: Query,
    private readonly clock: () => number = Date.now,
  ) {
    this.freshness = new ReplicaFreshness(clock);
  }

  start(): void {
    this.timer = setInterval(() => void this.sample(), REPLICA_SAMPLE_MS);
    this.timer.unref();
    void this.sample();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One comparison of the two positions (the timer's; tests call it themselves). */
  async sample(): Promise<void> {
    if (this.sampling) return;
    this.sampling = true;
    try {
      const at = this.clock();
      try {
        const p = await this.primary.query<{ p: string }>('select pg_current_wal_lsn()::text as p');
        this.freshness.primaryAt(at, parseLsn(p.rows[0].p));
      } catch {
        return; // the primary away: nothing new is known, and what was known ages out by itself
      }
      try {
        const r = await this.replicaQuery<{ p: string | null }>('select case when pg_is_in_recovery() then pg_last_wal_replay_lsn()::text end as p');
        const p = r.rows[0]?.p;
        this.freshness.replicaAt(p ? parseLsn(p) : undefined);
      } catch {
        this.freshness.replicaAt(undefined);
      }
    } finally {
      this.sampling = false;
    }
  }

  /** Where a caller's read may run. */
  reader(after: string | undefined): Queryable {
    if (!this.freshness.usableAfter(after)) return this.primary;
    return {
      query: async <T>(sql: string, params?: unknown[], options?: QueryOptions) => {
        try {
          return await this.replicaQuery<T>(sql, params, options);
        } catch (err) {
          if (!(err instanceof DatabaseUnavailableError)) throw err;
          this.freshness.replicaAt(undefined);
          return this.primary.query<T>(sql, params, options);
        }
      },
      exec: (sql) => this.primary.exec(sql),
    };
  }
}
