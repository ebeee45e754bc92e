/**
 * Preloaded (`--import`) into bench/httpProfile.ts's server on PostgreSQL: counts the statements
 * it sends (each call of pg's Client.query, the one way every query, pooled or leased, reaches the
 * server: one round trip each) without a change to src/. On SIGUSR2 it writes the count to the
 * file named by STATEMENT_COUNT_FILE (and at start, its pid, so that the bench can signal it).
 * A counter's increment per statement: nothing the profile would show.
 */
import fs from 'node:fs';
import pg from 'pg';

const file = process.env.STATEMENT_COUNT_FILE;
if (file) {
  let statements = 0;
  const query = pg.Client.prototype.query;
  // Same arguments and result; typed loosely because pg's overloads cannot be named in one signature.
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    statements++;
    return (query as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof query;
  let reports = 0; // tells the bench that this is the answer to its signal, not the previous one
  const report = () => fs.writeFileSync(file, JSON.stringify({ pid: process.pid, statements, reports: reports++ }));
  report();
  process.on('SIGUSR2', report);
}
