/**
 * The decision cache (src/access/contextCache.ts) must never let a revoked relationship through:
 * not in the process that revoked it, not after a relationship runs out on its own, not (within a
 * second) in another process, and not when its notification channel stops answering.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Resource } from '@medplum/fhirtypes';
import { SYSTEM, type Who } from '../src/shared/index.js';
import { ContextCache } from '../src/access/contextCache.js';
import type { Database } from '../src/db/database.js';
import { createLogger } from '../src/log.js';
import { openCarewall, type Carewall } from '../src/runtime.js';
import { call, startTestServer, type TestServer } from './helpers/harness.js';
import { observation } from './helpers/fixtures.js';
import { aheadOfDatabaseClock, databaseClockPast } from './helpers/poll.js';
import { sharedPostgres, sharedPostgresUnavailable } from './helpers/sharedPostgres.js';

describe('with the cache serving decisions', () => {
  let s: TestServer;
  let token: string;
  let me: string;
  const make = async (body: Resource) => (await s.cw.fhir.create(SYSTEM, body.resourceType, body)).resource as Resource & { id: string };
  /** A patient with one observation; `team` adds a care team naming the physician. */
  const chart = async (team?: (patientId: string) => Resource) => {
    const p = await make({ resourceType: 'Patient', name: [{ family: 'Cachet' }] });
    const t = team ? await make(team(p.id)) : undefined;
    const o = await make(observation(p.id) as Resource);
    return { patient: p.id, observation: o.id, team: t };
  };
  const read = async (path: string) => (await call(s.url, 'GET', path, { token })).status;

  before(async () => {
    // No lead time before an appointment, so that one starting in a second opens the chart then.
    s = await startTestServer({ access: { appointmentHoursBefore: 0, appointmentHoursAfter: 0 } });
    token = await s.login(['physician'], 'dr-cache');
    me = s.practitionerOf(token);
    await s.cw.access.contexts.caughtUp();
    assert.ok(s.cw.access.contexts.live, 'the cache is serving');
  });
  after(() => s?.close());

  test('a care team left is refused at once by the process that recorded it, though the decision was cached', async () => {
    const c = await chart((patient) => ({
      resourceType: 'CareTeam',
      status: 'active',
      subject: { reference: `Patient/${patient}` },
      participant: [{ member: { reference: me } }],
    }));
    assert.equal(await read(`/fhir/Observation/${c.observation}`), 200);
    assert.equal(await read(`/fhir/Observation/${c.observation}`), 200);
    await s.cw.fhir.update(SYSTEM, 'CareTeam', c.team!.id, { ...c.team!, status: 'inactive' });
    assert.equal(await read(`/fhir/Observation/${c.observation}`), 403);
    assert.equal(await read(`/fhir/Patient/${c.patient}`), 403);
  });

  test('a membership that runs out closes the chart when it ends, with no write to announce it', async () => {
    // The first read counts only if made while the membership held (aheadOfDatabaseClock checks).
    const { at: ends, seen: c } = await aheadOfDatabaseClock(s.cw.db, async (ends) => {
      const c = await chart((patient) => ({
        resourceType: 'CareTeam',
        status: 'active',
        subject: { reference: `Patient/${patient}` },
        participant: [{ member: { reference: me }, period: { end: ends } }],
      }));
      return { ...c, before: await read(`/fhir/Observation/${c.observation}`) };
    });
    assert.equal(c.before, 200);
    await databaseClockPast(s.cw.db, ends);
    assert.equal(await read(`/fhir/Observation/${c.observation}`), 403);
  });

  test('an appointment opens the chart when it starts, though a refusal was cached before', async () => {
    // The refusals count only if given before the appointment began (aheadOfDatabaseClock checks).
    const { at: starts, seen: c } = await aheadOfDatabaseClock(s.cw.db, async (starts) => {
      const c = await chart();
      await make({
        resourceType: 'Appointment',
        status: 'booked',
        start: starts,
        end: new Date(Date.now() + 3_600_000).toISOString(),
        participant: [
          { actor: { reference: `Patient/${c.patient}` }, status: 'accepted' },
          { actor: { reference: me }, status: 'accepted' },
        ],
      });
      return { ...c, before: [await read(`/fhir/Observation/${c.observation}`), await read(`/fhir/Observation/${c.observation}`)] };
    });
    assert.deepEqual(c.before, [403, 403]);
    await databaseClockPast(s.cw.db, starts);
    assert.equal(await read(`/fhir/Observation/${c.observation}`), 200);
  });

  test('break-the-glass opens a chart whose refusal was cached', async () => {
    const c = await chart();
    assert.equal(await read(`/fhir/Observation/${c.observation}`), 403);
    const bg = await call(s.url, 'POST', '/api/break-glass', {
      token,
      body: { patient: c.patient, reason: 'emergency-treatment', justification: 'unconscious in the waiting room' },
    });
    assert.equal(bg.status, 201, JSON.stringify(bg.body));
    assert.equal(await read(`/fhir/Observation/${c.observation}`), 200);
  });

  test(
    'another process sharing the database stops using its cached decision once the revocation reaches it',
    { skip: sharedPostgresUnavailable() },
    async () => {
      // Its own server, on PostgreSQL even under the default command: two processes share its database.
      const own = await startTestServer({}, undefined, { postgres: await sharedPostgres() });
      let other: Carewall | undefined;
      try {
        const doctor = own.practitionerOf(await own.login(['physician'], 'dr-cache'));
        other = await openCarewall(own.cw.settings, createLogger('silent'));
        const ownMake = async (body: Resource) => (await own.cw.fhir.create(SYSTEM, body.resourceType, body)).resource as Resource & { id: string };
        const patient = (await ownMake({ resourceType: 'Patient', name: [{ family: 'Cachet' }] })).id;
        const team = await ownMake({
          resourceType: 'CareTeam',
          status: 'active',
          subject: { reference: `Patient/${patient}` },
          participant: [{ member: { reference: doctor } }],
        });
        const obs = (await ownMake(observation(patient) as Resource)).id;
        const who: Who = { accountId: 'acct-cache', username: 'dr-cache', roles: ['physician'], practitioner: doctor };
        const target = { resourceType: 'Observation', id: obs, patientId: patient, labels: [] };
        await other.access.contexts.caughtUp();
        assert.ok(other.access.contexts.live);
        assert.equal((await other.access.decide(who, 'read', 'read', target)).allowed, true);
        assert.equal((await other.access.decide(who, 'read', 'read', target)).allowed, true);
        // The revocation is written by this process; the other learns of it only through the database.
        await own.cw.fhir.update(SYSTEM, 'CareTeam', team.id, { ...team, status: 'inactive' });
        // Once a heartbeat sent after the commit has come back, the revocation's notification (sent
        // before it on the same channel) has been applied. How long that may take at most is the
        // cache's own rule, tried with a clock below.
        await other.access.contexts.caughtUp();
        assert.equal((await other.access.decide(who, 'read', 'read', target)).allowed, false);
      } finally {
        await other?.close();
        await own.close();
      }
    },
  );
});

/** A stand-in database for the cache's own rules: notifications are delivered only while `deliver`. */
function fakeDatabase(singleProcess = false) {
  let listener: ((payload: string) => void) | undefined;
  const fake = {
    deliver: true,
    db: {
      kind: 'postgres',
      singleProcess,
      async query(_sql: string, params?: unknown[]) {
        const payload = String(params?.[1] ?? '');
        if (fake.deliver) setImmediate(() => listener?.(payload));
        return { rows: [], rowCount: 0 };
      },
      async exec() {},
      async transaction() {
        throw new Error('not used');
      },
      async listen(_channel: string, onMessage: (p: string) => void) {
        listener = onMessage;
        return async () => {
          listener = undefined;
        };
      },
      async close() {},
    } as unknown as Database,
  };
  return fake;
}

describe('the cache on its own', () => {
  test('serves nothing once its heartbeat has not come back for a second', async () => {
    const fake = fakeDatabase();
    let now = 1_000_000;
    const cache = new ContextCache<string>(fake.db, { now: () => now });
    await cache.start();
    await cache.caughtUp();
    assert.ok(cache.live);
    cache.set(cache.ticket(), 'caller', 'Practitioner/a', 'p1', 'allowed', cache.now(), null);
    now += 999;
    assert.equal(cache.get('caller', 'p1'), 'allowed', 'still within the second');
    fake.deliver = false; // the channel lags or is cut
    now += 2;
    assert.equal(cache.live, false);
    assert.equal(cache.get('caller', 'p1'), undefined);
    await cache.stop();
  });

  test('a load that overlapped a change is not kept', async () => {
    const cache = new ContextCache<string>(fakeDatabase(true).db);
    await cache.start();
    const ticket = cache.ticket();
    cache.forget({ patients: ['p1'] }); // a revocation lands while the context was being read
    cache.set(ticket, 'caller', 'Practitioner/a', 'p1', 'allowed (stale)', cache.now(), null);
    assert.equal(cache.get('caller', 'p1'), undefined);
    await cache.stop();
  });

  test('a change drops the patients and practitioners it names, and only those', async () => {
    const cache = new ContextCache<string>(fakeDatabase(true).db);
    await cache.start();
    const put = (caller: string, practitioner: string, patient: string) =>
      cache.set(cache.ticket(), caller, practitioner, patient, `${caller}:${patient}`, cache.now(), null);
    put('a', 'Practitioner/a', 'p1');
    put('a', 'Practitioner/a', 'p2');
    put('b', 'Practitioner/b', 'p2');
    put('b', 'Practitioner/b', 'p3');
    cache.forget({ patients: ['p1'] });
    assert.equal(cache.get('a', 'p1'), undefined);
    assert.equal(cache.get('a', 'p2'), 'a:p2');
    cache.forget({ members: ['Practitioner/b'] });
    assert.equal(cache.get('b', 'p2'), undefined);
    assert.equal(cache.get('b', 'p3'), undefined);
    assert.equal(cache.get('a', 'p2'), 'a:p2');
    cache.forget({ all: true });
    assert.equal(cache.get('a', 'p2'), undefined);
    await cache.stop();
  });

  test('when full, the least recently used pair makes room, and the others stay', async () => {
    const cache = new ContextCache<string>(fakeDatabase(true).db, performance, 3);
    await cache.start();
    const put = (caller: string, patient: string) =>
      cache.set(cache.ticket(), caller, `Practitioner/${caller}`, patient, `${caller}:${patient}`, cache.now(), null);
    put('a', 'p1');
    put('a', 'p2');
    put('b', 'p2');
    assert.equal(cache.get('a', 'p1'), 'a:p1', 'read again: now the most recently used');
    put('b', 'p3'); // one too many: (a, p2) has waited longest
    assert.equal(cache.size, 3);
    assert.equal(cache.get('a', 'p2'), undefined);
    assert.equal(cache.get('a', 'p1'), 'a:p1');
    assert.equal(cache.get('b', 'p2'), 'b:p2');
    assert.equal(cache.get('b', 'p3'), 'b:p3');
    // A patient's pairs are still dropped together after others were pushed out.
    cache.forget({ patients: ['p2'] });
    assert.equal(cache.get('b', 'p2'), undefined);
    assert.equal(cache.get('b', 'p3'), 'b:p3');
    assert.equal(cache.size, 2);
    await cache.stop();
  });

  test('an ended entry leaves the cache, and one already over is not kept', async () => {
    let now = 5_000;
    const cache = new ContextCache<string>(fakeDatabase(true).db, { now: () => now });
    await cache.start();
    cache.set(cache.ticket(), 'a', 'Practitioner/a', 'p1', 'allowed', cache.now(), 0.05);
    cache.set(cache.ticket(), 'b', 'Practitioner/b', 'p1', 'allowed', cache.now(), null);
    const startedLongAgo = now - 200;
    cache.set(cache.ticket(), 'c', 'Practitioner/c', 'p1', 'allowed', startedLongAgo, 0.1);
    assert.equal(cache.size, 2, 'a context whose time ran out during its load is not kept');
    now += 50;
    assert.equal(cache.get('a', 'p1'), undefined);
    assert.equal(cache.size, 1);
    assert.equal(cache.get('b', 'p1'), 'allowed');
    await cache.stop();
  });

  test('an entry ends when time alone would change it', async () => {
    let now = 5_000;
    const cache = new ContextCache<string>(fakeDatabase(true).db, { now: () => now });
    await cache.start();
    cache.set(cache.ticket(), 'a', 'Practitioner/a', 'p1', 'allowed', cache.now(), 0.05);
    now += 49;
    assert.equal(cache.get('a', 'p1'), 'allowed');
    now += 1;
    assert.equal(cache.get('a', 'p1'), undefined);
    await cache.stop();
  });
});
