/**
 * The PostgreSQL server engine (DATABASE_URL): a pool of connections, and a connection of its own
 * for each LISTEN.
 *
 * The server can go away at any moment (a restart, a failover, a cut network path) and come back.
 * Every failure that means "away" leaves here as DatabaseUnavailableError (errors.ts), which the
 * HTTP layer answers with 503 and Retry-After; no connection's 'error' event may go unheard (an
 * unheard one ends the process); a broken connection is destroyed, never handed to the next caller;
 * and new connections are tried again on each request, so service resumes when the server is back.
 */
import crypto from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { copyInSql } from './copySql.js';
import type { Database, Queryable, QueryOptions } from './database.js';
import { classifyDatabaseError, DatabaseUnavailableError, isConnectionFailure } from './errors.js';
import { ReplicaRoute } from './replica.js';

/**
 * How long a request waits for a connection (a new one, or a turn in the full pool) before it is
 * answered 503: a server that does not answer (a host gone, packets dropped) would otherwise hold
 * every request until TCP gives up, minutes later.
 */
export const CONNECT_TIMEOUT_MS = 5000;
/** Between attempts to reconnect a LISTEN connection. */
const LISTEN_RETRY_MS = 1000;
/**
 * TCP keepalive after this much silence: a server host that vanished without a reset (powered off,
 * a network partition) is then found dead in minutes (the system's probe interval and count
 * decide), not the system default's two hours.
 */
const KEEPALIVE = { keepAlive: true, keepAliveInitialDelayMillis: 10_000 };

// pg returns int8 and numeric as strings by default; Carewall keeps counts in int4/int8 that fit a JS number.
pg.types.setTypeParser(20, (v) => Number(v));

/**
 * Names for statements, so that pg prepares each once per connection and PostgreSQL parses it once
 * and plans it as prepared statements are (custom plans first, a generic one once it is no worse).
 * Every statement with parameters is named: measured against naming only the two hottest (an access
 * decision, a record read), over HTTP at 10 and 50 connections, alternated (bench/http.ts): reads
 * 1.3-1.5x, name searches 1.1-1.7x, searches by patient 1.2-1.5x, creates 1.3x.
 *
 * At most MAX_NAMED texts get a name (each is kept on every pooled connection for its life): one
 * past them runs unnamed, as before. A table that changed shape under a prepared statement (another
 * process ran a migration) makes PostgreSQL refuse it ("cached plan must not change result type",
 * on that connection for good): its text then gets a new name, which every connection prepares anew.
 */
const MAX_NAMED = 200;
class StatementNames {
  private readonly names = new Map<string, string>();
  private generation = 0;

  of(sql: string): string | undefined {
    let name = this.names.get(sql);
    if (name === undefined && this.names.size < MAX_NAMED) this.names.set(sql, (name = statementName(sql, 0)));
    return name;
  }

  /** The error says the prepared statement went stale: renamed, and true. */
  stale(sql: string, err: unknown): boolean {
    if ((err as { code?: string }).code !== '0A000' || !/cached plan/.test(String((err as Error).message))) return false;
    if (!this.names.has(sql)) return false;
    this.names.set(sql, statementName(sql, ++this.generation));
    return true;
  }
}

/** The same text always gets the same name (per generation), so pg prepares it once per connection. */
function statementName(sql: string, generation: number): string {
  return `cw_${crypto.createHash('sha256').update(sql).digest('hex').slice(0, 40)}${generation ? `_${generation}` : ''}`;
}

/** Runs `op`; a connection failure leaves it as DatabaseUnavailableError, anything else unchanged. */
async function classified<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    throw classifyDatabaseError(err);
  }
}

/** A connection taken from the pool for a transaction, a COPY or a snapshot. */
interface Lease {
  client: pg.PoolClient;
  /** The connection's own error, if it broke while held. */
  readonly lost: Error | undefined;
  /** Back to the pool, or destroyed when it broke (or `err` says it did). */
  release(err?: unknown): void;
}

/**
 * Each pooled connection's first error, heard by a listener it has from the moment the pool made it.
 * pg-pool removes its own listener while a connection is handed out, and hands a new one out from
 * inside the driver's handling of the packet that completed it: a termination in that same packet
 * (the server restarting) is emitted before any caller could listen, and an 'error' nobody hears
 * ends the process.
 */
const connectionErrors = new WeakMap<pg.Client, Error>();

async function lease(pool: pg.Pool): Promise<Lease> {
  const client = await classified(() => pool.connect());
  let released = false;
  return {
    client,
    // The failure itself reaches the caller through its query; this says the connection is gone.
    get lost() {
      return connectionErrors.get(client);
    },
    release(err) {
      if (released) return;
      released = true;
      const broken = connectionErrors.get(client) ?? (isConnectionFailure(err) ? (err as Error) : undefined);
      client.release(broken);
    },
  };
}

export interface PostgresOptions {
  /** Where LISTEN connections go (a session each); default `url`. */
  listenUrl?: string;
  /** 'transaction': `url` is a transaction-pooling PgBouncer, so statements are never named. */
  pooler?: 'transaction';
  /** A streaming replica for reads that may lag by up to a second (replica.ts). */
  replicaUrl?: string;
}

function newPool(url: string, poolSize: number, pipeline = false): pg.Pool {
  // `pipeline` (pg's pipeline mode) sends a query without waiting for the one before it to be
  // answered; such a connection cannot COPY, so only readThenWrite's own small pool has it.
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    ...KEEPALIVE,
    ...(pipeline ? { pipeline } : {}),
  });
  pool.on('error', () => {
    /* an idle connection broke: the pool drops it, and the next query opens a new one */
  });
  pool.on('connect', (client) => {
    client.on('error', (err) => {
      if (!connectionErrors.has(client)) connectionErrors.set(client, err);
    });
  });
  return pool;
}

export async function openPostgres(url: string, poolSize: number, options: PostgresOptions = {}): Promise<Database> {
  // Behind a transaction pooler a statement prepared on one server connection is unknown on the
  // next one the pooler picks (PgBouncer before 1.21 keeps no track of them): plan every time.
  const prepareAllowed = options.pooler !== 'transaction';
  const pool = newPool(url, poolSize);
  const names = new StatementNames();
  const run = <T>(q: pg.Pool | pg.PoolClient, sql: string, params?: unknown[], options?: QueryOptions) =>
    classified(async () => {
      const named = prepareAllowed && (options?.prepare || (params !== undefined && params.length > 0));
      const send = () => {
        const name = named ? names.of(sql) : undefined;
        return name !== undefined ? (q as pg.Pool).query({ name, text: sql, values: params as unknown[] }) : (q as pg.Pool).query(sql, params as unknown[]);
      };
      let r: pg.QueryResult;
      try {
        r = await send();
      } catch (err) {
        if (!named || !names.stale(sql, err)) throw err;
        // Outside a transaction the statement runs again under its new name; inside one the
        // transaction has failed already, and the caller's next attempt gets the new name.
        if (q !== pool) throw err;
        r = await send();
      }
      return { rows: r.rows as T[], rowCount: r.rowCount ?? 0 };
    });
  await run(pool, 'select 1');
  const exec = async (q: pg.Pool | pg.PoolClient, sql: string) => {
    await classified(() => q.query(sql)); // without parameters pg uses the simple protocol, which accepts scripts
  };
  const copyOutOn = async (client: pg.PoolClient, select: string) => {
    const parts: Buffer[] = [];
    for await (const part of client.query(copyTo(`copy (${select}) to stdout with (format binary)`))) parts.push(part as Buffer);
    return Buffer.concat(parts);
  };
  // readThenWrite's connections: its callers (the audit log's append batches) take turns on a
  // sequencer lock, so two are plenty.
  const pipelined = newPool(url, 2, true);
  /**
   * Runs `fn` inside `begin` … `commit` on a connection leased from `from`, rolled back when it
   * throws. `fn` commits itself when it says so (`commits`): readThenWrite sends the COMMIT with its
   * last statement. With `pipelinedBegin` the BEGIN is not awaited before `fn` starts: its answer
   * comes before any of `fn`'s (the connection answers in order), and a failed BEGIN fails them too.
   */
  const inTransaction = async <T>(
    begin: string,
    fn: (client: pg.PoolClient) => Promise<T>,
    from: pg.Pool = pool,
    mode: { commits?: boolean; pipelinedBegin?: boolean } = {},
  ): Promise<T> => {
    const held = await lease(from);
    let failure: unknown;
    let beginFailure: unknown;
    try {
      const begun = held.client.query(begin);
      // Handled here too: when `fn` fails first (its statements fail after a failed BEGIN, as
      // "transaction aborted"), this one is not awaited, and its error is the one that says why.
      begun.catch((err: unknown) => (beginFailure = err));
      if (!mode.pipelinedBegin) await begun;
      const result = await fn(held.client);
      await begun;
      if (!mode.commits) await held.client.query('commit');
      return result;
    } catch (caught) {
      const err = beginFailure ?? caught;
      failure = err;
      // On a broken connection there is nothing to roll back: the server has already done so.
      if (!held.lost && !isConnectionFailure(err)) await held.client.query('rollback').catch(() => undefined);
      // Whatever `fn` made of it, a transaction whose connection broke did not complete: the caller
      // hears "unavailable, try again". (A COMMIT cut off may still have committed; it is never
      // reported as done, so nothing unacknowledged is promised and nothing acknowledged is lost.)
      if (held.lost && !(err instanceof DatabaseUnavailableError))
        throw new DatabaseUnavailableError('the database connection was lost during a transaction', { cause: held.lost });
      throw classifyDatabaseError(err);
    } finally {
      held.release(failure);
    }
  };
  const primary: Queryable = { query: (sql, params, options) => run(pool, sql, params, options), exec: (sql) => exec(pool, sql) };
  const replicaPool = options.replicaUrl ? newPool(options.replicaUrl, poolSize) : undefined;
  const replica = replicaPool && new ReplicaRoute(primary, (sql, params, o) => run(replicaPool, sql, params, o));
  replica?.start();
  return {
    kind: 'postgres',
    singleProcess: false,
    hasReplica: replica !== undefined,
    query: primary.query,
    reader: (after) => (replica ? replica.reader(after) : primary),
    async writePosition() {
      if (!replica) return undefined;
      return (await run<{ p: string }>(pool, 'select pg_current_wal_lsn()::text as p')).rows[0].p;
    },
    exec: (sql) => exec(pool, sql),
    transaction: (fn, opening) =>
      // Without parameters pg sends the simple protocol, which takes both statements in one message.
      inTransaction(opening === undefined ? 'begin' : `begin; ${opening}`, (client) => {
        const q: Queryable & { client: pg.PoolClient } = {
          client,
          query: (sql, params, options) => run(client, sql, params, options),
          exec: (sql) => exec(client, sql),
        };
        return fn(q);
      }),
    readThenWrite: (opening, reads, write) =>
      inTransaction(
        opening === undefined ? 'begin' : `begin; ${opening}`,
        async (client) => {
          const tx: Queryable = { query: (sql, params, options) => run(client, sql, params, options), exec: (sql) => exec(client, sql) };
          // Sent together with the BEGIN inTransaction sent first: each answer awaited only now.
          const results = await allOrFirstError(reads.map((r) => tx.query(r.sql, r.params)));
          const { statement, result } = await write(results, tx);
          // The write and the COMMIT together: a write that fails makes the COMMIT a ROLLBACK, and
          // its error reaches the caller.
          if (statement) await allOrFirstError<unknown>([tx.query(statement.sql, statement.params), client.query('commit')]);
          else await client.query('commit');
          return result;
        },
        pipelined,
        { commits: true, pipelinedBegin: true },
      ),
    listen: (channel, onMessage, onBroken) => classified(() => listenPostgres(options.listenUrl ?? url, channel, onMessage, onBroken)),
    async copyOut(select) {
      const held = await lease(pool);
      let failure: unknown;
      try {
        return await classified(() => copyOutOn(held.client, select));
      } catch (err) {
        failure = err;
        throw err;
      } finally {
        held.release(failure);
      }
    },
    readSnapshot: (fn) =>
      inTransaction('begin isolation level repeatable read read only', (client) =>
        fn({
          query: (sql, params, options) => run(client, sql, params, options),
          copyOut: (select) => classified(() => copyOutOn(client, select)),
          async *copyOutStream(select) {
            try {
              for await (const part of client.query(copyTo(`copy (${select}) to stdout with (format binary)`))) yield part as Buffer;
            } catch (err) {
              throw classifyDatabaseError(err);
            }
          },
        }),
      ),
    async copyIn(tx, table, columns, data) {
      // The transaction's own connection: the rows commit (or roll back) with the rest of the restore.
      const client = (tx as unknown as { client?: pg.PoolClient }).client;
      if (!client) throw new Error('copyIn: needs a transaction of this database');
      const stream = client.query(copyFrom(copyInSql(table, columns, 'stdin')));
      await classified(() => pipeline(Buffer.isBuffer(data) ? Readable.from([data]) : Readable.from(data), stream));
    },
    async close() {
      replica?.stop();
      await replicaPool?.end();
      await pipelined.end();
      await pool.end();
    },
  };
}

/** A connection of its own (a pooled one would be handed to other queries), reconnected when lost. */
async function listenPostgres(url: string, channel: string, onMessage: (p: string) => void, onBroken: () => void): Promise<() => Promise<void>> {
  if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error('listen: channel names are lower-case identifiers');
  let stopped = false;
  let client: pg.Client | undefined;
  let retry: NodeJS.Timeout | undefined;
  const again = () => {
    if (!stopped) retry = setTimeout(() => void connect().catch(() => undefined), LISTEN_RETRY_MS);
  };
  const connect = async (initial = false): Promise<void> => {
    const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, ...KEEPALIVE });
    const lost = () => {
      if (client !== c) return;
      client = undefined;
      onBroken();
      c.end().catch(() => undefined);
      again();
    };
    c.on('notification', (n) => {
      if (n.channel === channel) onMessage(n.payload ?? '');
    });
    // Heard from the first moment: a connection that fails while connecting emits 'error' too.
    c.on('error', lost);
    c.on('end', lost);
    try {
      await c.connect();
      await c.query(`listen ${channel}`);
    } catch (err) {
      c.end().catch(() => undefined);
      if (initial) throw err;
      again();
      return;
    }
    if (stopped) {
      await c.end().catch(() => undefined);
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

/**
 * Awaits every promise (statements sent together on one connection), then throws the first
 * failure: the transaction is rolled back only once nothing of it is still under way.
 */
async function allOrFirstError<T>(pending: Array<Promise<T>>): Promise<T[]> {
  const settled = await Promise.allSettled(pending);
  const failed = settled.find((x): x is PromiseRejectedResult => x.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((x) => (x as PromiseFulfilledResult<T>).value);
}
