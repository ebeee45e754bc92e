/**
 * One SQL dialect (PostgreSQL), two engines: embedded PGlite in the data folder by default,
 * a PostgreSQL server when DATABASE_URL is set. Everything above this file sees only `Database`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { openPglite } from './embedded.js';
import type { Maintained } from './embeddedMaintenance.js';
import { openPostgres } from './postgres.js';

export { DatabaseInUseError, DatabaseUnavailableError, isConnectionFailure } from './errors.js';

export interface QueryResult<T> {
  rows: T[];
  rowCount: number;
}

export interface QueryOptions {
  /**
   * A statement run very often (an access decision): prepared once per connection where the driver
   * can (PostgreSQL), so it is not planned again on every call. The embedded database prepares every
   * statement text at its first use anyway (pgliteStatements.ts).
   */
  prepare?: boolean;
}

/** A statement and its parameters. */
export interface Statement {
  sql: string;
  params?: unknown[];
}

export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[], options?: QueryOptions): Promise<QueryResult<T>>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

/** What a read snapshot offers: queries, and the rows of a select in binary COPY format. */
export interface SnapshotView {
  query: Queryable['query'];
  copyOut(select: string): Promise<Buffer>;
  /**
   * The same rows as a stream of pieces, so a large table need not be held in memory: PostgreSQL
   * sends them as they are read. The embedded database hands over one piece (its COPY writes into
   * a blob in memory in any case).
   */
  copyOutStream(select: string): AsyncIterable<Buffer>;
}

export interface Database extends Queryable {
  readonly kind: 'pglite' | 'postgres';
  /** No other process can write to this database (the embedded one is locked to this process). */
  readonly singleProcess: boolean;
  /** Some reads may go to a streaming replica (`reader`), which is why callers note their writes' positions. */
  readonly hasReplica: boolean;
  /**
   * Runs `fn` in one transaction: committed when it resolves, rolled back when it throws.
   * `opening`, a statement without parameters (callers inline only numbers they computed
   * themselves), runs before `fn`; on PostgreSQL it goes with the BEGIN in one round trip (the
   * audit log's sequencer lock: a round trip saved on every append batch).
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>, opening?: string): Promise<T>;
  /**
   * One transaction that reads, computes and writes, in two round trips on PostgreSQL: BEGIN (with
   * `opening`, as for `transaction`) and `reads` are sent together without waiting for each other's
   * answers (the protocol's pipelining), then the statement `write` computes from their rows is sent
   * together with the COMMIT. `write` may query through `tx` meanwhile, a round trip each. The audit
   * log's append batches, four round trips each before (a sequencer lock, the head, the writes, the
   * commit). Committed when the write succeeds; nothing written when anything fails.
   */
  readThenWrite<T>(
    opening: string | undefined,
    reads: Statement[],
    write: (results: Array<QueryResult<Record<string, unknown>>>, tx: Queryable) => Promise<{ statement?: Statement; result: T }>,
  ): Promise<T>;
  /**
   * LISTEN on a channel: `onMessage` gets each payload NOTIFY sends there, after the sending
   * transaction commits, in commit order. `onBroken` is called when the channel may have lost
   * messages (connection lost; it reconnects by itself). Resolves to a function that stops listening.
   */
  listen(channel: string, onMessage: (payload: string) => void, onBroken: () => void): Promise<() => Promise<void>>;
  /**
   * Where a read that may lag by up to a second may run for a caller whose own last write ended at
   * WAL position `after` (Who.readsAfter): a streaming replica (DATABASE_REPLICA_URL) when it has
   * replayed that far and is at most a second behind (replica.ts), this database otherwise.
   */
  reader(after: string | undefined): Queryable;
  /**
   * The primary's WAL position now, after a caller's write committed: noted as that caller's, so
   * that their next read waits for a replica to catch up. Undefined when there is no replica.
   */
  writePosition(): Promise<string | undefined>;
  /**
   * The rows of `select` in PostgreSQL's binary COPY format, in one buffer: the fastest way either
   * engine hands over many rows (no per-row result objects, bytea as raw bytes). The statement takes
   * no parameters: callers inline only numbers they computed themselves.
   */
  copyOut(select: string): Promise<Buffer>;
  /**
   * One consistent, read-only view of the whole database (a backup): every query and copyOut inside
   * `fn` sees the same committed state, whatever commits meanwhile (REPEATABLE READ on PostgreSQL;
   * the embedded database's single connection is held for the duration).
   */
  readSnapshot<T>(fn: (view: SnapshotView) => Promise<T>): Promise<T>;
  /**
   * Loads rows in binary COPY format (as copyOut gives them) into `table (columns)`; a restore's
   * bulk path. Pieces of a stream go to PostgreSQL as they come (a table of any size in a few
   * megabytes of memory); the embedded database takes them as one blob.
   */
  copyIn(tx: Queryable, table: string, columns: string[], data: Buffer | AsyncIterable<Buffer>): Promise<void>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** PostgreSQL connection string; when absent the embedded database in `dataDir` is used. */
  databaseUrl?: string;
  /**
   * A connection string whose connections are sessions of their own, for LISTEN (DATABASE_LISTEN_URL):
   * needed when `databaseUrl` goes through a transaction-pooling PgBouncer, which hands each
   * transaction to any server connection and so cannot keep a LISTEN. Default: `databaseUrl`.
   */
  listenUrl?: string;
  /** A streaming replica of that database for searches and histories (DATABASE_REPLICA_URL; replica.ts). */
  replicaUrl?: string;
  /**
   * 'transaction' when `databaseUrl` is a transaction-pooling PgBouncer (DATABASE_POOLER): no named
   * prepared statements, which live on one server connection and would be missing on the next.
   */
  pooler?: 'transaction';
  dataDir: string;
  poolSize?: number;
  /**
   * The embedded database's housekeeping (embeddedMaintenance.ts) failed; it is tried again a minute
   * later. The server logs it: a pass that keeps failing would let the tables grow again unseen.
   */
  onMaintenanceFailed?: (err: unknown) => void;
  /** A maintenance pass of the embedded database ended: which tables it vacuumed and analysed. */
  onMaintained?: (done: Maintained) => void;
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.databaseUrl)
    return openPostgres(options.databaseUrl, options.poolSize ?? 10, {
      listenUrl: options.listenUrl,
      pooler: options.pooler,
      replicaUrl: options.replicaUrl,
    });
  const dir = path.join(options.dataDir, 'pgdata');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  return openPglite(dir, embeddedBuffersMb(), { onFailed: options.onMaintenanceFailed, onMaintained: options.onMaintained });
}

export { parseByteaHex, serializeByteaHex } from './embeddedHost.js';

/** PostgreSQL's own default, and PGlite's. */
const DEFAULT_EMBEDDED_BUFFERS_MB = 128;

/**
 * The embedded database's page cache in megabytes (PostgreSQL's shared_buffers): CAREWALL_EMBEDDED_BUFFERS_MB,
 * 128 by default. PGlite zeroes all of it each time it opens (memset in its WebAssembly memory): 128 MB
 * is about 0.35 s of CPU per open on this machine, 16 MB about 0.1 s (measured, 4 opens each). A server
 * opens once and keeps the default; the test suite, which opens a few hundred databases, sets 16.
 * Pages not in this cache come from the operating system's file cache at the price of a read call.
 */
export function embeddedBuffersMb(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.CAREWALL_EMBEDDED_BUFFERS_MB;
  if (raw === undefined || raw === '') return DEFAULT_EMBEDDED_BUFFERS_MB;
  const mb = Number(raw);
  if (!Number.isInteger(mb) || mb < 1 || mb > 16384) throw new Error('CAREWALL_EMBEDDED_BUFFERS_MB must be a whole number of megabytes from 1 to 16384');
  return mb;
}

/** Bytea columns come back as Buffer from pg and Uint8Array from PGlite. */
export function toBuffer(value: unknown): Buffer {
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  throw new TypeError('expected binary column');
}
