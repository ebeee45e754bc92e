/**
 * Durability: the server is killed with SIGKILL in the middle of a burst of writes and restarted.
 * Every write it acknowledged must be there, readable, and nothing may be half-written.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { call, currentOtp, prepareInstallation, PASSWORD } from './helpers/harness.js';
import { runCli, startCli } from './helpers/cli.js';
import { observation, patient } from './helpers/fixtures.js';

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups) await c();
});

test('SIGKILL during a burst of writes loses no acknowledged write and leaves nothing half-written', async () => {
  // An installation as `init` leaves it (init itself is tried in cli.test.ts), served by the real
  // binary; the administrator is added through the running server.
  const inst = await prepareInstallation();
  cleanups.push(inst.cleanup);
  const dataDir = inst.dataDir;
  const env = { DATABASE_URL: inst.databaseUrl };

  let server = await startCli(['start', '--data-dir', dataDir, '--port', '0'], env);
  // Whatever fails, the server running then is stopped and the writers end: none outlives the test.
  let stop = false;
  let writers: Array<Promise<void>> = [];
  try {
    const added = await runCli(['user', 'add', '--data-dir', dataDir, '--username', 'root-admin', '--roles', 'admin', '--password-stdin', '--json'], {
      env,
      input: PASSWORD,
    });
    assert.equal(added.code, 0, added.stderr);
    const { totpUri } = JSON.parse(added.stdout);
    const login = async (username: string, otp?: string) =>
      (await call(server.url, 'POST', '/api/session', { body: { username, password: PASSWORD, otp }, headers: { 'content-type': 'application/json' } })).body
        .token as string;
    const admin = await login('root-admin', currentOtp(totpUri));
    // The clinic directory is the admin's; the physician is the patient's general practitioner (a care relationship).
    const practitioner = await call(server.url, 'POST', '/fhir/Practitioner', {
      token: admin,
      body: { resourceType: 'Practitioner', name: [{ family: 'Burst' }] },
    });
    assert.equal(practitioner.status, 201);
    const gp = `Practitioner/${practitioner.body.id}`;
    const created = await call(server.url, 'POST', '/api/users', {
      token: admin,
      body: { username: 'dr-burst', password: PASSWORD, roles: ['physician'], practitioner: gp },
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const token = await login('dr-burst');
    const p = await call(server.url, 'POST', '/fhir/Patient', { token, body: patient('Crashtest', 'Ottoline', { generalPractitioner: [{ reference: gp }] }) });
    assert.equal(p.status, 201);

    // Four writers in parallel, each recording what the server acknowledged.
    const acked: Array<{ id: string; value: number }> = [];
    const refused: number[] = [];
    let n = 0;
    const writer = async () => {
      while (!stop) {
        const value = ++n;
        try {
          const res = await call(server.url, 'POST', '/fhir/Observation', { token, body: observation(p.body.id, '8867-4', value) });
          if (res.status === 201) acked.push({ id: res.body.id, value });
          else refused.push(res.status);
        } catch {
          return; // connection cut by the kill: not acknowledged
        }
      }
    };
    writers = [writer(), writer(), writer(), writer()];
    // Bounded: writes that are all refused, or a server that stopped answering, end the test.
    for (let i = 0; acked.length < 40; i++) {
      if (i >= 3000 || refused.length > 100) {
        assert.fail(`only ${acked.length} writes acknowledged (${refused.length} refused: ${[...new Set(refused)].join(', ')})`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    await server.kill('SIGKILL');
    stop = true;
    await Promise.all(writers);
    assert.ok(acked.length >= 40);

    server = await startCli(['start', '--data-dir', dataDir, '--port', '0'], env);
    const token2 = await login('dr-burst');
    for (const a of acked) {
      const res = await call(server.url, 'GET', `/fhir/Observation/${a.id}`, { token: token2 });
      assert.equal(res.status, 200, `acknowledged write ${a.id} lost`);
      assert.equal(res.body.valueQuantity.value, a.value);
    }
    // Nothing half-written: every stored Observation is whole, readable and findable.
    const all = await call(server.url, 'GET', `/fhir/Observation?patient=${p.body.id}&_count=1000`, { token: token2 });
    assert.equal(all.status, 200);
    assert.ok(all.body.total >= acked.length);
    assert.equal(all.body.entry.length, all.body.total);
    const history = await call(server.url, 'GET', '/fhir/Observation/_history?_count=1000', { token: token2 });
    assert.equal(history.body.total, all.body.total, 'one version per stored Observation, none orphaned');
  } finally {
    stop = true;
    await server.kill('SIGTERM');
    await Promise.all(writers);
  }
});
