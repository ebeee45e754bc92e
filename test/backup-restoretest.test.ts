/** Restore tests: restored into scratch, checked, and their signed evidence recorded by the server. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { LocalBackend } from '../src/backup/backend.js';
import { parseRecoveryKey } from '../src/backup/crypto.js';
import { RepositoryReader } from '../src/backup/repository.js';
import { runRestoreTest } from '../src/backup/restoreTest.js';
import { ALL_MIGRATIONS } from '../src/runtime.js';
import { backupFixture, type BackupFixture } from './helpers/backupFixture.js';
import { call } from './helpers/harness.js';
import { withoutCredentials } from '../src/backup/index.js';

let f: BackupFixture;
let first: string;

before(async () => {
  f = await backupFixture();
  first = (await f.server.cw.backups.run('manual')).snapshot;
});
after(async () => f.close());

const reader = () => RepositoryReader.open(new LocalBackend(f.repoDir), parseRecoveryKey(f.recoveryKey));

test('a restore test restores into scratch, checks everything, and its signed evidence is recorded by the server', async () => {
  const report = await runRestoreTest(await reader(), ALL_MIGRATIONS, { snapshot: first, postgresUrl: process.env.DATABASE_URL });
  assert.equal(report.ok, true, report.problems.join('; '));
  assert.equal(report.auditVerified, true);
  assert.ok(report.chunks > 5 && report.rows > 0 && report.files === Object.keys(f.hashes).length);
  assert.ok(report.seconds > 0);
  assert.equal(await f.server.cw.backups.importEvidence(), 1);
  assert.equal(await f.server.cw.backups.importEvidence(), 0, 'recorded once');
  const tests = await f.server.cw.backups.restoreTests();
  assert.equal(tests.length, 1);
  assert.equal((tests[0] as { ok: boolean }).ok, true);
  const runs = await f.server.cw.backups.runs();
  assert.ok(runs.length >= 1 && runs.every((x) => (x as { ok: boolean }).ok));
});

test("where backups stand, for the administrator's overview: the repository, the last run and success, the last restore test; nobody else", async () => {
  const admin = await f.server.login(['admin']);
  const res = await call(f.server.url, 'GET', '/api/backups/status', { token: admin });
  assert.equal(res.status, 200);
  const runs = (await f.server.cw.backups.runs(1)) as Array<{ started_at: Date }>;
  const tested = (await f.server.cw.backups.restoreTests(1)) as Array<{ tested_at: Date }>;
  assert.equal(res.body.setUp, true);
  assert.equal(res.body.repository, f.repoDir);
  assert.deepEqual([res.body.lastRun.ok, res.body.lastRun.at], [true, runs[0]!.started_at.toISOString()]);
  assert.equal(res.body.lastSuccessAt, res.body.lastRun.at);
  assert.deepEqual([res.body.lastRestoreTest.ok, res.body.lastRestoreTest.at], [true, tested[0]!.tested_at.toISOString()]);
  for (const role of ['physician', 'privacy-officer'] as const) {
    assert.equal((await call(f.server.url, 'GET', '/api/backups/status', { token: await f.server.login([role]) })).status, 403, role);
  }
});

test('a repository address is shown without the credentials it may carry', () => {
  assert.equal(withoutCredentials('https://backup:s3cret@vault.clinic.example:8443/repo?token=abc'), 'https://vault.clinic.example:8443/repo');
  assert.equal(withoutCredentials('s3://AKIA:secret@minio.local:9000/bucket/carewall'), 's3://minio.local:9000/bucket/carewall');
  assert.equal(withoutCredentials('/srv/backups/carewall'), '/srv/backups/carewall');
});

test('a restore test of a damaged repository fails and says why; the failure is recorded too', async () => {
  const fs = await import('node:fs');
  const path = await import('node:path');
  const fan = fs.readdirSync(path.join(f.repoDir, 'data'))[0];
  const file = path.join(f.repoDir, 'data', fan, fs.readdirSync(path.join(f.repoDir, 'data', fan))[0]);
  const original = fs.readFileSync(file);
  fs.chmodSync(file, 0o600);
  fs.writeFileSync(file, Buffer.concat([original.subarray(0, 70), Buffer.from([original[70] ^ 1]), original.subarray(71)]));
  try {
    const report = await runRestoreTest(await reader(), ALL_MIGRATIONS, { snapshot: first, postgresUrl: process.env.DATABASE_URL });
    assert.equal(report.ok, false);
    assert.ok(
      report.problems.some((p) => p.includes(`data/${path.basename(file)}`)),
      report.problems.join('; '),
    );
    assert.equal(await f.server.cw.backups.importEvidence(), 1);
    const failed = (await f.server.cw.backups.restoreTests()).filter((t) => !(t as { ok: boolean }).ok);
    assert.equal(failed.length, 1);
  } finally {
    fs.writeFileSync(file, original);
  }
});
