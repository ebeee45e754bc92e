/**
 * One SQL dialect (PostgreSQL), two engines: embedded PGlite in the data folder by default,
 * a PostgreSQL server when DATABASE_URL is set. Everything above this file sees only `Database`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { copyInSql } from './copySql.js';
import { DatabaseUnavailableError } from './errors.js';
import { openPostgres } from './postgres.js';
import { startHousekeeping, type HousekeepingHooks, type Maintained } from './embeddedMaintenance.js';
import { PgliteStatements, type PgliteEngine } from './pgliteStatements.js';
import { durableStartParams, makeFsyncReal } from './embeddedDurability.js';
import { acquireProcessLock } from './processLock.js';

export { DatabaseUnavailableError, isConnectionFailure } from './errors.js';

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

/** The embedded database's folder is held by another process (the embedded database serves one). */
export class DatabaseInUseError extends DatabaseUnavailableError {}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.databaseUrl)
    return openPostgres(options.databaseUrl, options.poolSize ?? 10, {
      listenUrl: options.listenUrl,
      pooler: options.pooler,
      replicaUrl: options.replicaUrl,
    });
  return openPglite(path.join(options.dataDir, 'pgdata'), { onFailed: options.onMaintenanceFailed, onMaintained: options.onMaintained });
}

const BYTEA_OID = 17;

/**
 * PGlite's own bytea conversions handle the hex text one byte at a time in JavaScript (measured:
 * about 40 us per 650-byte value each way, ten times a text value of the same size); Buffer's hex
 * codec does the same natively. Every sealed record body and audit leaf crosses here.
 */
export function parseByteaHex(text: string): Buffer {
  if (!text.startsWith('\\x')) throw new Error('bytea: expected the hex output format');
  return Buffer.from(text.slice(2), 'hex');
}

export function serializeByteaHex(value: unknown): string {
  if (!(value instanceof Uint8Array)) throw new Error('bytea: expected a Buffer or Uint8Array');
  return '\\x' + Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex');
}

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

async function openPglite(dir: string, hooks: HousekeepingHooks): Promise<Database> {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  // PGlite is one process's database: a second process opening the same folder would corrupt it.
  let release: () => void;
  try {
    release = acquireProcessLock(`${dir}.lock`);
  } catch {
    throw new DatabaseInUseError(
      `the embedded database in ${dir} is in use by another process (the embedded database serves one process). A carewall command given this data folder is run by the server serving it; this one did not answer on control.sock: if a server is starting, try again in a moment, otherwise stop the other process`,
    );
  }
  const { PGlite } = await import('@electric-sql/pglite');
  let db: InstanceType<typeof PGlite>;
  try {
    db = await PGlite.create(dir, {
      parsers: { [BYTEA_OID]: parseByteaHex },
      serializers: { [BYTEA_OID]: serializeByteaHex },
      startParams: [...durableStartParams(PGlite.defaultStartParams), '-c', `shared_buffers=${embeddedBuffersMb()}MB`],
    });
  } catch (err) {
    release();
    throw err;
  }
  try {
    const dataDir = (await db.query<{ data_directory: string }>('show data_directory')).rows[0].data_directory;
    makeFsyncReal((db as unknown as { mod: { FS: Parameters<typeof makeFsyncReal>[0] } }).mod.FS, dataDir);
    // What the start wrote (a recovery, a new folder) went through the no-op: a checkpoint flushes it now.
    await db.exec('checkpoint');
  } catch (err) {
    await db.close().catch(() => undefined);
    release();
    throw err;
  }
  // The database, a transaction and a snapshot all query the same way: each statement text prepared
  // once (pgliteStatements.ts), bytea parameters as bytes, rows and counts in the shape pg gives.
  const statements = new PgliteStatements(db as unknown as PgliteEngine);
  const queryOn =
    (inTransaction: boolean): Queryable['query'] =>
    async <T>(sql: string, params?: unknown[]) => {
      // Only the server's transactions run statements in one (the housekeeping's are single statements).
      if (inTransaction) housekeeping.used();
      const r = await statements.query(sql, params ?? [], inTransaction);
      return { rows: r.rows as T[], rowCount: r.rowCount };
    };
  const engine: Queryable = {
    query: queryOn(false),
    exec: async (sql) => {
      await db.exec(sql);
    },
  };
  const self: Database = {
    kind: 'pglite',
    singleProcess: true,
    hasReplica: false,
    query: (sql, params) => {
      housekeeping.used();
      return engine.query(sql, params);
    },
    // One process, one database: there is no replica to read from.
    reader: () => self,
    writePosition: () => Promise.resolve(undefined),
    exec: (sql) => {
      housekeeping.used();
      return engine.exec(sql);
    },
    transaction: async (fn, opening) => {
      housekeeping.used();
      // A turn of the event loop first. PGlite answers without I/O, so requests already under way
      // can chain transaction after transaction as promise jobs while sockets wait unread: at 50
      // connections creating patients the loop stalled 300-500 ms at a time and the slowest
      // requests waited 2-4 s. Yielding here lets the waiting ones in (bench/http.ts creates at 50
      // connections, alternated three times: p99 1.9-2.5 s -> 0.5-1.6 s, and no fewer creates).
      await new Promise<void>((resolve) => setImmediate(resolve));
      return db.transaction(async (tx) => {
        const inner = {
          query: queryOn(true),
          exec: async (sql: string) => {
            await tx.exec(sql);
          },
          pgliteTx: tx,
        };
        if (opening !== undefined) await inner.query(opening);
        return fn(inner as Queryable);
      });
    },
    // One connection in the same process: nothing to pipeline, the statements run one after another.
    readThenWrite: (opening, reads, write) =>
      self.transaction(async (tx) => {
        const results: Array<QueryResult<Record<string, unknown>>> = [];
        for (const r of reads) results.push(await tx.query(r.sql, r.params));
        const { statement, result } = await write(results, tx);
        if (statement) await tx.query(statement.sql, statement.params);
        return result;
      }, opening),
    readSnapshot: (fn) => {
      housekeeping.used();
      // One connection: while this transaction is open no other statement runs, so it is a snapshot.
      return db.transaction(async (tx) => {
        await tx.query('set transaction read only');
        return fn({
          query: queryOn(true),
          copyOut: blobCopy,
          async *copyOutStream(select) {
            yield await blobCopy(select);
          },
        });
        async function blobCopy(select: string): Promise<Buffer> {
          const r = await tx.query(`copy (${select}) to '/dev/blob' with (format binary)`);
          if (!r.blob) throw new Error('copyOut: the embedded database returned no data');
          return Buffer.from(await r.blob.arrayBuffer());
        }
      });
    },
    async copyIn(tx, table, columns, data) {
      const inner = (tx as unknown as { pgliteTx?: { query: typeof db.query } }).pgliteTx;
      if (!inner) throw new Error('copyIn: needs a transaction of this database');
      const parts: Buffer[] = [];
      if (Buffer.isBuffer(data)) parts.push(data);
      else for await (const piece of data) parts.push(piece);
      const blob = new Blob(parts.map((b) => new Uint8Array(b.buffer as ArrayBuffer, b.byteOffset, b.byteLength)));
      await inner.query(copyInSql(table, columns, `'/dev/blob'`), [], { blob });
    },
    listen: async (channel, onMessage) => {
      // One process, one connection: nothing can break between the sender and this listener.
      const unlisten = await db.listen(channel, onMessage);
      return async () => {
        if (!db.closed) await unlisten();
      };
    },
    async copyOut(select) {
      housekeeping.used();
      const r = await db.query(`copy (${select}) to '/dev/blob' with (format binary)`);
      if (!r.blob) throw new Error('copyOut: the embedded database returned no data');
      return Buffer.from(await r.blob.arrayBuffer());
    },
    async close() {
      await housekeeping.stop();
      await db.close();
      release();
    },
  };
  // PGlite runs no autovacuum: the server does its work (embeddedMaintenance.ts), in the engine's
  // quiet moments; its own statements go straight to the engine. A pass that fails is reported and
  // changes nothing more; the next one is due a minute later.
  const housekeeping = startHousekeeping(engine, hooks);
  return self;
}

/** Bytea columns come back as Buffer from pg and Uint8Array from PGlite. */
export function toBuffer(value: unknown): Buffer {
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  throw new TypeError('expected binary column');
}
