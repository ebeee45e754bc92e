/**
 * Statements to the embedded database, each prepared once and then sent in one call.
 *
 * Why not PGlite's own `query()`: it sends a statement's six protocol messages (parse, describe,
 * bind, describe, execute, sync) as six calls into the engine, and parses and plans the statement
 * every time. Carewall sends the same few hundred statement texts over and over, on the one thread
 * the embedded engine shares with the server. Measured on an indexed select with a subquery
 * (bench/pgliteStatements.ts): about 480 us a statement through `query()`, 270 us with the same
 * messages in one call, 65 us prepared once under a name and run as bind + execute + sync in one
 * call. So a text is prepared under a name at its first use (parse and describe, one call) and later
 * runs in one call; the server-side plan cache then does what it does for any client that prepares
 * (custom plans first, a generic one once it is no worse).
 *
 * Values go in and come out through PGlite's own serializers and parsers (including the bytea ones
 * database.ts installs), so a row is what `query()` would have given. Bytea parameters go as bytes
 * (the binary parameter format), as database.ts's `query()` options did.
 */
import { LRUCache } from 'lru-cache';
import { serialize } from 'pg-protocol';

/** The parts of a PGlite instance this uses (its public API, and the two locks its own query() takes). */
export interface PgliteEngine {
  execProtocolStream(message: Uint8Array, options: { syncToFs?: boolean }): Promise<Array<{ name: string }>>;
  syncToFs(): Promise<void>;
  runExclusive<T>(fn: () => Promise<T>): Promise<T>;
  _runExclusiveTransaction<T>(fn: () => Promise<T>): Promise<T>;
  _checkReady(): Promise<void>;
  parsers: Record<number | string, (text: string, typeId?: number) => unknown>;
  serializers: Record<number | string, (value: unknown) => string>;
}

interface Prepared {
  name: string;
  /** Each parameter's type, as the engine inferred it. */
  paramTypes: number[];
  /** The result's columns; empty for a statement that returns no rows. */
  fields: Array<{ name: string; dataTypeID: number }>;
  plan: PlanTrial;
}

/**
 * Which of PostgreSQL's plans a prepared statement runs with, found by trying both.
 *
 * Why: PostgreSQL plans a prepared statement for its values (a custom plan) until it believes a
 * plan for any values (the generic plan) is as cheap, and it judges that from estimates. For
 * statements with array parameters (`= any($1)`, `labels && $2`) its estimate of the generic plan is
 * pessimistic, so it plans every execution afresh. On the embedded engine planning costs more than
 * running: a search of one patient's Observations planned 0.5 ms and ran in 0.15 ms
 * (EXPLAIN ANALYZE), 0.76 ms a statement in all against 0.36 ms with the generic plan. But a generic
 * plan can also be far worse (a name search: 0.76 -> 2.4 ms), and only running it tells. So each
 * statement text is timed both ways, on this data, and keeps the generic plan only when it is
 * clearly faster. The trial is run again every RETRIAL_AFTER executions, as tables grow, and at
 * once when SLOW_RUNS runs in a row with the kept generic plan are far slower than PostgreSQL's own
 * choice was (a table that grew past what the generic plan suits costs a few slow runs, not five
 * thousand). Not at one: a run now and then takes milliseconds whatever its plan (a garbage
 * collection, the data folder's sync), and giving the generic plan up at each such run sent the
 * tree head's read of every audit append (0.1 ms generic, 0.3 ms planned each time) back to
 * planning every time, its next trial sooner or later ending the same way. A trial's generic runs
 * end it early for the same reason only when SLOW_RUNS of them are far slower.
 */
interface PlanTrial {
  /** Executions so far. */
  runs: number;
  /** The execution the next trial starts at. */
  trialFrom: number;
  /** The trial's times (ms) with PostgreSQL's own choice of plan, and with the generic plan. */
  asChosen: number[];
  generic: number[];
  genericKept: boolean;
  /** While the generic plan is kept: the median time, in the trial that kept it, of PostgreSQL's own choice. */
  asChosenMs: number;
  /** Generic runs far slower than PostgreSQL's own choice: in the trial, or in a row while the generic plan is kept. */
  slowRuns: number;
}

/** PostgreSQL plans the first five executions for their values whatever happens: not measured. */
const FIRST_TRIAL_FROM = 5;
/** Executions measured each way. */
const TRIAL_RUNS = 5;
/** The generic plan is kept when its median time is at most this share of the other's. */
const GENERIC_KEPT_BELOW = 0.75;
/** A generic run slower than this many times the other's median is far slower... */
const GENERIC_GIVEN_UP_ABOVE = 2;
/** ...and this many of them end a trial, or (in a row) give up a kept generic plan. */
const SLOW_RUNS = 3;
const RETRIAL_AFTER = 5000;
const FORCE_GENERIC = serialize.query('set plan_cache_mode = force_generic_plan');
const RESET_PLAN_MODE = serialize.query('reset plan_cache_mode');

/** Runs one execution of a trial and says how long it took, in milliseconds. */
export type PlanTimer = <T>(run: () => Promise<T>, generic: boolean) => Promise<{ result: T; ms: number }>;

/** The engine runs on this thread and answers without I/O: the wall time is the engine's time. */
const realTime: PlanTimer = async (run) => {
  const started = performance.now();
  const result = await run();
  return { result, ms: performance.now() - started };
};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

const BYTEA_OID = 17;
/** Enough for every statement text Carewall sends repeatedly; a text past it is prepared again when it comes back. */
const MAX_PREPARED = 400;
/** "cached plan must not change result type": a table changed shape under a prepared statement. */
const FEATURE_NOT_SUPPORTED = '0A000';

export interface StatementResult {
  rows: Record<string, unknown>[];
  rowCount: number;
}

/** Statement names, unique in the process: two of these on one engine (tests) do not collide. */
let statementNames = 0;

export class PgliteStatements {
  /** Statements evicted from the cache, closed at the start of the next call into the engine. */
  private toClose: string[] = [];
  private readonly prepared = new LRUCache<string, Prepared>({
    max: MAX_PREPARED,
    dispose: (p) => this.toClose.push(p.name),
  });

  /** `time`: how a trial's execution is timed (tests give one of their own). */
  constructor(
    private readonly engine: PgliteEngine,
    private readonly time: PlanTimer = realTime,
  ) {}

  /**
   * Runs one statement. `inTransaction`: called from inside the engine's transaction (which holds its
   * transaction lock already); otherwise the statement waits for any open transaction, as PGlite's
   * `query()` does, and the data folder is synced after it.
   */
  async query(sql: string, params: unknown[], inTransaction: boolean): Promise<StatementResult> {
    const e = this.engine;
    await e._checkReady();
    const run = () =>
      e.runExclusive(async () => {
        try {
          return await this.run(sql, params);
        } finally {
          if (!inTransaction) await e.syncToFs();
        }
      });
    return inTransaction ? run() : e._runExclusiveTransaction(run);
  }

  private async run(sql: string, params: unknown[]): Promise<StatementResult> {
    let statement = this.prepared.get(sql) ?? (await this.prepare(sql));
    try {
      return await this.execute(statement, params);
    } catch (err) {
      if ((err as { code?: string }).code !== FEATURE_NOT_SUPPORTED || !/cached plan/.test(String((err as Error).message))) throw err;
      // A migration changed a table this statement reads: prepare it again, once.
      this.prepared.delete(sql);
      statement = await this.prepare(sql);
      return await this.execute(statement, params);
    }
  }

  private async prepare(sql: string): Promise<Prepared> {
    const name = `cw${++statementNames}`;
    const messages = await this.call([serialize.parse({ name, text: sql, types: [] }), serialize.describe({ type: 'S', name }), serialize.sync()]);
    let paramTypes: number[] = [];
    let fields: Prepared['fields'] = [];
    for (const m of messages) {
      if (m.name === 'parameterDescription') paramTypes = (m as unknown as { dataTypeIDs: number[] }).dataTypeIDs;
      else if (m.name === 'rowDescription')
        fields = (m as unknown as { fields: Prepared['fields'] }).fields.map((f) => ({ name: f.name, dataTypeID: f.dataTypeID }));
    }
    const prepared: Prepared = {
      name,
      paramTypes,
      fields,
      plan: { runs: 0, trialFrom: FIRST_TRIAL_FROM, asChosen: [], generic: [], genericKept: false, asChosenMs: 0, slowRuns: 0 },
    };
    this.prepared.set(sql, prepared);
    return prepared;
  }

  private async execute(p: Prepared, params: unknown[]): Promise<StatementResult> {
    const values = params.map((value, i) => this.serializeParam(value, p.paramTypes[i]));
    const run = [serialize.bind({ statement: p.name, values }), serialize.execute({}), serialize.sync()];
    const trial = p.plan;
    const i = trial.runs++ - trial.trialFrom;
    const measured = i >= 0 && i < 2 * TRIAL_RUNS;
    // A trial whose runs failed (errors are not timed) ends without a change.
    if (i >= 2 * TRIAL_RUNS) this.endTrial(trial, trial.genericKept, trial.asChosenMs);
    const generic = measured ? i >= TRIAL_RUNS : trial.genericKept;
    // A SET inside a transaction that fails is undone with it; outside one, the RESET runs on its own.
    const send = () => this.call(generic ? [FORCE_GENERIC, ...run, RESET_PLAN_MODE] : run);
    let messages: Array<{ name: string }>;
    if (measured || generic) {
      const timed = await this.time(send, generic);
      messages = timed.result;
      if (measured) this.noteTrial(trial, generic, timed.ms);
      else if (timed.ms <= GENERIC_GIVEN_UP_ABOVE * trial.asChosenMs) trial.slowRuns = 0;
      else if (++trial.slowRuns >= SLOW_RUNS) {
        // The kept generic plan no longer suits: PostgreSQL's own choice from the next run, and a new trial.
        trial.genericKept = false;
        trial.trialFrom = trial.runs;
        trial.slowRuns = 0;
      }
    } else messages = await send();
    const rows: Record<string, unknown>[] = [];
    let rowCount = 0;
    const parsers = this.engine.parsers;
    for (const m of messages) {
      if (m.name === 'dataRow') {
        const cells = (m as unknown as { fields: Array<string | null> }).fields;
        const row: Record<string, unknown> = {};
        for (let i = 0; i < cells.length; i++) {
          const f = p.fields[i];
          const text = cells[i];
          const parse = parsers[f.dataTypeID];
          row[f.name] = text === null ? null : parse ? parse(text, f.dataTypeID) : text;
        }
        rows.push(row);
      } else if (m.name === 'commandComplete') {
        // "INSERT 0 5", "UPDATE 3", "DELETE 2", "SELECT 7": the count of rows changed, as pg's rowCount
        // (PGlite's affectedRows) gives; a select's is the rows returned.
        const tag = (m as unknown as { text: string }).text.split(' ');
        const n = Number.parseInt(tag[tag.length - 1], 10);
        rowCount = Number.isNaN(n) ? rows.length : n;
      }
    }
    return { rows, rowCount };
  }

  /** One measured execution; the choice once both ways have been timed, or the generic plan was far slower. */
  private noteTrial(trial: PlanTrial, generic: boolean, ms: number): void {
    (generic ? trial.generic : trial.asChosen).push(ms);
    if (!generic) return;
    const asChosen = median(trial.asChosen);
    if (ms > GENERIC_GIVEN_UP_ABOVE * asChosen && ++trial.slowRuns >= SLOW_RUNS) this.endTrial(trial, false, asChosen);
    else if (trial.generic.length === TRIAL_RUNS) this.endTrial(trial, median(trial.generic) <= GENERIC_KEPT_BELOW * asChosen, asChosen);
  }

  private endTrial(trial: PlanTrial, genericKept: boolean, asChosenMs: number): void {
    trial.genericKept = genericKept;
    trial.asChosenMs = asChosenMs;
    trial.trialFrom = trial.runs + RETRIAL_AFTER;
    trial.asChosen = [];
    trial.generic = [];
    trial.slowRuns = 0;
  }

  private serializeParam(value: unknown, type: number | undefined): string | Buffer | null {
    if (value === null || value === undefined) return null;
    if (type === BYTEA_OID && value instanceof Uint8Array)
      return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    const s = type === undefined ? undefined : this.engine.serializers[type];
    return s ? s(value) : String(value);
  }

  /** One call into the engine: the statements waiting to be closed, then these messages. */
  private call(messages: Buffer[]): Promise<Array<{ name: string }>> {
    const closing = this.toClose.splice(0).map((name) => serialize.close({ type: 'S', name }));
    return this.engine.execProtocolStream(Buffer.concat([...closing, ...messages]), { syncToFs: false });
  }
}
