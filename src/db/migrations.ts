/**
 * Versioned migrations. Each capability owns its tables and hands its own ordered list here;
 * the runner applies what is missing, at start, under an advisory lock so that several processes
 * starting together against one PostgreSQL server apply each step once.
 */
import type { Database } from './database.js';

export interface Migration {
  /** Owning capability, e.g. 'records'. */
  module: string;
  /** 1, 2, 3... within the module; never renumber or edit one that has shipped. */
  version: number;
  description: string;
  sql: string;
}

const MIGRATION_LOCK = 7_243_001; // arbitrary constant shared by all Carewall processes

export async function migrate(db: Database, migrations: Migration[]): Promise<string[]> {
  const applied: string[] = [];
  await db.transaction(async (tx) => {
    await tx.query('select pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await tx.query(`create table if not exists schema_migrations (
      module text not null, version int not null, description text not null,
      applied_at timestamptz not null default now(), primary key (module, version))`);
    const done = await tx.query<{ module: string; version: number }>('select module, version from schema_migrations');
    const have = new Set(done.rows.map((r) => `${r.module}:${r.version}`));
    for (const m of migrations) {
      if (have.has(`${m.module}:${m.version}`)) continue;
      await tx.exec(m.sql);
      await tx.query('insert into schema_migrations (module, version, description) values ($1, $2, $3)', [m.module, m.version, m.description]);
      applied.push(`${m.module}:${m.version}`);
    }
  });
  return applied;
}
