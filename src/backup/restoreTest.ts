/**
 * A restore test: the snapshot is restored into a scratch database and folder, and the result is
 * checked as an auditor would (every chunk opens and hashes to its id, every table has its rows,
 * the restored audit log verifies against its own pinned key, the master key unwraps the data keys,
 * every file has its recorded hash). The result is kept in the repository as signed evidence (the
 * recovery key's evidence key signs it), from where the Carewall server records it in
 * backup_restore_test: the server itself never holds the key that reads backups.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { verifyLog } from '../audit/index.js';
import { openDatabase } from '../db/index.js';
import type { Migration } from '../db/index.js';
import { Keyring } from '../keys/index.js';
import { loadMasterKeys } from '../keys/index.js';
import type { RepositoryReader } from './repository.js';
import { restoreCarewall, restoreFiles } from './restore.js';
import { verifyRepository } from './verify.js';

export interface RestoreTestReport {
  snapshot: string;
  snapshotTime: string;
  testedAt: string;
  ok: boolean;
  seconds: number;
  engine: 'pglite' | 'postgres';
  chunks: number;
  tables: number;
  rows: number;
  auditRecords: number;
  auditVerified: boolean;
  files: number;
  bytes: number;
  problems: string[];
}

/** A scratch database on the server named by `baseUrl` (needs CREATEDB), or undefined to use the embedded one. */
async function scratchDatabase(baseUrl?: string): Promise<{ url: string; drop: () => Promise<void> } | undefined> {
  if (!baseUrl) return undefined;
  const name = `carewall_restore_test_${Date.now()}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: baseUrl });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`).finally(() => c.end());
    },
  };
}

export async function runRestoreTest(
  reader: RepositoryReader,
  migrations: Migration[],
  opts: { snapshot?: string; postgresUrl?: string; record?: boolean } = {},
): Promise<RestoreTestReport> {
  const started = performance.now();
  const { snapshots } = await reader.snapshots();
  const withDb = snapshots.filter((s) => s.manifest.database);
  const snap = opts.snapshot ? snapshots.find((s) => s.name === opts.snapshot) : withDb.at(-1);
  if (!snap) throw new Error(opts.snapshot ? `no snapshot ${opts.snapshot}` : 'the repository holds no snapshot of Carewall yet');
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'carewall-restore-test-'));
  const dataDir = path.join(scratch, 'data');
  const db = await scratchDatabase(opts.postgresUrl);
  const problems: string[] = [];
  const report: RestoreTestReport = {
    snapshot: snap.name,
    snapshotTime: snap.manifest.time,
    testedAt: new Date().toISOString(),
    ok: false,
    seconds: 0,
    engine: db ? 'postgres' : 'pglite',
    chunks: 0,
    tables: 0,
    rows: 0,
    auditRecords: 0,
    auditVerified: false,
    files: 0,
    bytes: 0,
    problems,
  };
  try {
    const v = await verifyRepository(reader, [snap.name]);
    report.chunks = v.chunks;
    problems.push(...v.problems.map((p) => `${p.object}: ${p.problem}`));
    // A snapshot whose chunks do not all hold cannot restore whole: the test has failed already.
    if (!v.ok) throw new Error(`the snapshot does not verify (${v.problems.length} problem(s)); restore not attempted`);
    if (snap.manifest.database) {
      const restored = await restoreCarewall(reader, snap.name, { dataDir, databaseUrl: db?.url }, migrations);
      report.tables = restored.tables;
      report.rows = restored.rows;
      const restoredDb = await openDatabase({ dataDir, databaseUrl: db?.url });
      try {
        const vkey = fs.readFileSync(path.join(dataDir, 'audit.vkey'), 'utf8').trim();
        const audit = await verifyLog(restoredDb, vkey);
        report.auditRecords = audit.size;
        report.auditVerified = audit.ok;
        if (!audit.ok) problems.push(`the restored audit log does not verify: ${audit.problems[0]?.message ?? ''}`);
        // The restored master key must unwrap the restored data keys.
        const keyring = new Keyring(restoredDb, loadMasterKeys(dataDir, {}), dataDir);
        await keyring.init();
      } finally {
        await restoredDb.close();
      }
    }
    for (const share of Object.keys(snap.manifest.shares)) {
      const r = await restoreFiles(reader, snap, share, { to: path.join(scratch, 'shares', share) });
      report.files += r.restored.length;
      report.bytes += r.bytes;
    }
  } catch (err) {
    problems.push((err as Error).message);
  } finally {
    await db?.drop().catch((err: Error) => problems.push(`dropping the scratch database: ${err.message}`));
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  report.ok = problems.length === 0;
  report.seconds = (performance.now() - started) / 1000;
  if (opts.record !== false) await reader.putEvidence(report as unknown as Record<string, unknown>);
  return report;
}
