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
 */
import type { Queryable } from './database.js';

/** How often the server looks (the embedded database's own setInterval; autovacuum's naptime is a minute too). */
export const EMBEDDED_MAINTENANCE_EVERY_MS = 60_000;

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
}

/** What a table needs now, by autovacuum's default thresholds. */
export function maintenanceDue(t: TableState): { vacuum: boolean; analyse: boolean } {
  return {
    vacuum: t.dead > 50 + 0.2 * t.rows || t.insertedSinceVacuum > 1000 + 0.2 * t.rows,
    analyse: t.changedSinceAnalyze > 50 + 0.1 * t.rows,
  };
}

/** Vacuums and analyses the tables that need it; says which. */
export async function maintainEmbedded(db: Queryable): Promise<Maintained> {
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
  const done: Maintained = { vacuumed: [], analysed: [] };
  for (const t of rows) {
    const due = maintenanceDue(t);
    if (!due.vacuum && !due.analyse) continue;
    // Names come from the catalogue, quoted by format('%I'): nothing from outside reaches this text.
    await db.exec(due.vacuum ? `vacuum${due.analyse ? ' (analyze)' : ''} ${t.table}` : `analyze ${t.table}`);
    if (due.vacuum) done.vacuumed.push(t.table);
    if (due.analyse) done.analysed.push(t.table);
  }
  return done;
}
