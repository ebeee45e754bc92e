/**
 * The database going away under a running server (issue 23): the process must stay up, answer 503
 * with Retry-After while the database is away (never 500), and serve again once it is back, with
 * every acknowledged write readable, the background jobs caught up and the audit log verifying.
 *
 * The shared server on 127.0.0.1:5432 is never stopped (other tests use it meanwhile): the cuts go
 * through a TCP proxy this file starts, and the restarts through a private instance it starts.
 * Carewall runs as a real child process, so that an exit is an exit.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, test, type TestContext } from 'node:test';
import { observation } from './helpers/fixtures.js';
import { call, freshDatabase } from './helpers/harness.js';
import {
  alive,
  assertAllReadable,
  assertAuditVerifies,
  awaitBackgroundJobsCaughtUp,
  backgroundJobsFailedSince,
  checkUnavailable,
  Load,
  startClinic,
  waitFor,
  type Clinic,
} from './helpers/outageLoad.js';
import { startPrivatePostgres, type PrivatePostgres } from './helpers/privatePostgres.js';
import { startTcpProxy, type TcpProxy } from './helpers/tcpProxy.js';

const cleanups: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

const started = await startPrivatePostgres();
const privatePg: PrivatePostgres | undefined = 'unavailable' in started ? undefined : started;
const noPrivate = 'unavailable' in started ? started.unavailable : undefined;
if (privatePg) cleanups.push(() => privatePg.close());
if (noPrivate) console.log(`# private PostgreSQL instance unavailable: ${noPrivate}`);

/** On the PostgreSQL run the proxy fronts the shared server (a fresh database); else the private instance. */
async function proxiedDatabase(): Promise<{ url: string; direct: string; proxy: TcpProxy }> {
  const shared = await freshDatabase();
  if (shared) cleanups.push(shared.drop);
  const direct = shared?.url ?? (await privatePg!.createDatabase('carewall_proxied'));
  const target = new URL(direct);
  const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port) });
  cleanups.push(() => proxy.close());
  target.port = String(proxy.port);
  return { url: target.toString(), direct, proxy };
}

async function startedClinic(url: string): Promise<Clinic> {
  const clinic = await startClinic(url);
  cleanups.push(async () => {
    await clinic.server.kill('SIGTERM');
    fs.rmSync(clinic.dataDir, { recursive: true, force: true });
  });
  return clinic;
}

/** After the load: alive, nothing but successes and well-formed 503s, nothing lost, the jobs caught up, the log whole. */
async function assertRecovered(t: TestContext, clinic: Clinic, load: Load, direct: string): Promise<void> {
  t.diagnostic(`acknowledged writes ${load.acked.length}, successful reads ${load.reads}, 503s ${load.unavailable}`);
  assert.ok(alive(clinic), 'the Carewall process is still running');
  assert.deepEqual(load.unexpected, []);
  await assertAllReadable(clinic, load.acked);
  await awaitBackgroundJobsCaughtUp(clinic, direct);
  await assertAuditVerifies(clinic);
}

describe('the connection to PostgreSQL cut (a proxy reset and stopped)', { skip: !process.env.DATABASE_URL && noPrivate ? noPrivate : undefined }, () => {
  let clinic: Clinic;
  let proxy: TcpProxy;
  let direct: string;
  before(async () => {
    const db = await proxiedDatabase();
    proxy = db.proxy;
    direct = db.direct;
    clinic = await startedClinic(db.url);
  });

  test('a cut while idle answers 503 with Retry-After, and the next request after it is back succeeds', async () => {
    const { url } = clinic.server;
    const token = clinic.token;
    const first = await call(url, 'POST', '/fhir/Observation', { token, body: observation(clinic.patientId) });
    assert.equal(first.status, 201);
    await proxy.cut();
    try {
      const read = await call(url, 'GET', `/fhir/Observation/${first.body.id}`, { token });
      assert.equal(read.status, 503, JSON.stringify(read.body));
      assert.equal(checkUnavailable(read, true), undefined);
      const write = await call(url, 'POST', '/fhir/Observation', { token, body: observation(clinic.patientId) });
      assert.equal(write.status, 503, JSON.stringify(write.body));
      assert.equal(checkUnavailable(write, true), undefined);
      // A route this physician may call and that reads the database: the session itself may be
      // answered from the process's cache (identity/sessionCache.ts), so a route that only refuses
      // a physician (403) need not reach the database at all.
      const api = await call(url, 'GET', '/api/awareness/reports/mine', { token });
      assert.equal(api.status, 503, JSON.stringify(api.body));
      assert.equal(checkUnavailable(api, false), undefined);
      assert.ok(alive(clinic));
    } finally {
      await proxy.resume();
    }
    await waitFor(clinic, 'a read to succeed again', async () => (await call(url, 'GET', `/fhir/Observation/${first.body.id}`, { token })).status === 200);
  });

  test('a cut under six loops of writes (and reads): the process stays up, 503 meanwhile, nothing acknowledged lost', async (t) => {
    const load = new Load(clinic);
    load.start(6, 2);
    try {
      await waitFor(clinic, '20 acknowledged writes', () => load.acked.length >= 20);
      const logged = clinic.server.output().length;
      await proxy.cut();
      const atCut = load.unavailable;
      await waitFor(clinic, '503s while the database is away', () => load.unavailable >= atCut + 12);
      await waitFor(clinic, 'the background jobs to meet the outage', () => backgroundJobsFailedSince(clinic, logged));
      await proxy.resume();
      const before = load.acked.length;
      await waitFor(clinic, '20 more acknowledged writes once it is back', () => load.acked.length >= before + 20);
    } finally {
      await proxy.resume();
      await load.stop();
    }
    await assertRecovered(t, clinic, load, direct);
  });
});

describe('a private PostgreSQL instance restarting under load', { skip: noPrivate }, () => {
  let clinic: Clinic;
  let url: string;
  before(async () => {
    url = await privatePg!.createDatabase('carewall_restarted');
    clinic = await startedClinic(url);
  });

  test('fast restart, then an immediate stop and start: the process stays up, 503 while down, nothing acknowledged lost', async (t) => {
    const pgi = privatePg!;
    const load = new Load(clinic);
    load.start(6, 2);
    try {
      await waitFor(clinic, '20 acknowledged writes', () => load.acked.length >= 20);
      await pgi.restartFast();
      let before = load.acked.length;
      await waitFor(clinic, '20 more acknowledged writes after the restart', () => load.acked.length >= before + 20);
      const logged = clinic.server.output().length;
      await pgi.stopImmediate();
      const atStop = load.unavailable;
      await waitFor(clinic, '503s while the server is down', () => load.unavailable >= atStop + 12);
      await waitFor(clinic, 'the background jobs to meet the outage', () => backgroundJobsFailedSince(clinic, logged));
      await pgi.start();
      before = load.acked.length;
      await waitFor(clinic, '20 more acknowledged writes after the start', () => load.acked.length >= before + 20);
    } finally {
      await load.stop();
    }
    await assertRecovered(t, clinic, load, url);
  });
});
