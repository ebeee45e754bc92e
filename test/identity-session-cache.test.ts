/**
 * The in-process session cache (src/identity/sessionCache.ts) on its own, with a clock the tests
 * move: how long an answer is kept, that a change ends every entry, that a lookup overlapping a
 * change is not kept, and that nothing is kept where a replica may answer reads.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SESSION_FRESHNESS_MS, SessionCache, type Lookup } from '../src/identity/sessionCache.js';
import type { Who } from '../src/shared/index.js';

const alice: Who = { accountId: 'a1', username: 'alice', roles: ['physician'] };

function setup(enabled = true) {
  const cache = new SessionCache(enabled);
  let t = 1_000;
  cache.clock = { now: () => t };
  let answer: Lookup | null = { who: alice, secondsLeft: 900 };
  let lookups = 0;
  const lookup = async () => {
    lookups++;
    return answer;
  };
  return {
    cache,
    ask: () => cache.who('k', lookup),
    later: (ms: number) => (t += ms),
    set: (a: Lookup | null) => (answer = a),
    lookups: () => lookups,
  };
}

describe('session cache', () => {
  test('an answer is used for under a second, then asked again: a revocation elsewhere holds within a second', async () => {
    const c = setup();
    assert.deepEqual(await c.ask(), alice);
    c.set(null); // another process revoked the session
    c.later(SESSION_FRESHNESS_MS - 1);
    assert.deepEqual(await c.ask(), alice);
    assert.equal(c.lookups(), 1);
    c.later(1);
    assert.equal(await c.ask(), null);
    assert.equal(c.lookups(), 2);
  });

  test('a session that ends by time sooner than a second is not kept past its end', async () => {
    const c = setup();
    c.set({ who: alice, secondsLeft: 0.25 });
    await c.ask();
    c.later(250);
    c.set(null);
    assert.equal(await c.ask(), null);
    c.set({ who: alice, secondsLeft: 0 });
    await c.ask();
    await c.ask();
    assert.equal(c.lookups(), 4, 'a session with no time left is never kept');
  });

  test('unknown tokens are asked about every time', async () => {
    const c = setup();
    c.set(null);
    await c.ask();
    c.set({ who: alice, secondsLeft: 900 });
    assert.deepEqual(await c.ask(), alice);
    assert.equal(c.lookups(), 2);
  });

  test('a change made through this process ends every entry at once, whether it commits or fails', async () => {
    const c = setup();
    await c.ask();
    c.set(null);
    await c.cache.changed(async () => undefined);
    assert.equal(await c.ask(), null);
    c.set({ who: alice, secondsLeft: 900 });
    await c.ask();
    c.set(null);
    await assert.rejects(c.cache.changed(async () => Promise.reject(new Error('rolled back'))));
    assert.equal(await c.ask(), null);
  });

  test('a lookup that overlaps a change is answered but not kept', async () => {
    const c = setup();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let slowLookups = 0;
    const slow = c.cache.who('k', async () => {
      slowLookups++;
      await gate; // read before the change committed
      return { who: alice, secondsLeft: 900 };
    });
    await c.cache.changed(async () => undefined); // the revocation commits meanwhile
    release();
    assert.deepEqual(await slow, alice);
    c.set(null);
    assert.equal(await c.ask(), null, 'the pre-change answer was not kept');
    assert.equal(slowLookups, 1);

    // And one that starts while a change is under way.
    c.set({ who: alice, secondsLeft: 900 });
    let inside: Promise<Who | null> | undefined;
    await c.cache.changed(async () => {
      inside = c.ask();
      await inside;
    });
    c.set(null);
    assert.equal(await c.ask(), null);
  });

  test('with a replica nothing is kept', async () => {
    const c = setup(false);
    await c.ask();
    await c.ask();
    assert.equal(c.lookups(), 2);
  });
});
