/** The command-line contract: outside tools run exactly these commands. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { call, currentOtp, freshDatabase, PASSWORD, tempDir } from './helpers/harness.js';
import { runBinary, runCli, startCli } from './helpers/cli.js';
import { until } from './helpers/poll.js';

const cleanups: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** A scratch folder, removed after the servers started in it have stopped (a data folder is some 40 MB). */
function scratch(): string {
  const dir = tempDir();
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('carewall CLI', () => {
  test('init --json prints the administrator and an otpauth URI; start serves; login needs the second factor; keys rotate works while serving', async () => {
    const dataDir = path.join(scratch(), 'install');
    const db = await freshDatabase();
    if (db) cleanups.push(db.drop);
    const env = { DATABASE_URL: db?.url };
    const init = await runBinary(['init', '--data-dir', dataDir, '--admin-user', 'it-admin', '--admin-password-stdin', '--json'], {
      env,
      input: `${PASSWORD}\n`,
    });
    assert.equal(init.code, 0, init.stderr);
    const out = JSON.parse(init.stdout);
    assert.equal(out.username, 'it-admin');
    assert.match(out.totpUri, /^otpauth:\/\/totp\/.*secret=/);
    assert.equal(fs.statSync(path.join(dataDir, 'master.key')).mode & 0o777, 0o600);
    assert.ok(!init.stdout.includes(PASSWORD) && !init.stderr.includes(PASSWORD));

    const again = await runCli(['init', '--data-dir', dataDir, '--admin-user', 'x', '--admin-password-stdin', '--json'], { env, input: PASSWORD });
    assert.notEqual(again.code, 0, 'a second init must not overwrite an installation');
    assert.match(again.stderr, /already/);

    const server = await startCli(['start', '--data-dir', dataDir, '--port', '0', '--host', '127.0.0.1'], env);
    cleanups.push(() => server.kill('SIGTERM'));
    const login = (otp?: string) =>
      call(server.url, 'POST', '/api/session', { body: { username: 'it-admin', password: PASSWORD, otp }, headers: { 'content-type': 'application/json' } });
    assert.equal((await login()).status, 401, 'admin needs the second factor');
    const ok = await login(currentOtp(out.totpUri));
    assert.equal(ok.status, 201);
    assert.ok(ok.body.token && ok.body.expiresAt);
    const token = ok.body.token;
    // An administrator sees no patient data; the clinic directory is theirs (and encrypted all the same).
    const p = await call(server.url, 'POST', '/fhir/Practitioner', { token, body: { resourceType: 'Practitioner', name: [{ family: 'Clitest' }] } });
    assert.equal(p.status, 201);

    // The embedded database is held by the server: the server rotates, asked through its control socket.
    const before = JSON.parse(fs.readFileSync(path.join(dataDir, 'master.key'), 'utf8')).current;
    const rotate = await runCli(['keys', 'rotate', '--data-dir', dataDir], { env });
    assert.equal(rotate.code, 0, rotate.stderr);
    assert.match(rotate.stdout, /re-wrapped/);
    const afterKey = JSON.parse(fs.readFileSync(path.join(dataDir, 'master.key'), 'utf8'));
    assert.notEqual(afterKey.current, before);
    assert.equal((await call(server.url, 'GET', `/fhir/Practitioner/${p.body.id}`, { token })).status, 200);

    // Restarted with only the new key, everything is still readable.
    await server.kill('SIGTERM');
    const again2 = await startCli(['start', '--data-dir', dataDir, '--port', '0'], env);
    cleanups.push(() => again2.kill('SIGTERM'));
    const token2 = (
      await call(again2.url, 'POST', '/api/session', {
        body: { username: 'it-admin', password: PASSWORD, otp: currentOtp(out.totpUri, Date.now() + 30_000) },
        headers: { 'content-type': 'application/json' },
      })
    ).body.token;
    assert.equal((await call(again2.url, 'GET', `/fhir/Practitioner/${p.body.id}`, { token: token2 })).body.name[0].family, 'Clitest');
  });

  test('init refuses a short password and leaves no installation', async () => {
    const dataDir = path.join(scratch(), 'weak');
    const db = await freshDatabase();
    if (db) cleanups.push(db.drop);
    const res = await runCli(['init', '--data-dir', dataDir, '--admin-user', 'a', '--admin-password-stdin', '--json'], {
      env: { DATABASE_URL: db?.url },
      input: 'short',
    });
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /at least 10 characters/);
    assert.ok(!fs.existsSync(dataDir), 'refused before anything is made');
  });

  test('start on a folder that is not an installation explains what to do', async () => {
    const res = await runCli(['start', '--data-dir', path.join(scratch(), 'nothing')]);
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /carewall init/);
  });

  test('demo mode refuses to listen on a non-loopback address', async () => {
    const dataDir = path.join(scratch(), 'demo');
    const res = await runCli(['demo', '--data-dir', dataDir, '--host', '0.0.0.0', '--patients', '1']);
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /loopback|127\.0\.0\.1/);
  });

  test('demo serves a seeded clinic with working logins, and rebuilds a set-up that was interrupted', async () => {
    const dataDir = path.join(scratch(), 'demo');
    // What an interrupted first run leaves: a key file and a half-made database, no logins file.
    fs.mkdirSync(path.join(dataDir, 'pgdata'), { recursive: true });
    fs.writeFileSync(path.join(dataDir, 'master.key'), '{}', { mode: 0o600 });
    const demo = await startCli(['demo', '--data-dir', dataDir, '--port', '0', '--patients', '3'], { DATABASE_URL: 'postgres://never-used.invalid/db' });
    cleanups.push(() => demo.kill('SIGTERM'));
    assert.match(demo.output(), /did not finish; starting it again/);
    const logins = JSON.parse(fs.readFileSync(path.join(dataDir, 'demo-logins.json'), 'utf8'));
    const doctor = logins.find((l: any) => l.roles.includes('physician'));
    // The logins are printed right after the address: they must come through the pipe.
    await until('the demo logins printed', () => demo.output().includes(doctor.password));
    assert.ok(demo.output().includes(doctor.username) && demo.output().includes(doctor.password), 'logins are printed');
    const session = await call(demo.url, 'POST', '/api/session', {
      body: { username: doctor.username, password: doctor.password },
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(session.status, 201);
    // The front desk finds every patient; each physician only those in their care, and every patient has one.
    const desk = logins.find((l: any) => l.roles.includes('receptionist'));
    const deskSession = await call(demo.url, 'POST', '/api/session', {
      body: { username: desk.username, password: desk.password },
      headers: { 'content-type': 'application/json' },
    });
    assert.equal((await call(demo.url, 'GET', '/fhir/Patient', { token: deskSession.body.token })).body.total, 3);
    const cared = new Set<string>();
    for (const l of logins.filter((x: any) => x.roles.includes('physician'))) {
      const s = await call(demo.url, 'POST', '/api/session', {
        body: { username: l.username, password: l.password },
        headers: { 'content-type': 'application/json' },
      });
      const seen = await call(demo.url, 'GET', '/fhir/Patient', { token: s.body.token });
      assert.equal(seen.status, 200);
      for (const e of seen.body.entry ?? []) cared.add(e.resource.id);
    }
    assert.equal(cared.size, 3);
  });

  test('--help is there for every command; the real binary answers it', async () => {
    const binary = await runBinary(['--help']);
    assert.equal(binary.code, 0, binary.stderr);
    assert.match(binary.stdout, /Usage: carewall/);
    for (const args of [
      ['init'],
      ['start'],
      ['demo'],
      ['demo-code'],
      ['keys', 'rotate'],
      ['user'],
      ['user', 'add'],
      ['audit', 'verify'],
      ['import'],
      ['client', 'add'],
      ['backup', 'run'],
      ['backup', 'restore'],
      ['guard', 'watch'],
      ['monitor', 'scan'],
      ['vault', 'serve'],
    ]) {
      const res = await runCli([...args, '--help']);
      assert.equal(res.code, 0, args.join(' '));
      assert.match(res.stdout, new RegExp(`Usage: carewall ${args.join(' ')}`));
    }
  });
});
