/**
 * The backup capability as the server and the CLI use it: set-up (`backup init`), runs (on demand,
 * scheduled, protective), their record in backup_run, and the restore-test evidence recorded in
 * backup_restore_test. The server holds DATA_DIR/backup.key, a writer's credential: it adds to the
 * repository and cannot read, change or delete what is there.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Settings } from '../config.js';
import type { Database } from '../db/index.js';
import type { Logger } from '../log.js';
import { createBackend, openBackend } from './open.js';
import { initRepository, RepositoryWriter, type WriterCredential } from './repository.js';
import { backupSettings, type BackupSettings } from './settings.js';
import { runBackup, type BackupResult, type FileSelection } from './snapshot.js';
import type { ChunkerParams } from './chunker.js';

export const CREDENTIAL_FILE = 'backup.key';
/** The demo's recovery key, in its data folder: public like the demo's passwords. Never in a real installation. */
export const DEMO_RECOVERY_KEY_FILE = 'demo-recovery-key.txt';

export class BackupService {
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;
  /** Files of the shares that are not the clinic's (wired in runtime.ts: the ransomware guard's decoys). */
  notClinicFiles: () => string[] = () => [];

  constructor(
    private readonly db: Database,
    private readonly settings: Settings,
    private readonly log: Logger,
  ) {}

  get config(): BackupSettings {
    return backupSettings(this.settings);
  }

  get credentialFile(): string {
    return path.join(this.settings.dataDir, CREDENTIAL_FILE);
  }

  isSetUp(): boolean {
    return fs.existsSync(this.credentialFile);
  }

  credential(): WriterCredential {
    if (!this.isSetUp()) throw new Error(`no backup repository is set up: run 'carewall backup init --repository ...' first`);
    const mode = fs.statSync(this.credentialFile).mode & 0o777;
    if (mode & 0o077) throw new Error(`${this.credentialFile} is readable by other users (mode ${mode.toString(8)}); chmod 600 it`);
    return JSON.parse(fs.readFileSync(this.credentialFile, 'utf8')) as WriterCredential;
  }

  /** Creates the repository; the recovery key is returned to be shown once and is stored nowhere. */
  async init(repository: string, opts: { token?: string; chunker?: ChunkerParams } = {}): Promise<{ recoveryKey: string; repositoryId: string }> {
    if (this.isSetUp()) throw new Error(`${this.credentialFile} exists: this installation already backs up to a repository`);
    const address = /^(https?|s3):\/\//.test(repository) ? repository : path.resolve(repository);
    const backend = await createBackend(address, { token: opts.token });
    const { recoveryKey, credential } = await initRepository(backend, address, opts.chunker, opts.token);
    fs.writeFileSync(this.credentialFile, JSON.stringify(credential, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
    return { recoveryKey, repositoryId: credential.repositoryId };
  }

  /** The repository's folder when it is a local or mounted folder (the guard leaves it alone). */
  localRepositoryFolder(): string | undefined {
    if (!this.isSetUp()) return undefined;
    const address = this.credential().repository;
    return /^(https?|s3):\/\//.test(address) ? undefined : address;
  }

  async writer(): Promise<RepositoryWriter> {
    const credential = this.credential();
    return RepositoryWriter.open(await openBackend(credential.repository, { token: credential.token }), credential);
  }

  /** One backup run, recorded in backup_run whether it succeeds or not (a failure's message, never a file's content). */
  async run(reason: string, opts: { onlyShares?: string[]; onlyFiles?: FileSelection } = {}): Promise<BackupResult> {
    const started = new Date();
    const t0 = performance.now();
    const credential = this.credential();
    try {
      const writer = await this.writer();
      const result = await runBackup(writer, {
        db: this.db,
        dataDir: this.settings.dataDir,
        shares: this.config.shares,
        reason,
        onlyShares: opts.onlyShares,
        onlyFiles: opts.onlyFiles,
        exclude: new Set(this.notClinicFiles()),
      });
      await this.db.query(`insert into backup_run (started_at, seconds, reason, repository, snapshot, ok, stats) values ($1, $2, $3, $4, $5, true, $6)`, [
        started,
        result.seconds,
        reason,
        credential.repositoryId,
        result.snapshot,
        JSON.stringify(writer.stats),
      ]);
      return result;
    } catch (err) {
      await this.db.query(`insert into backup_run (started_at, seconds, reason, repository, ok, error) values ($1, $2, $3, $4, false, $5)`, [
        started,
        (performance.now() - t0) / 1000,
        reason,
        credential.repositoryId,
        (err as Error).message.slice(0, 500),
      ]);
      throw err;
    }
  }

  /**
   * The protective snapshot at a ransomware alarm: the named files of the shares (those the attack
   * has not reached) into the append-only repository, each checked again once stored. Returns the
   * shares it covered (by folder) so the caller can tell which files are outside every share.
   */
  async protect(
    files: string[],
    stillGood: (abs: string) => Promise<boolean>,
  ): Promise<{ snapshot: string; files: number; bytes: number; changedMeanwhile: string[] }> {
    const shares = this.config.shares;
    const inside = (dir: string, p: string) => p.startsWith(dir + path.sep);
    const names = Object.entries(shares)
      .filter(([, dir]) => files.some((f) => inside(dir, f)))
      .map(([name]) => name);
    if (names.length === 0) throw new Error('none of the files is in a backed-up share (carewall.json backup.shares)');
    const selection: FileSelection = { paths: new Set(files), stillGood, changedMeanwhile: [] };
    const r = await this.run('protective', { onlyShares: names, onlyFiles: selection });
    const parts = Object.values(r.manifest.shares);
    return {
      snapshot: r.snapshot,
      files: parts.reduce((n, s) => n + s.files, 0),
      bytes: parts.reduce((n, s) => n + s.bytes, 0),
      changedMeanwhile: selection.changedMeanwhile,
    };
  }

  /** Records the restore tests found in the repository (signed by the recovery key's evidence key). */
  async importEvidence(): Promise<number> {
    const writer = await this.writer();
    let added = 0;
    for (const { name, evidence } of await writer.listEvidence()) {
      const e = evidence as { snapshot?: string; testedAt?: string; ok?: boolean; seconds?: number };
      const r = await this.db.query(
        `insert into backup_restore_test (evidence, snapshot, tested_at, ok, seconds, report) values ($1, $2, $3, $4, $5, $6) on conflict (evidence) do nothing`,
        [name, String(e.snapshot), new Date(String(e.testedAt)), e.ok === true, Number(e.seconds) || 0, JSON.stringify(evidence)],
      );
      added += r.rowCount;
    }
    return added;
  }

  /**
   * Where backups stand, for the administrator's overview: the repository (a folder, or an address
   * without any credentials in it), the schedule, the last run and last success, the last restore test.
   */
  async status(): Promise<BackupStatus> {
    const everyHours = this.config.everyHours;
    if (!this.isSetUp()) return { setUp: false, everyHours, repository: null, lastRun: null, lastSuccessAt: null, lastRestoreTest: null };
    const run = (
      await this.db.query<{ started_at: Date; ok: boolean; seconds: number; error: string | null }>(
        'select started_at, ok, seconds, error from backup_run order by id desc limit 1',
      )
    ).rows[0];
    const success = (await this.db.query<{ at: Date | null }>('select max(started_at) as at from backup_run where ok')).rows[0]?.at ?? null;
    const test = (
      await this.db.query<{ tested_at: Date; ok: boolean; seconds: number }>(
        'select tested_at, ok, seconds from backup_restore_test order by tested_at desc limit 1',
      )
    ).rows[0];
    return {
      setUp: true,
      everyHours,
      repository: withoutCredentials(this.credential().repository),
      lastRun: run ? { at: run.started_at.toISOString(), ok: run.ok, seconds: Number(run.seconds), ...(run.error ? { error: run.error } : {}) } : null,
      lastSuccessAt: success ? new Date(success).toISOString() : null,
      lastRestoreTest: test ? { at: test.tested_at.toISOString(), ok: test.ok, seconds: Number(test.seconds) } : null,
    };
  }

  /**
   * What "undo the attack" is typed with: the repository (without credentials, as the clinic
   * overview shows it) and, in the demo only, each share's folder and the file holding the demo's
   * public recovery key. A real installation's folders stay off the screens, as every path does.
   * Undefined without a repository.
   */
  restoreAdvice(): RestoreAdvice | undefined {
    if (!this.isSetUp()) return undefined;
    const keyFile = path.join(this.settings.dataDir, DEMO_RECOVERY_KEY_FILE);
    const demo = this.settings.demo && fs.existsSync(keyFile);
    return {
      repository: withoutCredentials(this.credential().repository),
      ...(demo ? { folders: this.config.shares, recoveryKeyFile: keyFile } : {}),
    };
  }

  async runs(limit = 50) {
    return (await this.db.query(`select started_at, seconds, reason, snapshot, ok, stats, error from backup_run order by id desc limit $1`, [limit])).rows;
  }

  async restoreTests(limit = 50) {
    return (await this.db.query(`select evidence, snapshot, tested_at, ok, seconds, report from backup_restore_test order by tested_at desc limit $1`, [limit]))
      .rows;
  }

  /**
   * The server's schedule: a backup every `everyHours` (counted from the last successful run, so a
   * restart does not skip or repeat one), then the restore-test evidence imported.
   */
  startSchedule(checkEveryMs = 60_000): void {
    if (!this.isSetUp() || this.config.everyHours <= 0 || this.timer) return;
    const tick = async () => {
      if (this.running) return;
      const last = await this.db.query<{ at: Date }>(`select max(started_at) as at from backup_run where ok and reason = 'scheduled'`);
      const due = !last.rows[0]?.at || Date.now() - new Date(last.rows[0].at).getTime() >= this.config.everyHours * 3_600_000;
      if (!due) return;
      this.running = this.run('scheduled')
        .then((r) => this.log.info({ snapshot: r.snapshot, seconds: r.seconds }, 'scheduled backup done'))
        .then(() => this.importEvidence())
        .catch((err: Error) => this.log.error({ err: err.message }, 'scheduled backup failed'))
        .finally(() => (this.running = undefined));
    };
    this.timer = setInterval(() => void tick().catch(() => undefined), checkEveryMs);
    this.timer.unref();
    void tick().catch(() => undefined);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}

export interface BackupStatus {
  setUp: boolean;
  everyHours: number;
  repository: string | null;
  lastRun: { at: string; ok: boolean; seconds: number; error?: string } | null;
  lastSuccessAt: string | null;
  lastRestoreTest: { at: string; ok: boolean; seconds: number } | null;
}

export interface RestoreAdvice {
  repository: string;
  /** Share name -> its folder on the server (the demo only). */
  folders?: Record<string, string>;
  recoveryKeyFile?: string;
}

/** A repository's address as it may be shown: a folder as it is, a URL without user, password or query. */
export function withoutCredentials(address: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(address)) return address;
  try {
    const url = new URL(address);
    return `${url.protocol}//${url.host}${url.pathname}`;
  } catch {
    return '(an address that does not parse)';
  }
}
