/**
 * The embedded database answers without I/O, so code that runs transaction after transaction never
 * gives the event loop a turn unless the database does: requests waiting on their sockets would
 * wait for all of it (database.ts, `transaction`). Each transaction lets the loop turn first, on
 * either engine (PostgreSQL's answers come over a socket anyway).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type Database } from '../src/db/database.js';
import { openTestDatabase } from './helpers/harness.js';

let db: Database;
let close: (() => Promise<void>) | undefined;

before(async () => {
  ({ db, close } = await openTestDatabase());
});

after(async () => {
  await close?.();
});

test('what waits on the event loop is served before a transaction begins, however many run back to back', async () => {
  for (let round = 0; round < 5; round++) {
    let waitingServed = false;
    // Stands for a socket's data waiting to be read: it runs at the loop's next turn.
    setImmediate(() => (waitingServed = true));
    const servedFirst = await db.transaction(async (tx) => {
      await tx.query('select 1');
      return waitingServed;
    });
    assert.equal(servedFirst, true, `round ${round}: the transaction ran before the waiting work`);
  }
});
