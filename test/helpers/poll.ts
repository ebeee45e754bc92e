/**
 * Waiting without guessing how long: for what must happen (polled a bounded number of times, failing
 * with what did not happen, never with how long it took) and for the clock to move on (so that two
 * moments a test compares are distinct, rather than hoping a pause made them so).
 */
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as pause } from 'node:timers/promises';

/**
 * Polls `check` until it holds; after `tries` checks `every` ms apart, fails saying `what` did not
 * happen. `what` may be a function, read only then: a message quoting output so far needs the
 * output at the failure, not at the call.
 */
export async function until(what: string | (() => string), check: () => boolean | Promise<boolean>, { tries = 200, every = 50 } = {}): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await pause(every);
  }
  throw new Error(`${typeof what === 'function' ? what() : what}: still not so after ${tries} checks`);
}

/** Resolves once Date.now() is past the millisecond it was at when called: what comes after is strictly later. */
export async function nextMillisecond(): Promise<void> {
  const now = Date.now();
  while (Date.now() <= now) await new Promise((r) => setImmediate(r));
}

/**
 * Resolves once a file written in `dir` gets a modification time past `t`: the kernel stamps files
 * with a coarse clock that may lag Date.now() by a tick, so a write made just after `t` could
 * otherwise look older than it. Checked on a probe file of its own, removed afterwards.
 */
export async function fileClockPast(dir: string, t: Date): Promise<void> {
  const probe = path.join(dir, `.carewall-clock-probe-${process.pid}`);
  try {
    await until(
      'the file-system clock to pass the moment',
      () => {
        fs.writeFileSync(probe, '');
        return fs.statSync(probe).mtimeMs > t.getTime();
      },
      { tries: 1000, every: 1 },
    );
  } finally {
    fs.rmSync(probe, { force: true });
  }
}

/**
 * Resolves once the database's clock, the one access rules are decided by (now() in SQL), is past
 * `t`: what time alone changes is then changed, with no margin guessed for how far apart the clocks are.
 */
export async function databaseClockPast(db: { query(sql: string, params?: unknown[]): Promise<{ rows: unknown[] }> }, t: string | Date): Promise<void> {
  const iso = typeof t === 'string' ? t : t.toISOString();
  await until(`the database clock to pass ${iso}`, async () => {
    const { rows } = await db.query('select clock_timestamp() > $1::timestamptz as past', [iso]);
    return (rows[0] as { past: boolean }).past;
  });
}

/**
 * For a test of what time alone changes at a moment `at`: runs `setup(at)` with `at` `margin` ms
 * ahead, and gives back what it returned once the database clock is still before `at` after it,
 * so that what `setup` saw was seen before the moment. A machine too loaded to finish in the margin
 * sets the case up again with twice the margin (a fresh case: `setup` must make its own records),
 * rather than failing on a premise that did not hold; after `tries` such runs it fails saying so.
 */
export async function aheadOfDatabaseClock<T>(
  db: { query(sql: string, params?: unknown[]): Promise<{ rows: unknown[] }> },
  setup: (at: string) => Promise<T>,
  { margin = 500, tries = 4 } = {},
): Promise<{ at: string; seen: T }> {
  for (let i = 0; i < tries; i++, margin *= 2) {
    const at = new Date(Date.now() + margin).toISOString();
    const seen = await setup(at);
    const { rows } = await db.query('select clock_timestamp() < $1::timestamptz as before', [at]);
    if ((rows[0] as { before: boolean }).before) return { at, seen };
  }
  throw new Error(`the case was not set up before its moment in ${tries} tries (the last with ${margin / 2} ms)`);
}
