/**
 * On the embedded database the server works on a few requests at once and the rest wait their turn
 * in arrival order (src/http/workGate.ts): a long tail of overtaken requests otherwise. The gate
 * itself first, then the server: clients who hang up never leave places taken.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SYSTEM } from '../src/shared/index.js';
import { EMBEDDED_REQUESTS_AT_ONCE, WorkGate } from '../src/http/workGate.js';
import { startTestServer, type TestServer } from './helpers/harness.js';

/** Lets pending promise callbacks run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('the gate', () => {
  test('at most its number of places are taken; the others get theirs in the order they came', async () => {
    const gate = new WorkGate(2);
    const granted: number[] = [];
    const places = Array.from({ length: 6 }, (_, i) => {
      const place = gate.enter();
      void place.turn.then((ok) => ok && granted.push(i));
      return place;
    });
    await settle();
    assert.deepEqual(granted, [0, 1]);
    assert.equal(gate.inProgress, 2);
    assert.equal(gate.waiting, 4);
    places[1].leave();
    await settle();
    assert.deepEqual(granted, [0, 1, 2]);
    places[0].leave();
    places[2].leave();
    await settle();
    assert.deepEqual(granted, [0, 1, 2, 3, 4]);
    assert.equal(gate.inProgress, 2);
    assert.equal(gate.waiting, 1);
  });

  test('one who gives up waiting leaves the line and takes no place', async () => {
    const gate = new WorkGate(1);
    const first = gate.enter();
    const quitter = gate.enter();
    const patient = gate.enter();
    quitter.leave();
    assert.equal(await quitter.turn, false);
    assert.equal(gate.waiting, 1);
    first.leave();
    assert.equal(await patient.turn, true);
    assert.equal(gate.inProgress, 1);
    assert.equal(gate.waiting, 0);
  });

  test('leaving twice frees one place, not two', async () => {
    const gate = new WorkGate(2);
    const a = gate.enter();
    gate.enter();
    const c = gate.enter();
    a.leave();
    a.leave();
    assert.equal(await c.turn, true);
    const d = gate.enter();
    let dGranted = false;
    void d.turn.then((ok) => (dGranted = ok));
    await settle();
    assert.equal(dGranted, false, 'a second leave let one more in');
    assert.equal(gate.inProgress, 2);
    assert.equal(gate.waiting, 1);
  });

  test('a gate needs at least one place', () => {
    assert.throws(() => new WorkGate(0), /at least one place/);
  });
});

describe('the server', () => {
  let s: TestServer;
  let token: string;
  let patientId: string;

  before(async () => {
    s = await startTestServer();
    token = await s.login(['physician']);
    const patient = await s.cw.fhir.create(SYSTEM, 'Patient', {
      resourceType: 'Patient',
      name: [{ family: 'Gatekeeper' }],
      generalPractitioner: [{ reference: s.practitionerOf(token) }],
    });
    patientId = patient.id!;
  });

  after(async () => {
    await s?.close();
  });

  const read = (signal?: AbortSignal) =>
    fetch(`${s.url}/fhir/Patient/${patientId}`, { headers: { authorization: `Bearer ${token}` }, signal }).then(async (res) => {
      await res.arrayBuffer();
      return res.status;
    });

  /**
   * Waits until the gate shows these counts. Bounded, so that a place never freed fails the test
   * with the counts instead of hanging it (the bound is far beyond the milliseconds this takes).
   */
  async function gateShows(inProgress: number, waiting: number): Promise<void> {
    const gate = s.app.workGate!;
    for (let tries = 0; gate.inProgress !== inProgress || gate.waiting !== waiting; tries++) {
      if (tries === 4000) assert.fail(`the gate shows ${gate.inProgress} in progress and ${gate.waiting} waiting, not ${inProgress} and ${waiting}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  test('on PostgreSQL there is no gate (its pool queues in order, its backends work in parallel)', (t) => {
    if (!s.databaseUrl) return t.skip('the embedded database is in use: this is the PostgreSQL case');
    assert.equal(s.app.workGate, undefined);
  });

  test('requests beyond the places wait; clients who hang up, served or waiting, leave no place taken', async (t) => {
    if (s.databaseUrl) return t.skip('PostgreSQL: no gate to test');
    // The database held by a transaction: every request stops at its first statement.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let holding!: () => void;
    const holdingStarted = new Promise<void>((resolve) => (holding = resolve));
    const transaction = s.cw.db.transaction(async () => {
      holding();
      await held;
    });
    await holdingStarted;

    try {
      await hangUps();
    } finally {
      release();
      await transaction;
    }
    const statuses = await Promise.all(Array.from({ length: EMBEDDED_REQUESTS_AT_ONCE * 2 }, () => read()));
    assert.deepEqual(new Set(statuses), new Set([200]));
    await gateShows(0, 0);
  });

  async function hangUps() {
    const extra = 4;
    const controllers = Array.from({ length: EMBEDDED_REQUESTS_AT_ONCE + extra }, () => new AbortController());
    const requests = controllers.map((c) => read(c.signal).catch((err: Error) => err.name));
    await gateShows(EMBEDDED_REQUESTS_AT_ONCE, extra);

    for (const c of controllers) c.abort();
    assert.deepEqual(new Set(await Promise.all(requests)), new Set(['AbortError']));
    await gateShows(0, 0);
  }
});
