/** A small installation with records, an audit log and a file share, set up to back up into a folder. */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { SYSTEM } from '../../src/shared/index.js';
import type { StoredSettings } from '../../src/config.js';
import type { TestServer } from './harness.js';
import { tempDir } from './tempDir.js';
import { observation, patient } from './fixtures.js';

/** Small chunks so that a few megabytes make many chunks (the repository's default averages 1 MiB). */
export const TEST_CHUNKER = { min: 16 * 1024, avg: 64 * 1024, max: 256 * 1024 };

export function sha256File(p: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex');
}

/** Files like a clinic's share: documents, a large scan (random: incompressible), a nested folder. */
export function makeShare(dir: string): Record<string, string> {
  fs.mkdirSync(path.join(dir, 'scans', '2026'), { recursive: true });
  const files: Record<string, Buffer> = {
    'letters/referral-0001.txt': Buffer.from('Referral letter for the cardiology clinic.\n'.repeat(2000)),
    'letters/referral-0002.txt': Buffer.from('Discharge summary.\n'.repeat(500)),
    'scans/2026/ct-0001.dcm': crypto.randomBytes(600 * 1024),
    'scans/2026/ct-0002.dcm': crypto.randomBytes(90 * 1024),
    'empty.txt': Buffer.alloc(0),
  };
  const hashes: Record<string, string> = {};
  for (const [rel, data] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), data);
    hashes[rel] = crypto.createHash('sha256').update(data).digest('hex');
  }
  return hashes;
}

export interface BackupFixture {
  server: TestServer;
  shareDir: string;
  repoDir: string;
  recoveryKey: string;
  patientIds: string[];
  hashes: Record<string, string>;
  close(): Promise<void>;
}

export async function backupFixture(extra: Record<string, unknown> = {}): Promise<BackupFixture> {
  const shareDir = tempDir('carewall-share-');
  const hashes = makeShare(shareDir);
  // Loaded here: the files that use only makeShare and TEST_CHUNKER need not load all of Carewall.
  const { startTestServer } = await import('./harness.js');
  const server = await startTestServer({ backup: { shares: { documents: shareDir }, everyHours: 0 }, ...extra } as StoredSettings);
  const patientIds: string[] = [];
  for (let i = 0; i < 3; i++) {
    const p = await server.cw.fhir.create(SYSTEM, 'Patient', patient(`Backupson${i}`, 'Ada'));
    patientIds.push(p.id);
    await server.cw.fhir.create(SYSTEM, 'Observation', observation(p.id, '8867-4', 60 + i));
  }
  await server.cw.audit.checkpoints.checkpoint();
  const repoDir = path.join(tempDir('carewall-repo-'), 'repo');
  const { recoveryKey } = await server.cw.backups.init(repoDir, { chunker: TEST_CHUNKER });
  return {
    server,
    shareDir,
    repoDir,
    recoveryKey,
    patientIds,
    hashes,
    async close() {
      await server.close();
      fs.rmSync(shareDir, { recursive: true, force: true });
      fs.rmSync(path.dirname(repoDir), { recursive: true, force: true });
    },
  };
}
