/**
 * The embedded database (PGlite in the data folder) as the server's thread sees it: a `Database`
 * whose engine runs on a thread of its own (embeddedHost.ts, embeddedThread.ts). Each statement
 * is a message each way; a transaction's opening statements go with its BEGIN, and a read-then-write's
 * last statement with its COMMIT, so an audit append batch costs two messages each way, as it costs
 * two round trips on PostgreSQL.
 */
import fs from 'node:fs';
import { MessageChannel, receiveMessageOnPort, type MessagePort, type Worker } from 'node:worker_threads';
import { startWorker } from '../util/index.js';
import { copyInSql } from './copySql.js';
import type { Database, QueryResult, Queryable, SnapshotView, Statement } from './database.js';
import { startHousekeeping, type HousekeepingHooks } from './embeddedMaintenance.js';
import type { CarriedError, EngineArtifacts, HostReply, HostRequest } from './embeddedHost.js';
import { DatabaseInUseError, DatabaseUnavailableError } from './errors.js';
import type { StatementResult } from './pgliteStatements.js';
import { acquireProcessLock } from './processLock.js';

type Request = HostRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

/** The engine's thread: requests out, replies and notifications in. */
class EngineThread {
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (err: Error) => void }>();
  private nextId = 0;
  private stopped: Error | undefined;
  readonly ready: Promise<void>;

  constructor(
    private readonly worker: Worker,
    /** Where requests waited for go, and their answers come (see waitFor). */
    private readonly waited: MessagePort,
    private readonly answered: Int32Array,
    private readonly onNotify: (channel: string, payload: string) => void,
  ) {
    let opened!: () => void;
    let failedToOpen!: (err: Error) => void;
    this.ready = new Promise((resolve, reject) => {
      opened = resolve;
      failedToOpen = reject;
    });
    worker.on('message', (m: HostReply | { notify: string; payload: string } | { ready: boolean; error?: CarriedError }) => {
      if ('notify' in m) this.onNotify(m.notify, m.payload);
      else if ('ready' in m) {
        // The thread keeps the process alive only while something waits for it (see request).
        if (m.ready) {
          if (this.pending.size === 0) worker.unref();
          opened();
        } else failedToOpen(fromCarried(m.error as CarriedError));
      } else this.settle(m);
    });
    const stop = (err: Error) => {
      this.stopped ??= new DatabaseUnavailableError('the embedded database stopped', { cause: err });
      failedToOpen(this.stopped);
      for (const p of this.pending.values()) p.reject(this.stopped);
      this.pending.clear();
    };
    worker.on('error', stop);
    worker.on('exit', (code) => stop(new Error(`the embedded database's thread ended (${code})`)));
  }

  request<T>(r: Request): Promise<T> {
    if (this.stopped) return Promise.reject(this.stopped);
    const id = ++this.nextId;
    return new Promise<T>((resolve, reject) => {
      this.worker.ref();
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.worker.postMessage({ ...r, id });
    });
  }

  /**
   * Sends `r` and blocks this thread until its answer comes, without returning to the event loop.
   * Only for a statement of a transaction that holds the engine: nothing else can run on the engine
   * meanwhile, so the wait is the statement's own time, as when the engine ran on this thread. Sent
   * through the event loop instead, each such statement waited behind whatever the server's thread
   * was doing for other requests while the transaction kept every other statement out (creates at
   * 50 connections: fewer than before the engine had its own thread).
   */
  waitFor<T>(r: Request): T {
    if (this.stopped) throw this.stopped;
    Atomics.store(this.answered, ANSWERED, 0);
    this.waited.postMessage({ ...r, id: ++this.nextId });
    for (;;) {
      const got = receiveMessageOnPort(this.waited);
      if (got) {
        const reply = got.message as HostReply;
        if (reply.ok) return reply.value as T;
        throw fromCarried(reply.error);
      }
      if (Atomics.load(this.answered, GONE) === 1) {
        this.stopped ??= new DatabaseUnavailableError('the embedded database stopped');
        throw this.stopped;
      }
      // Woken by the answer, or after a while to look again: a wake-up is never lost for good.
      Atomics.wait(this.answered, ANSWERED, 0, 50);
    }
  }

  private settle(reply: HostReply): void {
    const p = this.pending.get(reply.id);
    if (!p) return;
    this.pending.delete(reply.id);
    if (this.pending.size === 0) this.worker.unref();
    if (reply.ok) p.resolve(reply.value);
    else p.reject(fromCarried(reply.error));
  }

  async terminate(): Promise<void> {
    this.stopped ??= new DatabaseUnavailableError('the embedded database is closed');
    await this.worker.terminate();
  }
}

/** The shared flags' slots (embeddedThread.ts sets them). */
const ANSWERED = 0;
const GONE = 1;

function fromCarried(e: CarriedError): Error {
  const err = Object.assign(new Error(e.message), e.fields);
  err.name = e.name;
  return err;
}

/** Bytes come over as Uint8Array; the rest of Carewall reads bytea columns as Buffers (as pg gives them). */
function asBuffer(v: Uint8Array): Buffer {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

function received<T>(r: StatementResult): QueryResult<T> {
  for (const row of r.rows)
    for (const key in row) {
      const v = row[key];
      if (v instanceof Uint8Array) row[key] = asBuffer(v);
      else if (Array.isArray(v) && v.some((x) => x instanceof Uint8Array)) row[key] = v.map((x) => (x instanceof Uint8Array ? asBuffer(x) : x));
    }
  return { rows: r.rows as T[], rowCount: r.rowCount };
}

/** A transaction's Queryable, carrying its id for copyIn. */
interface InTransaction extends Queryable {
  embeddedTx: number;
}

let artifacts: Promise<EngineArtifacts> | undefined;

/**
 * The engine's WebAssembly compiled once per process and shared with each engine thread (a
 * compiled module crosses threads without being compiled again). Left to itself, PGlite compiles
 * it in every thread that opens a database: 2.5 s of CPU each time on this machine, which a server
 * pays once but the test suite, opening a few hundred databases, paid every time.
 */
function engineArtifacts(): Promise<EngineArtifacts> {
  artifacts ??= (async () => {
    const dist = import.meta.resolve('@electric-sql/pglite');
    const read = (name: string) => fs.promises.readFile(new URL(`./${name}`, dist));
    const [pglite, initdb, fsBundle] = await Promise.all([read('pglite.wasm'), read('initdb.wasm'), read('pglite.data')]);
    return { pgliteWasmModule: await WebAssembly.compile(pglite), initdbWasmModule: await WebAssembly.compile(initdb), fsBundle };
  })();
  artifacts.catch(() => (artifacts = undefined));
  return artifacts;
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

export async function openPglite(dir: string, buffersMb: number, hooks: HousekeepingHooks): Promise<Database> {
  // PGlite is one process's database: a second process opening the same folder would corrupt it.
  let release: () => void;
  try {
    release = acquireProcessLock(`${dir}.lock`);
  } catch {
    throw new DatabaseInUseError(
      `the embedded database in ${dir} is in use by another process (the embedded database serves one process). A carewall command given this data folder is run by the server serving it; this one did not answer on control.sock: if a server is starting, try again in a moment, otherwise stop the other process`,
    );
  }
  const listeners = new Map<string, Set<(payload: string) => void>>();
  let compiled: EngineArtifacts;
  try {
    compiled = await engineArtifacts();
  } catch (err) {
    release();
    throw err;
  }
  const { port1: waited, port2: waitedThere } = new MessageChannel();
  const answered = new SharedArrayBuffer(8);
  const worker = startWorker(import.meta.url, 'embeddedThread', { dir, buffersMb, artifacts: compiled, waited: waitedThere, answered }, [waitedThere]);
  const thread = new EngineThread(worker, waited, new Int32Array(answered), (channel, payload) => {
    for (const l of listeners.get(channel) ?? []) l(payload);
  });
  try {
    await thread.ready;
  } catch (err) {
    await thread.terminate();
    release();
    throw err;
  }
  let closed = false;
  let transactions = 0;
  let lastTransaction = Promise.resolve();

  const queryIn = (tx: number | undefined) =>
    async function query<T>(sql: string, params?: unknown[]): Promise<QueryResult<T>> {
      if (tx === undefined) return received<T>(await thread.request<StatementResult>({ op: 'query', sql, params: params ?? [] }));
      // Only the server's transactions run statements in one (the housekeeping's are single statements).
      housekeeping.used();
      return received<T>(thread.waitFor<StatementResult>({ op: 'query', sql, params: params ?? [], tx }));
    };
  const inside = (tx: number): InTransaction => ({
    embeddedTx: tx,
    query: queryIn(tx),
    exec: async (sql) => {
      thread.waitFor({ op: 'exec', sql, tx });
    },
  });
  const copyOutIn =
    (tx: number | undefined) =>
    async (select: string): Promise<Buffer> =>
      asBuffer(await thread.request<Uint8Array>({ op: 'copyOut', select, tx }));
  const end = (tx: number, commit: boolean, statement?: Statement) => thread.request<StatementResult | undefined>({ op: 'end', tx, commit, statement });

  /**
   * Runs `fn` inside a transaction opened with `statements` (their results to `fn`), then commits
   * with `last(value)`'s statement, or rolls back when anything throws.
   */
  async function inTransaction<T>(
    statements: Statement[],
    readOnly: boolean,
    fn: (opened: Array<QueryResult<Record<string, unknown>>>, tx: InTransaction) => Promise<{ statement?: Statement; result: T }>,
  ): Promise<T> {
    // One transaction at a time from here: the next one's BEGIN goes once this one's end is sent.
    const previous = lastTransaction;
    let ended!: () => void;
    lastTransaction = new Promise<void>((resolve) => (ended = resolve));
    let ending: Promise<unknown> | undefined;
    try {
      await previous;
      const tx = ++transactions;
      // The BEGIN is waited for on this thread (see waitFor): the engine gives it the next turn, after
      // the statement running and the last transaction's end (its COMMIT, which needs nothing from this
      // thread). Its statements go at once, so the engine is never held waiting for this thread's
      // event loop, which under load is busy with other requests for milliseconds at a time.
      const opened = thread.waitFor<StatementResult[]>({ op: 'begin', tx, statements, readOnly }).map((r) => received<Record<string, unknown>>(r));
      let done: { statement?: Statement; result: T };
      try {
        done = await fn(opened, inside(tx));
      } catch (err) {
        ending = end(tx, false).catch(() => undefined);
        throw err;
      }
      // The COMMIT (and its flush to the disk) is answered through the event loop: this thread goes on meanwhile.
      ending = end(tx, true, done.statement);
      ended();
      await ending;
      return done.result;
    } finally {
      ended();
    }
  }

  const engine: Queryable = { query: queryIn(undefined), exec: async (sql) => void (await thread.request({ op: 'exec', sql })) };
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
      // A turn of the event loop first, so that requests already under way cannot chain
      // transaction after transaction as promise jobs while sockets wait unread (bench/http.ts,
      // creates at 50 connections: p99 1.9-2.5 s -> 0.5-1.6 s when the engine ran on this thread).
      await nextTurn();
      return inTransaction(opening === undefined ? [] : [{ sql: opening }], false, async (_, tx) => ({ result: await fn(tx) }));
    },
    // The reads go with the BEGIN and the write with the COMMIT: two messages each way.
    readThenWrite: async (opening, reads, write) => {
      housekeeping.used();
      await nextTurn();
      const statements = opening === undefined ? reads : [{ sql: opening }, ...reads];
      return inTransaction(statements, false, (opened, tx) => write(opening === undefined ? opened : opened.slice(1), tx));
    },
    readSnapshot: (fn) => {
      housekeeping.used();
      // One engine: while this read-only transaction is open no other statement runs, so it is a snapshot.
      return inTransaction([], true, async (_, tx) => {
        const copy = copyOutIn(tx.embeddedTx);
        const view: SnapshotView = {
          query: tx.query,
          copyOut: copy,
          async *copyOutStream(select) {
            yield await copy(select);
          },
        };
        return { result: await fn(view) };
      });
    },
    async copyIn(tx, table, columns, data) {
      const id = (tx as Partial<InTransaction>).embeddedTx;
      if (id === undefined) throw new Error('copyIn: needs a transaction of this database');
      const parts: Buffer[] = [];
      if (Buffer.isBuffer(data)) parts.push(data);
      else for await (const piece of data) parts.push(piece);
      await thread.request({ op: 'copyIn', tx: id, sql: copyInSql(table, columns, `'/dev/blob'`), data: Buffer.concat(parts) });
    },
    listen: async (channel, onMessage) => {
      // One process, one engine: nothing can break between the sender and this listener.
      let set = listeners.get(channel);
      if (!set) {
        set = new Set();
        listeners.set(channel, set);
        await thread.request({ op: 'listen', channel });
      }
      const listener = (payload: string) => onMessage(payload);
      set.add(listener);
      return async () => {
        set.delete(listener);
        if (set.size > 0 || listeners.get(channel) !== set) return;
        listeners.delete(channel);
        if (!closed) await thread.request({ op: 'unlisten', channel });
      };
    },
    copyOut(select) {
      housekeeping.used();
      return copyOutIn(undefined)(select);
    },
    async close() {
      if (closed) return;
      closed = true;
      await housekeeping.stop();
      try {
        await thread.request({ op: 'close' });
      } finally {
        // The engine has shut down (or its thread is gone): the folder is free. The thread's own
        // end takes about 0.1 s more, which nobody needs to wait for.
        release();
        void thread.terminate();
      }
    },
  };
  // PGlite runs no autovacuum: the server does its work (embeddedMaintenance.ts), in the engine's
  // quiet moments; its own statements go straight to the engine. A pass that fails is reported and
  // changes nothing more; the next one is due a minute later.
  const housekeeping = startHousekeeping(engine, hooks);
  return self;
}
