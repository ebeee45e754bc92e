/**
 * The embedded database's housekeeping: what PostgreSQL's autovacuum does on a server, which PGlite
 * does not run (it has no background processes; measured: no table is ever vacuumed or analysed).
 *
 * Why it matters: a row deleted or updated leaves its old version on disk until VACUUM frees the
 * space. Without it a table's file only grows: a queue of at most 8 rows (inserted and deleted as
 * `audit_pending` is) reached 64 MB after 150,000 rounds, and 2 MB after one VACUUM of 0.25 s.
 * Without ANALYZE the planner also never learns how large the tables are.
 *
 * The rules are autovacuum's own, with its default settings, so that the embedded database is kept
 * as a PostgreSQL server would keep the same data: a table is vacuumed once its dead rows pass
 * 50 + 20 % of its rows, or its rows inserted since the last vacuum pass 1,000 + 20 % (which sets
 * the pages all-visible, so that later vacuums skip them); analysed once the rows changed since the
 * last analysis pass 50 + 10 %. One table at a time, each its own call: the engine is shared with the
 * server's requests, which go on between tables.
 *
 * When: a pass is due a minute after the last one, and waits for a quiet engine (no statement of the
 * server's for a quarter of a second). A VACUUM holds the engine for as long as it runs, and every
 * request meanwhile waits: measured on this machine, the first pass over audit tables of a million
 * records (never vacuumed, as after an upgrade) took 0.2-0.9 s a table, 1.5 s in all, and later
 * passes after 200,000 more records 0.7 s. A clinic's requests come with pauses between them, and a
 * pass then costs nobody anything. Under load that never pauses the pass runs anyway ten minutes
 * after it was due, a table at a time, the requests going on between tables.
 */
import type { Queryable } from './database.js';

/** A pass is due this long after the last one ended (autovacuum's naptime is a minute too). */
export const EMBEDDED_MAINTENANCE_EVERY_MS = 60_000;
/** The engine is quiet when the server has started no statement for this long. */
export const EMBEDDED_QUIET_MS = 250;
/** A due pass waits for quiet at most this long, then runs anyway. */
export const EMBEDDED_MAINTENANCE_LONGEST_WAIT_MS = 10 * 60_000;
/** How often the housekeeper looks whether a pass is due and the engine quiet. */
export const EMBEDDED_MAINTENANCE_LOOK_MS = 1_000;

interface TableState {
  table: string;
  rows: number;
  dead: number;
  insertedSinceVacuum: number;
  changedSinceAnalyze: number;
}

export interface Maintained {
  vacuumed: string[];
  analysed: string[];
  /** False when the pass stopped before a table because the engine was no longer quiet. */
  complete: boolean;
}

/** What a table needs now, by autovacuum's default thresholds. */
export function maintenanceDue(t: TableState): { vacuum: boolean; analyse: boolean } {
  return {
    vacuum: t.dead > 50 + 0.2 * t.rows || t.insertedSinceVacuum > 1000 + 0.2 * t.rows,
    analyse: t.changedSinceAnalyze > 50 + 0.1 * t.rows,
  };
}

/**
 * Vacuums and analyses the tables that need it; says which. `proceed` is asked before each table:
 * false stops the pass there (what is left is still due, and the next pass finds it).
 */
export async function maintainEmbedded(db: Queryable, proceed: () => boolean = () => true): Promise<Maintained> {
  // The statistics of the last second are flushed when the statement that asks for it ends.
  await db.query('select pg_stat_force_next_flush()');
  // reltuples is -1 until a table is first vacuumed or analysed: then the live rows the statistics count.
  const { rows } = await db.query<TableState>(
    `select format('%I.%I', s.schemaname, s.relname) as "table",
            greatest(c.reltuples, s.n_live_tup)::float8 as rows,
            s.n_dead_tup::float8 as dead,
            s.n_ins_since_vacuum::float8 as "insertedSinceVacuum",
            s.n_mod_since_analyze::float8 as "changedSinceAnalyze"
       from pg_stat_user_tables s join pg_class c on c.oid = s.relid
      order by s.relname`,
  );
  const done: Maintained = { vacuumed: [], analysed: [], complete: true };
  for (const t of rows) {
    const due = maintenanceDue(t);
    if (!due.vacuum && !due.analyse) continue;
    if (!proceed()) return { ...done, complete: false };
    // Names come from the catalogue, quoted by format('%I'): nothing from outside reaches this text.
    await db.exec(due.vacuum ? `vacuum${due.analyse ? ' (analyze)' : ''} ${t.table}` : `analyze ${t.table}`);
    if (due.vacuum) done.vacuumed.push(t.table);
    if (due.analyse) done.analysed.push(t.table);
  }
  return done;
}

export interface Housekeeping {
  /** Notes that the server started a statement (the engine is not quiet). */
  used(): void;
  /** Stops looking, and waits for a pass under way to end. */
  stop(): Promise<void>;
}

export interface HousekeepingHooks {
  /** A pass ended (complete or stopped for a request). */
  onMaintained?: (done: Maintained) => void;
  /** A pass failed; the next one is due a minute later. */
  onFailed?: (err: unknown) => void;
}

/**
 * Keeps the embedded database as autovacuum would (maintainEmbedded), in its quiet moments.
 * `engine` must reach the database without calling `used()`: the passes' own statements are not
 * the server's work. Times are Date.now(), so that tests move them with mocked timers.
 */
export function startHousekeeping(engine: Queryable, hooks: HousekeepingHooks = {}): Housekeeping {
  let lastUse = -Infinity;
  let lastPassEnded = Date.now();
  let running: Promise<void> | undefined;
  const quiet = () => Date.now() - lastUse >= EMBEDDED_QUIET_MS;
  const report = (fn: (() => void) | undefined) => {
    try {
      fn?.();
    } catch {
      // a report that fails must not stop the next pass
    }
  };
  const look = () => {
    if (running) return;
    const now = Date.now();
    if (now - lastPassEnded < EMBEDDED_MAINTENANCE_EVERY_MS) return;
    const overdue = now - lastPassEnded >= EMBEDDED_MAINTENANCE_EVERY_MS + EMBEDDED_MAINTENANCE_LONGEST_WAIT_MS;
    const proceed = () => overdue || quiet();
    if (!proceed()) return;
    running = maintainEmbedded(engine, proceed).then(
      (done) => {
        if (done.complete) lastPassEnded = Date.now();
        report(() => hooks.onMaintained?.(done));
      },
      (err: unknown) => {
        lastPassEnded = Date.now();
        report(() => hooks.onFailed?.(err));
      },
    );
    void running.finally(() => (running = undefined));
  };
  const timer = setInterval(look, EMBEDDED_MAINTENANCE_LOOK_MS);
  timer.unref();
  return {
    used: () => {
      lastUse = Date.now();
    },
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
