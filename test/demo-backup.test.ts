/**
 * The demo comes with backups (issue 29): `carewall demo` makes a repository in its data folder, its
 * recovery key beside the demo's public passwords, and a first backup of the database and the watched
 * share; the posture and the administrator's overview say so; and after an attack on the share, the
 * restore command that File shares shows, typed as shown, brings the files' content back.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { call, currentOtp, tempDir } from './helpers/harness.js';
import { runCli, startCli, type CliServer } from './helpers/cli.js';
import { until } from './helpers/poll.js';
import { attackCounted, demoBackupArgs, demoBackups, demoDecoys, filesOf, firstScheduledBackup, sha256 } from './helpers/demoShare.js';

describe('the demo with backups', () => {
  let dataDir: string;
  let demo: CliServer;
  let token: string;
  const api = (p: string) => call(demo.url, 'GET', p, { token });

  before(async () => {
    dataDir = path.join(tempDir(), 'demo');
    demo = await startCli(['demo', '--data-dir', dataDir, '--port', '0', '--patients', '3']);
    const admin = JSON.parse(fs.readFileSync(path.join(dataDir, 'demo-logins.json'), 'utf8')).find((l: { username: string }) => l.username === 'admin');
    const session = await call(demo.url, 'POST', '/api/session', {
      body: { username: admin.username, password: admin.password, otp: currentOtp(admin.totpUri) },
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(session.status, 201, JSON.stringify(session.body));
    token = session.body.token;
  });

  after(async () => {
    await demo?.kill('SIGTERM');
    if (dataDir) fs.rmSync(path.dirname(dataDir), { recursive: true, force: true });
  });

  test('a repository in the data folder, its recovery key beside it (owner only), and a backup of the database and the share listed', async () => {
    const { repository, recoveryKeyFile: keyFile } = demoBackups(dataDir);
    assert.ok(fs.existsSync(path.join(repository, 'config')), 'the repository exists');
    assert.equal(fs.statSync(keyFile).mode & 0o777, 0o600);
    assert.match(demo.output(), new RegExp(`recovery key is in ${keyFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    const list = await runCli(['backup', 'list', '--repository', repository, '--recovery-key-file', keyFile, '--json']);
    assert.equal(list.code, 0, list.stderr);
    const first = JSON.parse(list.stdout).snapshots[0];
    assert.equal(first.database, true, 'the clinic itself is in it');
    assert.ok(first.shares.documents.files >= 100, `the share is in it: ${JSON.stringify(first.shares)}`);
  });

  test("the administrator's overview and the posture see the backup; File shares names the repository, the share's folder and the key file", async () => {
    const status = (await api('/api/backups/status')).body;
    assert.equal(status.setUp, true);
    assert.equal(status.repository, path.join(dataDir, 'backups'));
    assert.ok(status.lastSuccessAt, 'a backup succeeded');
    assert.equal(status.everyHours, 24, 'and one is made every day while the demo runs');
    const card = (await api('/api/posture')).body;
    const evidence = card.practices.flatMap((p: any) => p.items.flatMap((i: any) => i.evidence.map((e: any) => e.text)));
    assert.ok(
      evidence.some((t: string) => /last successful backup is 0 day/.test(t)),
      'today’s posture counts the backup',
    );
    assert.ok(!evidence.some((t: string) => /No backup repository is set up/.test(t)), 'and no longer says there is none');
    const guard = (await api('/api/guard')).body;
    assert.deepEqual(guard.undo, { ...demoBackups(dataDir), folders: { documents: path.join(dataDir, 'shares', 'documents') } });
  });

  test('after an attack on the share, the restore command File shares gives brings the files back as they were', async () => {
    const share = path.join(dataDir, 'shares', 'documents');
    await firstScheduledBackup(dataDir);
    await until('the guard watching', async () => (await api('/api/guard')).body.watching === true);
    const before = new Map(filesOf(share).map((f) => [f, sha256(f)]));

    const attack = await runCli(['guard', 'simulate', '--dir', share, '--behaviour', 'overwrite', '--limit', '10', '--pace', '0']);
    assert.equal(attack.code, 0, attack.stderr);
    const changed = [...before].filter(([f, h]) => !fs.existsSync(f) || sha256(f) !== h).map(([f]) => f);
    assert.ok(changed.length >= 5, `the attack changed files (${changed.length})`);
    await attackCounted(dataDir, changed, async () => (await api('/api/guard')).body.incident?.affected ?? 0);
    const guard = (await api('/api/guard')).body;

    // The command as the screen writes it (web/src/screens/guard.tsx), from the same answer.
    const restore = await runCli([
      'backup',
      'restore',
      '--repository',
      guard.undo.repository,
      '--recovery-key-file',
      guard.undo.recoveryKeyFile,
      '--share',
      guard.shares[0],
      '--changed-since',
      guard.incident.since,
      '--to',
      guard.undo.folders[guard.shares[0]],
      '--aside',
    ]);
    assert.equal(restore.code, 0, restore.stderr);
    assert.match(restore.stdout, /restored \d+ file\(s\)/);
    // The clinic's files come back; the guard's decoys the attack hit are not the clinic's, and are left as they are.
    const decoys = demoDecoys(dataDir);
    const restoredClinicFiles = changed.filter((f) => !decoys.includes(f));
    assert.ok(restoredClinicFiles.length > 0, 'clinic files were among those attacked');
    for (const f of restoredClinicFiles) assert.equal(sha256(f), before.get(f), `${path.relative(share, f)} has its content back`);
    const aside = filesOf(share).filter((f) => f.includes('.carewall-aside-'));
    assert.equal(aside.length, restoredClinicFiles.length, 'the attacked copies are kept aside, not deleted');
  });

  test("the guard's decoys are not the clinic's files: backups leave them out, so undoing an attack never writes one back", async () => {
    const decoys = demoDecoys(dataDir);
    assert.ok(decoys.length > 0, 'the demo share has decoys');
    const share = path.join(dataDir, 'shares', 'documents');
    const scratch = path.join(path.dirname(dataDir), 'whole-share');
    const whole = await runCli(['backup', 'restore', ...demoBackupArgs(dataDir), '--share', 'documents', '--to', scratch]);
    assert.equal(whole.code, 0, whole.stderr);
    const restored = new Set(filesOf(scratch).map((f) => path.relative(scratch, f)));
    assert.ok(restored.size >= 100, `the share's files are in the newest backup (${restored.size})`);
    assert.deepEqual(
      decoys.map((d) => path.relative(share, d)).filter((d) => restored.has(d)),
      [],
    );
  });
});
