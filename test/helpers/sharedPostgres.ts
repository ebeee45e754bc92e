/**
 * A PostgreSQL server for the tests that need two Carewall processes on one database, which the
 * embedded database cannot give (it serves one process). With DATABASE_URL set it is that server;
 * without, it is one private instance (privatePostgres.ts) per test process, started the first time
 * a test asks for it, so that a file none of whose tests needs it pays nothing, and stopped when the
 * process exits (privatePostgres.ts stops it then).
 */
import { privatePostgresUnavailable, startPrivatePostgres } from './privatePostgres.js';

let started: Promise<string> | undefined;

/**
 * Why such a test cannot run here, for its skip option, or undefined. Known without starting the
 * instance: only a missing installation skips; an installed server that then fails to start fails
 * the test (sharedPostgres rejects) rather than hiding it.
 */
export function sharedPostgresUnavailable(): string | undefined {
  if (process.env.DATABASE_URL) return undefined;
  const why = privatePostgresUnavailable();
  return why && `needs PostgreSQL for two processes on one database (the embedded database serves one), and DATABASE_URL is unset and ${why}`;
}

/** A connection string to an administrative database on that server, to create test databases from. */
export function sharedPostgres(): Promise<string> {
  if (process.env.DATABASE_URL) return Promise.resolve(process.env.DATABASE_URL);
  started ??= startPrivatePostgres().then((pg) => {
    if ('unavailable' in pg) throw new Error(pg.unavailable);
    return pg.url();
  });
  return started;
}
