/**
 * On the embedded database the server works on a few requests at once and the rest wait their turn
 * in arrival order (src/http/workGate.ts): a long tail of overtaken requests otherwise. The gate
 * itself first, then the server: clients who hang up never leave places taken.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { SYSTEM } from '../src/shared/index.js';
import Fastify from 'fastify';
import { EMBEDDED_REQUESTS_AT_ONCE, registerWorkGate, WorkGate } from '../src/http/workGate.js';
import { startTestServer, type TestServer } from './helpers/harness.js';
import { patient, treatedBy } from './helpers/fixtures.js';

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
    treatedBy(s.practitionerOf(token));
    patientId = (await s.cw.fhir.create(SYSTEM, 'Patient', patient())).id!;
  });

  after(async () => {
    await s?.close();
  });

  const read = (signal?: AbortSignal) =>
    fetch(`${s.url}/fhir/Patient/${patientId}`, { headers: { authorization: `Bearer ${token}` }, signal }).then(async (res) => {
      await res.arrayBuffer();
      return res.status;
    });

  test('the embedded database has a gate of 8 places; PostgreSQL none (its pool queues in order, its backends work in parallel)', () => {
    if (s.databaseUrl) assert.equal(s.app.workGate, undefined);
    else assert.equal(s.app.workGate?.places, EMBEDDED_REQUESTS_AT_ONCE);
  });

  test('callers still sending their bodies hold no place: others are served meanwhile', async (t) => {
    if (s.databaseUrl) return t.skip('PostgreSQL: no gate to test');
    const port = Number(new URL(s.url).port);
    const stalled = Array.from({ length: EMBEDDED_REQUESTS_AT_ONCE + 4 }, () => {
      const socket = net.connect(port, '127.0.0.1');
      let answered = false;
      socket.on('data', () => (answered = true));
      socket.on('error', () => undefined);
      // Headers and a sliver of a megabyte's body, then nothing: a caller on a bad line, or an attack.
      socket.write(
        [
          `POST /fhir/Observation HTTP/1.1`,
          'Host: 127.0.0.1',
          `Authorization: Bearer ${token}`,
          'Content-Type: application/fhir+json',
          'Content-Length: 1048576',
          '',
          '',
        ].join('\r\n') + ' '.repeat(1024),
      );
      return { socket, answered: () => answered };
    });
    try {
      const connections = () => new Promise<number>((resolve, reject) => s.app.server.getConnections((err, n) => (err ? reject(err) : resolve(n))));
      while ((await connections()) < stalled.length) await new Promise((resolve) => setTimeout(resolve, 5));
      assert.equal(await read(), 200);
      assert.deepEqual(
        stalled.map((st) => st.answered()),
        stalled.map(() => false),
        'the read was answered only after the stalled bodies were cut off',
      );
      assert.equal(s.app.workGate!.inProgress, 0);
    } finally {
      for (const st of stalled) st.socket.destroy();
    }
  });
});

describe('the gate in front of handlers', () => {
  // A server of its own whose one route waits until the test lets it go: what the gate does
  // around a handler, whatever the handler waits on.
  const app = Fastify();
  const gate = new WorkGate(3);
  registerWorkGate(app, gate);
  let letGo!: () => void;
  let handlersMayFinish = new Promise<void>((resolve) => (letGo = resolve));
  let handling = 0;
  app.get('/work', async () => {
    handling++;
    await handlersMayFinish;
    handling--;
    return { done: true };
  });
  let url: string;

  before(async () => {
    url = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  after(async () => {
    letGo();
    await app.close();
  });

  const work = (signal?: AbortSignal) => fetch(`${url}/work`, { signal }).then((res) => res.status);

  /**
   * Waits until the gate shows these counts. Bounded, so that a place never freed fails the test
   * with the counts instead of hanging it (the bound is far beyond the milliseconds this takes).
   */
  async function gateShows(inProgress: number, waiting: number): Promise<void> {
    for (let tries = 0; gate.inProgress !== inProgress || gate.waiting !== waiting; tries++) {
      if (tries === 4000) assert.fail(`the gate shows ${gate.inProgress} in progress and ${gate.waiting} waiting, not ${inProgress} and ${waiting}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  test('requests beyond the places wait, and only as many handlers run as there are places', async () => {
    const requests = Array.from({ length: 5 }, () => work());
    await gateShows(3, 2);
    assert.equal(handling, 3);
    letGo();
    assert.deepEqual(await Promise.all(requests), [200, 200, 200, 200, 200]);
    await gateShows(0, 0);
    handlersMayFinish = new Promise<void>((resolve) => (letGo = resolve));
  });

  test('clients who hang up, being served or waiting, leave no place taken', async () => {
    const controllers = Array.from({ length: 5 }, () => new AbortController());
    const requests = controllers.map((c) => work(c.signal).catch((err: Error) => err.name));
    await gateShows(3, 2);
    for (const c of controllers) c.abort();
    assert.deepEqual(new Set(await Promise.all(requests)), new Set(['AbortError']));
    await gateShows(0, 0);
    letGo();
    assert.deepEqual(await Promise.all(Array.from({ length: 6 }, () => work())), [200, 200, 200, 200, 200, 200]);
    await gateShows(0, 0);
    handlersMayFinish = new Promise<void>((resolve) => (letGo = resolve));
  });
});
