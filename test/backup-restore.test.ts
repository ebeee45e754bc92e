/**
 * Restore to a new machine from the repository and the recovery key alone: the records read back,
 * the audit log verifies, accounts and keys work; files of a share come back as of a time; "undo
 * the attack" restores exactly what changed. (Restore tests: backup-restoretest.test.ts.)
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { SYSTEM } from '../src/shared/index.js';
import { verifyLog } from '../src/audit/verify.js';
import { LocalBackend } from '../src/backup/backend.js';
import { parseRecoveryKey } from '../src/backup/crypto.js';
import { RepositoryReader } from '../src/backup/repository.js';
import { planUndo, restoreCarewall, restoreFiles, RestoreRefusedError, snapshotAsOf } from '../src/backup/restore.js';
import { loadSettings } from '../src/config.js';
import { createLogger } from '../src/log.js';
import { ALL_MIGRATIONS, openCarewall } from '../src/runtime.js';
import { backupFixture, sha256File, type BackupFixture } from './helpers/backupFixture.js';
import { freshDatabase, tempDir } from './helpers/harness.js';
import { fileClockPast, nextMillisecond } from './helpers/poll.js';

let f: BackupFixture;
let first: string;

before(async () => {
  f = await backupFixture();
  first = (await f.server.cw.backups.run('manual')).snapshot;
});
after(async () => f.close());

const reader = () => RepositoryReader.open(new LocalBackend(f.repoDir), parseRecoveryKey(f.recoveryKey));

test('a whole Carewall restores onto a new machine from the repository and the recovery key alone', async () => {
  // The new machine: an empty folder, and on PostgreSQL an empty database. Nothing of the old data folder.
  const newDir = path.join(tempDir('carewall-newmachine-'), 'data');
  const db = await freshDatabase();
  try {
    const r = await restoreCarewall(await reader(), first, { dataDir: newDir, databaseUrl: db?.url }, ALL_MIGRATIONS);
    assert.ok(r.rows > 0);
    for (const [table, c] of Object.entries(r.rowCounts)) assert.equal(c.restored, c.expected, table);
    assert.equal(fs.statSync(path.join(newDir, 'master.key')).mode & 0o777, 0o600);
    const cw = await openCarewall(loadSettings(newDir, { DATABASE_URL: db?.url }), createLogger('silent'));
    try {
      // Records open under the restored master key and data keys.
      for (const id of f.patientIds) {
        const p = await cw.fhir.read(SYSTEM, 'Patient', id);
        assert.match(JSON.stringify(p.resource), /Backupson/);
      }
      // The audit log verifies against the pinned key that came with it, checkpoints included.
      const report = await verifyLog(cw.db, await cw.audit.pinnedVerifierKey());
      assert.equal(report.ok, true, JSON.stringify(report.problems.slice(0, 3)));
      assert.ok(report.checkpointsChecked >= 1);
      // New writes continue after the restored rows (identity sequences moved on).
      const p = await cw.fhir.create(SYSTEM, 'Patient', { resourceType: 'Patient', name: [{ family: 'Afterrestore' }] });
      assert.ok(p.id);
      assert.equal((await verifyLog(cw.db, await cw.audit.pinnedVerifierKey())).ok, true);
      // The restored machine can carry on backing up into the same repository.
      assert.equal(cw.backups.isSetUp(), true);
    } finally {
      await cw.close();
    }
    // A second restore into the same (now used) folder is refused, and changes nothing.
    await assert.rejects(restoreCarewall(await reader(), first, { dataDir: newDir, databaseUrl: db?.url }, ALL_MIGRATIONS), RestoreRefusedError);
  } finally {
    await db?.drop();
    fs.rmSync(path.dirname(newDir), { recursive: true, force: true });
  }
});

test('files, a folder or a whole share come back as of a chosen time; nothing in the way is overwritten', async () => {
  const r = await reader();
  const { snapshots } = await r.snapshots();
  const snap = snapshotAsOf(snapshots, new Date(), { share: 'documents' });
  const to = tempDir('carewall-files-');
  try {
    const whole = await restoreFiles(r, snap, 'documents', { to });
    assert.equal(whole.restored.length, Object.keys(f.hashes).length);
    for (const [rel, h] of Object.entries(f.hashes)) assert.equal(sha256File(path.join(to, rel)), h, rel);
    // Again into the same place: refused before anything is written.
    fs.writeFileSync(path.join(to, 'letters/referral-0001.txt'), 'newer work');
    await assert.rejects(restoreFiles(r, snap, 'documents', { to, paths: ['letters'] }), /already exist.*nothing was written/);
    assert.equal(fs.readFileSync(path.join(to, 'letters/referral-0001.txt'), 'utf8'), 'newer work');
    // One folder, elsewhere.
    const to2 = tempDir('carewall-folder-');
    const folder = await restoreFiles(r, snap, 'documents', { to: to2, paths: ['scans/2026'] });
    assert.deepEqual(folder.restored.sort(), ['scans/2026/ct-0001.dcm', 'scans/2026/ct-0002.dcm']);
    await assert.rejects(restoreFiles(r, snap, 'documents', { to: to2, paths: ['../etc'] }), /not a path inside the share/);
    await assert.rejects(restoreFiles(r, snap, 'nosuchshare', { to: to2 }), /no share named nosuchshare/);
    assert.throws(() => snapshotAsOf(snapshots, new Date('2000-01-01T00:00:00Z')), /no snapshot/);
    fs.rmSync(to2, { recursive: true, force: true });
  } finally {
    fs.rmSync(to, { recursive: true, force: true });
  }
});

test('"undo the attack" restores exactly the files changed or deleted since a moment, from the snapshot before it', async () => {
  // The moment is strictly after the last snapshot, and the attack's changes strictly after it.
  await nextMillisecond();
  const attack = new Date();
  await fileClockPast(os.tmpdir(), attack);
  // The attack: one file encrypted in place, one encrypted copy written and the original deleted, a note.
  fs.writeFileSync(path.join(f.shareDir, 'letters/referral-0001.txt'), Buffer.alloc(88000, 7));
  fs.writeFileSync(path.join(f.shareDir, 'scans/2026/ct-0001.dcm.locked'), Buffer.alloc(1000, 1));
  fs.unlinkSync(path.join(f.shareDir, 'scans/2026/ct-0001.dcm'));
  fs.writeFileSync(path.join(f.shareDir, 'HOW_TO_DECRYPT.txt'), 'pay');
  // A protective snapshot after the attack must not be the one restored from.
  await f.server.cw.backups.run('protective', { onlyShares: ['documents'] });
  const r = await reader();
  const { snapshots } = await r.snapshots();
  const plan = await planUndo(r, snapshots, 'documents', f.shareDir, attack);
  assert.equal(plan.snapshot.name, first);
  assert.deepEqual(plan.changed, ['letters/referral-0001.txt', 'scans/2026/ct-0001.dcm']);
  assert.deepEqual(plan.added, ['HOW_TO_DECRYPT.txt', 'scans/2026/ct-0001.dcm.locked']);
  const done = await restoreFiles(r, plan.snapshot, 'documents', { to: f.shareDir, only: new Set(plan.changed), aside: true });
  assert.deepEqual(done.restored.sort(), plan.changed);
  for (const [rel, h] of Object.entries(f.hashes)) assert.equal(sha256File(path.join(f.shareDir, rel)), h, rel);
  // The damaged file was moved aside, not deleted; the attacker's files are left for the investigation.
  assert.equal(done.movedAside.length, 1);
  assert.ok(fs.existsSync(done.movedAside[0]));
  assert.ok(fs.existsSync(path.join(f.shareDir, 'HOW_TO_DECRYPT.txt')));
});
