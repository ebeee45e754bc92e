/**
 * The demo's backups: a repository in a folder of the demo's own data folder and a first backup of
 * everything (the database and the watched share), so that "undo the attack" on the File shares
 * screen can be tried end to end. In a real installation the recovery key is shown once and kept
 * offline, never on the server; the demo's passwords are public, and so is its recovery key, written
 * beside them for the restore command to read.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DEMO_RECOVERY_KEY_FILE } from '../backup/index.js';
import type { Carewall } from '../runtime.js';

export interface DemoBackups {
  repository: string;
  recoveryKeyFile: string;
  snapshot: string;
}

export async function setUpDemoBackups(cw: Carewall, dataDir: string): Promise<DemoBackups> {
  const repository = path.join(dataDir, 'backups');
  const recoveryKeyFile = path.join(dataDir, DEMO_RECOVERY_KEY_FILE);
  const { recoveryKey } = await cw.backups.init(repository);
  fs.writeFileSync(recoveryKeyFile, recoveryKey + '\n', { mode: 0o600, flag: 'wx' });
  const { snapshot } = await cw.backups.run('manual');
  // The scorecard seeded with the clinic was measured before there were backups: measure it again,
  // so that today's posture says what is true (a current backup; no restore test yet).
  await cw.posture.measure();
  return { repository, recoveryKeyFile, snapshot };
}
