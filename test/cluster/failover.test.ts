/**
 * The cluster of scripts/cluster (a primary and a synchronous streaming replica, PgBouncer, HAProxy
 * in front of several Carewall processes), under a mixed load through HAProxy, with the primary
 * killed and the replica promoted in the middle. Run by `npm run test:cluster`, which starts the
 * cluster first and removes it after (CI: .ci/run); never part of `npm test`, which needs no root.
 *
 * Before the failover: searches run on the replica, yet a caller always finds their own write and a
 * revocation holds within a second, even with the replica's replay stopped.
 *
 * What a hospital relies on, checked after the failover:
 *  - no acknowledged write is lost (every 201 the load saw is there on the new primary),
 *  - every process serves again by itself (nothing restarted),
 *  - a revoked care relationship is refused by every process within a second,
 *  - the audit log verifies end to end across the failover.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import type { Resource } from '@medplum/fhirtypes';
import pg from 'pg';
import { loadSettings } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { openCarewall, type Carewall } from '../../src/runtime.js';
import { SYSTEM } from '../../src/shared/index.js';
import { call, currentOtp, PASSWORD } from '../helpers/harness.js';
import { observation } from '../helpers/fixtures.js';
import { Seeded, testSeed } from '../helpers/seeded.js';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');
const CLUSTER_DIR = process.env.CLUSTER_DIR ?? '/tmp/carewall-cluster';

interface ClusterDescription {
  balancer: string;
  replica: string;
  processes: Array<{ url: string; dataDir: string }>;
  bouncer: string;
  bouncerSession: string;
  synchronousCommit: boolean;
}

const cluster = JSON.parse(fs.readFileSync(path.join(CLUSTER_DIR, 'cluster.json'), 'utf8')) as ClusterDescription;
const env = {
  DATABASE_URL: cluster.bouncer,
  DATABASE_LISTEN_URL: cluster.bouncerSession,
  DATABASE_POOLER: 'transaction',
  DATABASE_REPLICA_URL: cluster.replica,
};

/** How many requests the load makes, and after how many of them the primary dies. */
const REQUESTS = 1200;
const FAILOVER_AFTER = 400;
const WORKERS = 12;
const CLINICIANS = 4;
const PATIENTS_EACH = 5;

interface Clinician {
  token: string;
  practitioner: string;
  patients: string[];
  teams: Array<Resource & { id: string }>;
}

let cw: Carewall;
const clinicians: Clinician[] = [];

/** A clinician signs in through the balancer, as staff would. */
async function signIn(username: string, totpUri: string | undefined): Promise<string> {
  const res = await call(cluster.balancer, 'POST', '/api/session', {
    body: { username, password: PASSWORD, otp: totpUri ? currentOtp(totpUri) : undefined },
    headers: { 'content-type': 'application/json' },
  });
  assert.equal(res.status, 201, `sign-in of ${username}`);
  return res.body.token as string;
}

before(async () => {
  // Setting up the clinic goes straight to the database through PgBouncer, as a fourth process.
  cw = await openCarewall(loadSettings(cluster.processes[0].dataDir, env), createLogger('silent'));
  const run = Date.now().toString(36);
  for (let c = 0; c < CLINICIANS; c++) {
    const username = `cluster-dr-${run}-${c}`;
    const doctor = await cw.fhir.create(SYSTEM, 'Practitioner', { resourceType: 'Practitioner', name: [{ family: username }] });
    const practitioner = `Practitioner/${doctor.id}`;
    const account = await cw.identity.createAccount({ username, password: PASSWORD, roles: ['physician'], practitioner });
    const patients: string[] = [];
    const teams: Clinician['teams'] = [];
    for (let p = 0; p < PATIENTS_EACH; p++) {
      const patient = await cw.fhir.create(SYSTEM, 'Patient', { resourceType: 'Patient', name: [{ family: `Failover${c}x${p}`, given: ['Ada'] }] });
      patients.push(patient.id);
      const team = await cw.fhir.create(SYSTEM, 'CareTeam', {
        resourceType: 'CareTeam',
        status: 'active',
        subject: { reference: `Patient/${patient.id}` },
        participant: [{ member: { reference: practitioner } }],
      });
      teams.push(team.resource as Resource & { id: string });
    }
    clinicians.push({ token: await signIn(username, account.totpUri), practitioner, patients, teams });
  }
});

after(async () => {
  await cw?.close();
});

/** Index and sequential scans of the record tables on the replica: rises when searches run there. */
async function replicaScans(): Promise<number> {
  const c = new pg.Client({ connectionString: cluster.replica });
  await c.connect();
  try {
    const r = await c.query<{ n: string }>(
      "select coalesce(sum(coalesce(idx_scan, 0) + coalesce(seq_scan, 0)), 0)::text as n from pg_stat_user_tables where relname like 'records_%'",
    );
    return Number(r.rows[0].n);
  } finally {
    await c.end();
  }
}

/** Replay on the replica paused (it keeps receiving WAL, so synchronous commits go on) while `fn` runs. */
async function withReplayPaused<T>(fn: () => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: cluster.replica });
  await c.connect();
  try {
    await c.query('select pg_wal_replay_pause()');
    return await fn();
  } finally {
    await c.query('select pg_wal_replay_resume()');
    await c.end();
  }
}

const searchIds = async (base: string, token: string, patient: string) => {
  const res = await call(base, 'GET', `/fhir/Observation?patient=${patient}&_count=1000`, { token });
  assert.equal(res.status, 200);
  return ((res.body.entry ?? []) as Array<{ resource: { id: string } }>).map((e) => e.resource.id);
};

test("searches run on the replica, yet never miss the caller's own write and never outlast a revocation by a second", async () => {
  const doctor = clinicians[2];
  const patient = doctor.patients[1];
  // The replica takes the searches: its scans of the record tables rise while they run.
  const before = await replicaScans();
  let after = before;
  for (let round = 0; round < 100 && after <= before; round++) {
    for (let i = 0; i < 10; i++) await searchIds(cluster.balancer, doctor.token, patient);
    after = await replicaScans();
  }
  assert.ok(after > before, 'searches ran on the replica');

  // Read-your-writes: with the replica's replay stopped, a new Observation is found at once, by every process.
  await withReplayPaused(async () => {
    const created = await call(cluster.balancer, 'POST', '/fhir/Observation', { token: doctor.token, body: observation(patient, '8867-4', 77) });
    assert.equal(created.status, 201);
    for (const p of cluster.processes) {
      assert.ok((await searchIds(p.url, doctor.token, patient)).includes(created.body.id as string), `${p.url} finds the caller's own new Observation`);
    }
  });

  // A revocation while the replica's replay is stopped: a second later no process shows the patient.
  const victim = clinicians[3];
  const team = victim.teams[1];
  const victimPatient = victim.patients[1];
  await call(cluster.balancer, 'POST', '/fhir/Observation', { token: victim.token, body: observation(victimPatient) });
  assert.ok((await searchIds(cluster.balancer, victim.token, victimPatient)).length > 0, 'before the revocation');
  await withReplayPaused(async () => {
    await cw.fhir.update(SYSTEM, 'CareTeam', team.id, { ...team, status: 'inactive' } as Resource);
    const revokedAt = Date.now();
    const late: string[] = [];
    let checked = 0;
    while (checked < 3 * cluster.processes.length) {
      for (const p of cluster.processes) {
        const askedAt = Date.now();
        const ids = await searchIds(p.url, victim.token, victimPatient);
        if (askedAt - revokedAt > 1000) {
          checked++;
          if (ids.length > 0) late.push(`${p.url} showed ${ids.length} ${askedAt - revokedAt} ms after the revocation`);
        }
      }
    }
    assert.deepEqual(late, [], 'a lagging replica never serves a revoked relationship a second later');
  });
  // No longer this clinician's patient: the load that follows reads only their own.
  victim.patients.splice(1, 1);
  victim.teams.splice(1, 1);
});

/** A request through the balancer; 503 (the database away) is tried again, as a client does. */
async function persist(method: string, pathname: string, token: string, body?: unknown) {
  for (let attempt = 0; ; attempt++) {
    const res = await call(cluster.balancer, method, pathname, { token, body });
    if (res.status !== 503 && res.status !== 502) return { ...res, attempts: attempt + 1 };
    if (attempt > 200) return { ...res, attempts: attempt + 1 };
    await new Promise((r) => setTimeout(r, 100)); // a client's back-off between tries, not a wait for an outcome
  }
}

test('a failover under load loses no acknowledged write, every process carries on, revocation holds and the audit log verifies', async () => {
  const rng = new Seeded(testSeed(33));
  const random = () => rng.next();
  const acknowledged: Array<{ id: string; clinician: Clinician; patient: string }> = [];
  const unavailable = { count: 0 };
  let started = 0;
  let failover: Promise<unknown> | undefined;
  const statuses = new Map<number, number>();

  const worker = async () => {
    while (started < REQUESTS) {
      const n = started++;
      if (n === FAILOVER_AFTER) failover = run('bash', [path.join(ROOT, 'scripts/cluster'), 'failover'], { cwd: ROOT });
      const clinician = clinicians[Math.floor(random() * clinicians.length)];
      const patient = clinician.patients[Math.floor(random() * clinician.patients.length)];
      const kind = random();
      let res;
      if (kind < 0.4) {
        res = await persist('POST', '/fhir/Observation', clinician.token, observation(patient, '8867-4', 60 + (n % 40)));
        if (res.status === 201) acknowledged.push({ id: res.body.id as string, clinician, patient });
        else assert.fail(`a create ended with ${res.status} after ${res.attempts} tries`);
      } else if (kind < 0.7) {
        res = await persist('GET', `/fhir/Patient/${patient}`, clinician.token);
        assert.equal(res.status, 200, 'a clinician reads their own patient');
      } else {
        res = await persist('GET', `/fhir/Observation?patient=${patient}&_count=5`, clinician.token);
        assert.equal(res.status, 200, "a clinician searches their own patient's observations");
      }
      if (res.attempts > 1) unavailable.count++;
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: WORKERS }, worker));
  assert.ok(failover, 'the failover was started during the load');
  await failover;
  console.log(`load: ${REQUESTS} requests, ${acknowledged.length} creates acknowledged, ${unavailable.count} needed more than one try`);

  // The new primary is the old replica: nothing acknowledged may be missing from it.
  for (const { id, clinician } of acknowledged) {
    const res = await persist('GET', `/fhir/Observation/${id}`, clinician.token);
    assert.equal(res.status, 200, 'an acknowledged Observation is on the new primary');
  }

  // Every process serves again by itself (none was restarted): asked directly, not through the balancer.
  const probe = clinicians[0];
  for (const p of cluster.processes) {
    let status = 0;
    for (let i = 0; i < 300 && status !== 200; i++) {
      status = (await call(p.url, 'GET', `/fhir/Patient/${probe.patients[0]}`, { token: probe.token })).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(status, 200, `process ${p.url} serves after the failover`);
  }

  // A revocation on the new primary holds in every process within a second (rule 9).
  const victim = clinicians[1];
  const team = victim.teams[0];
  const patient = victim.patients[0];
  for (const p of cluster.processes) {
    assert.equal((await call(p.url, 'GET', `/fhir/Patient/${patient}`, { token: victim.token })).status, 200, 'before the revocation');
  }
  await cw.fhir.update(SYSTEM, 'CareTeam', team.id, { ...team, status: 'inactive' } as Resource);
  const revokedAt = Date.now();
  const lateAnswers: string[] = [];
  let checkedAfter = 0;
  while (checkedAfter < 3 * cluster.processes.length) {
    for (const p of cluster.processes) {
      const askedAt = Date.now();
      const status = (await call(p.url, 'GET', `/fhir/Patient/${patient}`, { token: victim.token })).status;
      if (askedAt - revokedAt > 1000) {
        checkedAfter++;
        if (status !== 403) lateAnswers.push(`${p.url} answered ${status} ${askedAt - revokedAt} ms after the revocation`);
      }
    }
  }
  assert.deepEqual(lateAnswers, [], 'no process serves a revoked relationship a second after it was revoked');

  // The audit log: one consistent tree across the failover, checked from its records up.
  const { stdout } = await run('node', [path.join(ROOT, 'dist/cli/main.js'), 'audit', 'verify', '--data-dir', cluster.processes[1].dataDir, '--json'], {
    cwd: ROOT,
    env: { ...process.env, ...env },
  });
  const report = JSON.parse(stdout) as { ok: boolean; size: number; checkpointsChecked: number };
  assert.equal(report.ok, true, 'the audit log verifies after the failover');
  assert.ok(report.size > REQUESTS, 'every request of the load is in the log');
  console.log(`audit log: ${report.size} records, ${report.checkpointsChecked} checkpoints, verified; statuses ${JSON.stringify([...statuses])}`);
});
