/**
 * The embedded engine's side of its thread: PGlite, opened durable, answering the requests the
 * server's thread sends it (embedded.ts). One request at a time reaches the engine, in the order
 * they came, as PGlite's own locks order them; a transaction holds the engine from its `begin` to
 * its `end`, and statements from outside it wait meanwhile, as they did on one thread.
 *
 * Why a thread of its own: PGlite is PostgreSQL compiled to WebAssembly, run synchronously by the
 * thread that calls it. On the server's own thread it took half of that thread's time under load
 * (docs/benchmarks.md: 0.23 of 0.46 ms a read at 50 connections), and every flush of a commit to
 * the disk stopped every request meanwhile. Here the engine has the machine's second core, as a
 * PostgreSQL server's processes have.
 */
import { PgliteStatements, type PgliteEngine, type StatementResult } from './pgliteStatements.js';
import { durableStartParams, makeFsyncReal } from './embeddedDurability.js';

export interface HostStatement {
  sql: string;
  params?: unknown[];
}

/** What the server's thread asks. `tx`: inside that transaction (from its `begin`). */
export type HostRequest =
  | { id: number; op: 'query'; sql: string; params: unknown[]; tx?: number }
  | { id: number; op: 'exec'; sql: string; tx?: number }
  /** Opens transaction `tx` and runs `statements` in it; answers their results. `readOnly`: a snapshot. */
  | { id: number; op: 'begin'; tx: number; statements: HostStatement[]; readOnly?: boolean }
  /** Ends `tx`: `statement` (its last) then COMMIT, or ROLLBACK. Answers the statement's result. */
  | { id: number; op: 'end'; tx: number; commit: boolean; statement?: HostStatement }
  | { id: number; op: 'copyOut'; select: string; tx?: number }
  | { id: number; op: 'copyIn'; tx: number; sql: string; data: Uint8Array }
  | { id: number; op: 'listen'; channel: string }
  | { id: number; op: 'unlisten'; channel: string }
  | { id: number; op: 'close' };

/** An error as it crosses the thread: its message and its fields (SQLSTATE `code`, `constraint`, ...). */
export interface CarriedError {
  name: string;
  message: string;
  fields: Record<string, string | number | boolean>;
}

export type HostReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: CarriedError };

export function carryError(err: unknown): CarriedError {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err), fields: {} };
  const fields: CarriedError['fields'] = {};
  for (const [k, v] of Object.entries(err)) if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') fields[k] = v;
  return { name: err.name, message: err.message, fields };
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

type Pglite = import('@electric-sql/pglite').PGlite;
type PgliteTx = Parameters<Parameters<Pglite['transaction']>[0]>[0];

/** The engine's WebAssembly, compiled, and its file system bundle (engineArtifacts in embedded.ts). */
export interface EngineArtifacts {
  pgliteWasmModule: WebAssembly.Module;
  initdbWasmModule: WebAssembly.Module;
  fsBundle: Uint8Array;
}

/** Opens the engine on `dir`, durable (embeddedDurability.ts), with `buffersMb` of page cache. */
export async function openEmbeddedEngine(dir: string, buffersMb: number, artifacts?: EngineArtifacts): Promise<Pglite> {
  const { PGlite } = await import('@electric-sql/pglite');
  const db = await PGlite.create(dir, {
    ...(artifacts && {
      pgliteWasmModule: artifacts.pgliteWasmModule,
      initdbWasmModule: artifacts.initdbWasmModule,
      fsBundle: new Blob([artifacts.fsBundle as Uint8Array<ArrayBuffer>]),
    }),
    parsers: { [BYTEA_OID]: parseByteaHex },
    serializers: { [BYTEA_OID]: serializeByteaHex },
    startParams: [...durableStartParams(PGlite.defaultStartParams), '-c', `shared_buffers=${buffersMb}MB`],
  });
  try {
    const dataDir = (await db.query<{ data_directory: string }>('show data_directory')).rows[0].data_directory;
    makeFsyncReal((db as unknown as { mod: { FS: Parameters<typeof makeFsyncReal>[0] } }).mod.FS, dataDir);
    // What the start wrote (a recovery, a new folder) went through the no-op: a checkpoint flushes it now.
    await db.exec('checkpoint');
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }
  return db;
}

/**
 * Whose turn it is on the engine: a transaction's BEGIN goes before the statements waiting outside
 * one. The server's thread waits for a BEGIN without returning to its event loop (embedded.ts), so
 * it must not wait behind a queue of other requests' reads, only behind the statement running.
 * Hand-written: a mutex with two lines is a dozen lines, and the order is the point.
 */
class EngineTurns {
  private busy = false;
  private readonly first: Array<() => void> = [];
  private readonly rest: Array<() => void> = [];

  async run<T>(fn: () => Promise<T>, first: boolean): Promise<T> {
    if (this.busy) await new Promise<void>((resolve) => (first ? this.first : this.rest).push(resolve));
    else this.busy = true;
    try {
      return await fn();
    } finally {
      const next = this.first.shift() ?? this.rest.shift();
      if (next) next();
      else this.busy = false;
    }
  }
}

/** Thrown inside PGlite's transaction to roll it back when the server's side gave up on it. */
const ROLLED_BACK = Symbol('rolled back');

interface OpenTransaction {
  /** Settles when the opening statements ran (or failed, which ends the transaction). */
  ready: Promise<StatementResult[]>;
  tx?: PgliteTx;
  decide(commit: boolean): void;
  /** Settles when the transaction has committed or rolled back. */
  done: Promise<void>;
}

export class EmbeddedHost {
  private readonly statements: PgliteStatements;
  private readonly open = new Map<number, OpenTransaction>();
  private readonly listening = new Map<string, () => Promise<void>>();
  private readonly turns = new EngineTurns();

  constructor(
    private readonly db: Pglite,
    private readonly notify: (channel: string, payload: string) => void,
  ) {
    this.statements = new PgliteStatements(db as unknown as PgliteEngine);
  }

  async handle(r: HostRequest): Promise<unknown> {
    switch (r.op) {
      case 'query':
        if (r.tx === undefined) return this.turns.run(() => this.statements.query(r.sql, withBuffers(r.params), false), false);
        await this.inside(r.tx);
        return this.statements.query(r.sql, withBuffers(r.params), true);
      case 'exec':
        if (r.tx === undefined) await this.turns.run(() => this.db.exec(r.sql), false);
        else await (await this.inside(r.tx)).exec(r.sql);
        return undefined;
      case 'begin':
        return this.begin(r.tx, r.statements, r.readOnly === true);
      case 'end':
        return this.end(r.tx, r.commit, r.statement);
      case 'copyOut': {
        const sql = `copy (${r.select}) to '/dev/blob' with (format binary)`;
        const result = r.tx === undefined ? await this.turns.run(() => this.db.query(sql), false) : await (await this.inside(r.tx)).query(sql);
        if (!result.blob) throw new Error('copyOut: the embedded database returned no data');
        return new Uint8Array(await result.blob.arrayBuffer());
      }
      case 'copyIn': {
        const tx = await this.inside(r.tx);
        await tx.query(r.sql, [], { blob: new Blob([r.data as Uint8Array<ArrayBuffer>]) });
        return undefined;
      }
      case 'listen':
        if (!this.listening.has(r.channel)) this.listening.set(r.channel, await this.db.listen(r.channel, (payload) => this.notify(r.channel, payload)));
        return undefined;
      case 'unlisten': {
        const stop = this.listening.get(r.channel);
        this.listening.delete(r.channel);
        if (stop && !this.db.closed) await stop();
        return undefined;
      }
      case 'close':
        if (!this.db.closed) await this.db.close();
        return undefined;
    }
  }

  private begin(id: number, statements: HostStatement[], readOnly: boolean): Promise<StatementResult[]> {
    let decide!: (commit: boolean) => void;
    const decided = new Promise<boolean>((resolve) => (decide = resolve));
    let started!: (results: StatementResult[]) => void;
    let failed!: (err: unknown) => void;
    const ready = new Promise<StatementResult[]>((resolve, reject) => {
      started = resolve;
      failed = reject;
    });
    const open: OpenTransaction = { ready, decide, done: Promise.resolve() };
    this.open.set(id, open);
    open.done = this.turns
      .run(
        () =>
          this.db.transaction(async (tx) => {
            open.tx = tx;
            const results: StatementResult[] = [];
            try {
              if (readOnly) await tx.query('set transaction read only');
              for (const s of statements) results.push(await this.statements.query(s.sql, withBuffers(s.params ?? []), true));
            } catch (err) {
              failed(err);
              throw err;
            }
            started(results);
            if (!(await decided)) throw ROLLED_BACK;
          }),
        true,
      )
      .then(
        () => undefined,
        (err) => {
          // A rollback asked for is no error; an opening's error is answered through `ready` too.
          if (err === ROLLED_BACK) return;
          failed(err);
          throw err;
        },
      )
      .finally(() => this.open.delete(id));
    // The transaction's end is awaited by `end`; an opening that failed is answered through `ready`.
    open.done.catch(() => undefined);
    return ready;
  }

  private async end(id: number, commit: boolean, statement: HostStatement | undefined): Promise<StatementResult | undefined> {
    const open = this.open.get(id);
    if (!open) throw new Error('the transaction has ended');
    try {
      await open.ready;
    } catch (err) {
      // The opening failed and the transaction rolled back already.
      await open.done.catch(() => undefined);
      if (commit) throw err;
      return undefined;
    }
    let result: StatementResult | undefined;
    if (commit && statement) {
      try {
        result = await this.statements.query(statement.sql, withBuffers(statement.params ?? []), true);
      } catch (err) {
        open.decide(false);
        await open.done.catch(() => undefined);
        throw err;
      }
    }
    open.decide(commit);
    await open.done;
    return result;
  }

  /** The transaction `id`, once its opening ran; its opening's error otherwise. */
  private async inside(id: number): Promise<PgliteTx> {
    const open = this.open.get(id);
    if (!open) throw new Error('the transaction has ended');
    await open.ready;
    return open.tx as PgliteTx;
  }
}

/**
 * Bytes cross threads as plain Uint8Arrays; a Buffer again here, so that a statement sees what it
 * was given on the server's thread (a Buffer given for a text value is its UTF-8, not a list of numbers).
 */
function withBuffers(params: unknown[]): unknown[] {
  return params.map((p) => (p instanceof Uint8Array && !Buffer.isBuffer(p) ? Buffer.from(p.buffer, p.byteOffset, p.byteLength) : p));
}
