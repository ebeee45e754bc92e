/**
 * Backups: throughput of a backup and a restore of a file share, and deduplication over a second
 * snapshot after a day's changes, against restic (Debian's package, installed here when missing)
 * on the same data in the same run. Both use their default chunk sizes (about 1 MiB).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LocalBackend } from '../src/backup/backend.js';
import { parseRecoveryKey } from '../src/backup/crypto.js';
import { initRepository, RepositoryReader, RepositoryWriter } from '../src/backup/repository.js';
import { restoreFiles } from '../src/backup/restore.js';
import { storeShare } from '../src/backup/snapshot.js';
import { writeSection } from './report.js';

const MB = 1e6;
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'carewall-bench-backup-'));
const share = path.join(root, 'share');
const SIZE_MB = Number(process.env.BACKUP_BENCH_MB ?? 120);

/** A clinic share: letters and reports (text), scans (incompressible), and copies of some of them. */
function makeShare(): number {
  let total = 0;
  let n = 0;
  const words = ['patient', 'referral', 'blood', 'pressure', 'follow-up', 'cardiology', 'discharge', 'medication', 'allergy', 'results', 'normal', 'review'];
  const write = (rel: string, data: Buffer) => {
    fs.mkdirSync(path.dirname(path.join(share, rel)), { recursive: true });
    fs.writeFileSync(path.join(share, rel), data);
    total += data.length;
  };
  while (total < SIZE_MB * MB * 0.35) {
    const text = Array.from({ length: 20000 + (n % 7) * 5000 }, (_, i) => words[(i * 7 + n) % words.length] + (i % 13 === 0 ? `${i}\n` : ' ')).join('');
    write(`letters/${String(n++).padStart(5, '0')}.txt`, Buffer.from(text));
  }
  while (total < SIZE_MB * MB * 0.85) write(`scans/${String(n++).padStart(5, '0')}.dcm`, crypto.randomBytes(2 * 1024 * 1024 + (n % 5) * 300_000));
  // Copies (a series exported twice, documents filed in two folders).
  const scans = fs.readdirSync(path.join(share, 'scans'));
  for (let i = 0; total < SIZE_MB * MB; i++) {
    const f = scans[i % scans.length];
    const data = fs.readFileSync(path.join(share, 'scans', f));
    write(`export/${i}-${f}`, data);
  }
  return total;
}

/** A day's work: 5% of the files changed in the middle, a few new ones. */
function changeShare(): void {
  const files = fs.readdirSync(path.join(share, 'scans'));
  for (let i = 0; i < files.length; i += 20) {
    const p = path.join(share, 'scans', files[i]);
    const data = fs.readFileSync(p);
    crypto.randomBytes(4096).copy(data, Math.floor(data.length / 2));
    fs.writeFileSync(p, data);
  }
  fs.writeFileSync(path.join(share, 'scans', 'new-today.dcm'), crypto.randomBytes(3 * 1024 * 1024));
}

const du = (dir: string) => Number(execFileSync('du', ['-sb', dir]).toString().split('\t')[0]);

async function carewall(): Promise<{ first: number; second: number; restore: number; stored: number; read: number }> {
  const repo = path.join(root, 'cw-repo');
  const init = await initRepository(LocalBackend.create(repo), repo);
  const time = async (fn: () => Promise<unknown>) => {
    const t = performance.now();
    await fn();
    return (performance.now() - t) / 1000;
  };
  let read = 0;
  const snap = async () => {
    const w = await RepositoryWriter.open(new LocalBackend(repo), init.credential);
    const s = await storeShare(w, share);
    await w.putSnapshot(
      { format: 'carewall-backup/1', time: new Date().toISOString(), reason: 'bench', host: 'b', carewallVersion: 'b', config: [], shares: { share: s } },
      new Date(),
    );
    read += w.stats.bytesRead;
  };
  const first = await time(snap);
  changeShare();
  const second = await time(snap);
  const reader = await RepositoryReader.open(new LocalBackend(repo), parseRecoveryKey(init.recoveryKey));
  const { snapshots } = await reader.snapshots();
  const target = path.join(root, 'cw-restore');
  const restore = await time(() => restoreFiles(reader, snapshots.at(-1)!, 'share', { to: target }));
  fs.rmSync(target, { recursive: true, force: true });
  return { first, second, restore, stored: du(repo), read };
}

function restic(): { first: number; second: number; restore: number; stored: number; version: string } | undefined {
  if (spawnSync('restic', ['version']).status !== 0) {
    spawnSync('apt-get', ['install', '-y', 'restic'], { stdio: 'ignore' });
    if (spawnSync('restic', ['version']).status !== 0) return undefined;
  }
  const repo = path.join(root, 'restic-repo');
  const env = { ...process.env, RESTIC_PASSWORD: 'bench-only-not-a-secret', RESTIC_REPOSITORY: repo, RESTIC_CACHE_DIR: path.join(root, 'restic-cache') };
  const run = (...args: string[]) => {
    const t = performance.now();
    const r = spawnSync('restic', args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    if (r.status !== 0) throw new Error(`restic ${args[0]}: ${r.stderr.toString().slice(0, 300)}`);
    return (performance.now() - t) / 1000;
  };
  run('init');
  const first = run('backup', share);
  return { first, second: 0, restore: 0, stored: 0, version: execFileSync('restic', ['version']).toString().trim().split(' ')[1] };
}

const bytes = makeShare();
// restic's first snapshot is taken of the same unchanged data, before Carewall's runs change it.
const rs = restic();
const cw = await carewall();
if (rs) {
  // restic's second snapshot after the same change (the share is now in its day-2 state).
  const env = {
    ...process.env,
    RESTIC_PASSWORD: 'bench-only-not-a-secret',
    RESTIC_REPOSITORY: path.join(root, 'restic-repo'),
    RESTIC_CACHE_DIR: path.join(root, 'restic-cache'),
  };
  const t = (args: string[]) => {
    const s = performance.now();
    const r = spawnSync('restic', args, { env, stdio: 'ignore' });
    if (r.status !== 0) throw new Error(`restic ${args[0]} failed`);
    return (performance.now() - s) / 1000;
  };
  rs.second = t(['backup', share]);
  rs.restore = t(['restore', 'latest', '--target', path.join(root, 'restic-restore')]);
  rs.stored = du(path.join(root, 'restic-repo'));
}
const secondBytes = du(share);
const rate = (b: number, s: number) => (b / MB / s).toFixed(0);
const lines = [
  '## Backups',
  '',
  `A file share of ${(bytes / MB).toFixed(0)} MB (35% text letters, 50% incompressible scans, 15% copies of scans), backed up, changed (5% of the scans in the middle, one new file), backed up again, and the second snapshot restored to an empty folder. Carewall and restic ${rs?.version ?? '(not installed)'} on the same data in the same run, each with its default chunk sizes (about 1 MiB), both into a local folder. ${os.cpus().length} cores (shared), Node ${process.version}. \`npm run bench\` (bench/backup.ts).`,
  '',
  '| | first backup | second backup | restore | stored | dedup ratio (bytes backed up / bytes stored) |',
  '|---|---|---|---|---|---|',
  `| Carewall | ${rate(bytes, cw.first)} MB/s | ${rate(secondBytes, cw.second)} MB/s | ${rate(secondBytes, cw.restore)} MB/s | ${(cw.stored / MB).toFixed(1)} MB | ${((bytes + secondBytes) / cw.stored).toFixed(2)} |`,
  rs
    ? `| restic | ${rate(bytes, rs.first)} MB/s | ${rate(secondBytes, rs.second)} MB/s | ${rate(secondBytes, rs.restore)} MB/s | ${(rs.stored / MB).toFixed(1)} MB | ${((bytes + secondBytes) / rs.stored).toFixed(2)} |`
    : '| restic | not installed | | | | |',
  '',
  `Target (issue 8): backup throughput at least restic's. Carewall first backup ${rs ? (cw.first <= rs.first ? 'meets it' : `is ${(rs.first / cw.first).toFixed(2)} of restic's`) : 'not compared'}.`,
  '',
];
writeSection(lines.join('\n'));
fs.rmSync(root, { recursive: true, force: true });
