/**
 * The demo's watched share and its backups, as the tests of "undo the attack" use them: the files
 * and their hashes, the server's first scheduled backup, and an attack's every file counted by the
 * guard before anyone reads the incident.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { runCli } from './cli.js';
import { until } from './poll.js';

export const sha256 = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

export function filesOf(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true }).flatMap((e) => (e.isFile() ? [path.join(e.parentPath, e.name)] : []));
}

/** The guard's decoys in the demo's share (not the clinic's files). */
export function demoDecoys(dataDir: string): string[] {
  return JSON.parse(fs.readFileSync(path.join(dataDir, 'guard', 'alerts.decoys.json'), 'utf8')).decoys;
}

/** Where `carewall demo` keeps its backups and their recovery key, in its data folder. */
export function demoBackups(dataDir: string): { repository: string; recoveryKeyFile: string } {
  return { repository: path.join(dataDir, 'backups'), recoveryKeyFile: path.join(dataDir, 'demo-recovery-key.txt') };
}

/** The `--repository` and `--recovery-key-file` arguments of a backup command on the demo's backups. */
export function demoBackupArgs(dataDir: string): string[] {
  const { repository, recoveryKeyFile } = demoBackups(dataDir);
  return ['--repository', repository, '--recovery-key-file', recoveryKeyFile];
}

/**
 * The server backs up once at start as well: waits for that backup, so that an attack comes after
 * it, as a clinic's share is attacked between backups, and never halfway through a snapshot.
 */
export async function firstScheduledBackup(dataDir: string): Promise<void> {
  await until('the first scheduled backup', async () => {
    const r = await runCli(['backup', 'list', ...demoBackupArgs(dataDir), '--json']);
    return r.code === 0 && JSON.parse(r.stdout).snapshots.some((s: { reason: string }) => s.reason === 'scheduled');
  });
}

/**
 * Waits until the incident counts every clinic file the attack changed (the guard's decoys are not
 * counted): the incident's start is then the first of their writes, which "undo the attack" restores from.
 */
export async function attackCounted(dataDir: string, changed: string[], affectedNow: () => Promise<number>): Promise<void> {
  const decoys = new Set(demoDecoys(dataDir));
  const clinicChanged = changed.filter((f) => !decoys.has(f)).length;
  await until('the incident counting every file the attack changed', async () => (await affectedNow()) >= clinicChanged);
}
