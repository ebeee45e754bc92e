/**
 * One SQL dialect (PostgreSQL), two engines: embedded PGlite in the data folder by default,
 * a PostgreSQL server when DATABASE_URL is set. Everything above this file sees only `Database`.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { acquireProcessLock } from './processLock.js';

export interface QueryResult<T> {
  rows: T[];
  rowCount: number;
}

export interface QueryOptions {
  /**
   * A statement run very often (an access decision): prepared once per connection where the driver
   * can (PostgreSQL), so it is not planned again on every call. Ignored by the embedded database.
   */
  prepare?: boolean;
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
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * LISTEN on a channel: `onMessage` gets each payload NOTIFY sends there, after the sending
   * transaction commits, in commit order. `onBroken` is called when the channel may have lost
   * messages (connection lost; it reconnects by itself). Resolves to a function that stops listening.
   */
  listen(channel: string, onMessage: (payload: string) => void, onBroken: () => void): Promise<() => Promise<void>>;
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

const IDENT = /^[a-z_][a-z0-9_]*$/;
function copyInSql(table: string, columns: string[], source: string): string {
  // Table and column names come from the backup's manifest: only plain identifiers are accepted.
  if (!IDENT.test(table) || columns.some((c) => !IDENT.test(c))) throw new Error('copyIn: table and column names must be plain identifiers');
  return `copy ${table} (${columns.join(', ')}) from ${source} with (format binary)`;
}

export interface DatabaseOptions {
  /** PostgreSQL connection string; when absent the embedded database in `dataDir` is used. */
  databaseUrl?: string;
  dataDir: string;
  poolSize?: number;
}

export class DatabaseUnavailableError extends Error {}

/** The same text always gets the same name, so pg prepares it once per connection. */
function statementName(sql: string): string {
  return `cw_${crypto.createHash('sha256').update(sql).digest('hex').slice(0, 40)}`;
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.databaseUrl) return openPostgres(options.databaseUrl, options.poolSize ?? 10);
  return openPglite(path.join(options.dataDir, 'pgdata'));
}

// pg returns int8 and numeric as strings by default; Carewall keeps counts in int4/int8 that fit a JS number.
pg.types.setTypeParser(20, (v) => Number(v));

async function openPostgres(url: string, poolSize: number): Promise<Database> {
  const pool = new pg.Pool({ connectionString: url, max: poolSize });
  pool.on('error', () => {
    /* idle client errors surface on the next query; keep the process alive */
  });
  const run = async <T>(q: Queryable | pg.Pool | pg.PoolClient, sql: string, params?: unknown[], options?: QueryOptions) => {
    const r = options?.prepare
      ? await (q as pg.Pool).query({ name: statementName(sql), text: sql, values: params as unknown[] })
      : await (q as pg.Pool).query(sql, params as unknown[]);
    return { rows: r.rows as T[], rowCount: r.rowCount ?? 0 };
  };
  await run(pool, 'select 1');
  const exec = async (q: pg.Pool | pg.PoolClient, sql: string) => {
    await q.query(sql); // without parameters pg uses the simple protocol, which accepts scripts
  };
  return {
    kind: 'postgres',
    singleProcess: false,
    query: (sql, params, options) => run(pool, sql, params, options),
    exec: (sql) => exec(pool, sql),
    async transaction(fn) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const q: Queryable & { client: pg.PoolClient } = { client, query: (sql, params, options) => run(client, sql, params, options), exec: (sql) => exec(client, sql) };
        const result = await fn(q);
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
    listen: (channel, onMessage, onBroken) => listenPostgres(url, channel, onMessage, onBroken),
    async copyOut(select) {
      const client = await pool.connect();
      try {
        const parts: Buffer[] = [];
        for await (const part of client.query(copyTo(`copy (${select}) to stdout with (format binary)`))) parts.push(part as Buffer);
        return Buffer.concat(parts);
      } finally {
        client.release();
      }
    },
    async readSnapshot(fn) {
      const client = await pool.connect();
      try {
        await client.query('begin isolation level repeatable read read only');
        const result = await fn({
          query: (sql, params, options) => run(client, sql, params, options),
          async copyOut(select) {
            const parts: Buffer[] = [];
            for await (const part of client.query(copyTo(`copy (${select}) to stdout with (format binary)`))) parts.push(part as Buffer);
            return Buffer.concat(parts);
          },
          async *copyOutStream(select) {
            for await (const part of client.query(copyTo(`copy (${select}) to stdout with (format binary)`))) yield part as Buffer;
          },
        });
        await client.query('commit');
        return result;
      } catch (err) {
        await client.query('rollback').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
    async copyIn(tx, table, columns, data) {
      // The transaction's own connection: the rows commit (or roll back) with the rest of the restore.
      const client = (tx as unknown as { client?: pg.PoolClient }).client;
      if (!client) throw new Error('copyIn: needs a transaction of this database');
      const stream = client.query(copyFrom(copyInSql(table, columns, 'stdin')));
      await pipeline(Buffer.isBuffer(data) ? Readable.from([data]) : Readable.from(data), stream);
    },
    close: () => pool.end(),
  };
}

/** A connection of its own (a pooled one would be handed to other queries), reconnected when lost. */
async function listenPostgres(url: string, channel: string, onMessage: (p: string) => void, onBroken: () => void): Promise<() => Promise<void>> {
  if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error('listen: channel names are lower-case identifiers');
  let stopped = false;
  let client: pg.Client | undefined;
  let retry: NodeJS.Timeout | undefined;
  const connect = async (initial = false): Promise<void> => {
    const c = new pg.Client({ connectionString: url });
    const lost = () => {
      if (client !== c) return;
      client = undefined;
      onBroken();
      c.end().catch(() => undefined);
      if (!stopped) retry = setTimeout(() => void connect().catch(() => undefined), 1000);
    };
    c.on('notification', (n) => {
      if (n.channel === channel) onMessage(n.payload ?? '');
    });
    c.on('error', lost);
    c.on('end', lost);
    try {
      await c.connect();
      await c.query(`listen ${channel}`);
    } catch (err) {
      c.end().catch(() => undefined);
      if (initial) throw err;
      if (!stopped) retry = setTimeout(() => void connect().catch(() => undefined), 1000);
      return;
    }
    client = c;
  };
  await connect(true);
  return async () => {
    stopped = true;
    if (retry) clearTimeout(retry);
    const c = client;
    client = undefined;
    await c?.end().catch(() => undefined);
  };
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

/**
 * Per query, a bytea parameter goes to PGlite as the bytes themselves (the binary parameter
 * format), not as hex text: no string twice the value's size to build, measure and encode, and no
 * hex to decode inside the database. Arrays of bytea still go as text (PGlite builds array
 * parameters as text from the element serializer above, which must therefore stay hex).
 */
const BINARY_BYTEA = {
  serializers: {
    [BYTEA_OID]: (value: unknown) => {
      if (!(value instanceof Uint8Array)) throw new Error('bytea: expected a Buffer or Uint8Array');
      return value;
    },
  },
} as unknown as { serializers: Record<number, (v: unknown) => string> };

async function openPglite(dir: string): Promise<Database> {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  // PGlite is one process's database: a second process opening the same folder would corrupt it.
  let release: () => void;
  try {
    release = acquireProcessLock(`${dir}.lock`);
  } catch {
    throw new DatabaseUnavailableError(
      `the embedded database in ${dir} is in use by another Carewall process (the embedded database serves one process): stop it first, use the running server's API, or use a PostgreSQL server (DATABASE_URL) to run several processes`,
    );
  }
  const { PGlite } = await import('@electric-sql/pglite');
  let db: InstanceType<typeof PGlite>;
  try {
    db = await PGlite.create(dir, { parsers: { [BYTEA_OID]: parseByteaHex }, serializers: { [BYTEA_OID]: serializeByteaHex } });
  } catch (err) {
    release();
    throw err;
  }
  // The database, a transaction and a snapshot all query the same way: bytea parameters as bytes,
  // rows and counts in the shape pg gives.
  const queryOn =
    (q: Pick<typeof db, 'query'>): Queryable['query'] =>
    async <T>(sql: string, params?: unknown[]) => {
      const r = await q.query(sql, params, BINARY_BYTEA);
      return { rows: r.rows as T[], rowCount: r.affectedRows ?? r.rows.length };
    };
  return {
    kind: 'pglite',
    singleProcess: true,
    query: queryOn(db),
    exec: async (sql) => {
      await db.exec(sql);
    },
    transaction: (fn) =>
      db.transaction((tx) =>
        fn({
          query: queryOn(tx),
          exec: async (sql) => {
            await tx.exec(sql);
          },
          pgliteTx: tx,
        } as Queryable),
      ),
    readSnapshot: (fn) =>
      // One connection: while this transaction is open no other statement runs, so it is a snapshot.
      db.transaction(async (tx) => {
        await tx.query('set transaction read only');
        return fn({
          query: queryOn(tx),
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
      }),
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
      const r = await db.query(`copy (${select}) to '/dev/blob' with (format binary)`);
      if (!r.blob) throw new Error('copyOut: the embedded database returned no data');
      return Buffer.from(await r.blob.arrayBuffer());
    },
    async close() {
      await db.close();
      release();
    },
  };
}

/** Bytea columns come back as Buffer from pg and Uint8Array from PGlite. */
export function toBuffer(value: unknown): Buffer {
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  throw new TypeError('expected binary column');
}
