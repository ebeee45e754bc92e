/**
 * The ransomware guard as part of the server (`carewall start`): it watches the file shares of
 * carewall.json (backup.shares, or those `guard.shares` names) and, at an alarm, records it
 * (guard_alarm: counts and share names), notifies the privacy officers and the webhooks through the
 * notify function it is given, and takes the protective snapshot into the backup repository
 * through the protect function it is given (a copy into DATA_DIR/guard/snapshots when no
 * repository is set up, or when the repository cannot be reached). The alerts file with the paths
 * stays in DATA_DIR/guard (0700). Run it in one process per watched machine.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Database } from '../db/index.js';
import type { Logger } from '../log.js';
import { Guard } from './guard.js';
import { readSavedModes, sideFiles, type Alarm, type Severity } from './incident.js';
import { copySnapshot, restoreWriteBits, stillMatches, type ProtectiveSnapshot } from './response.js';
import type { GuardSettings } from './settings.js';

/** The backup module's protective snapshot of chosen files (BackupService.protect). */
export type ProtectFiles = (
  files: string[],
  stillGood: (abs: string) => Promise<boolean>,
) => Promise<{ snapshot: string; files: number; bytes: number; changedMeanwhile: string[] }>;

export interface GuardServiceDeps {
  db: Database;
  dataDir: string;
  /** Every share of backup.shares, name -> folder. */
  shares: Record<string, string>;
  settings: GuardSettings;
  /** Folders inside the shares to leave alone (a backup repository kept in a share). */
  exclude: () => string[];
  /** Undefined while no backup repository is set up. */
  protect: () => ProtectFiles | undefined;
  /** To the privacy officers and the webhooks; the message names no file. */
  notify: (message: string) => Promise<void>;
  log: Logger;
}

export interface GuardAlarmRow {
  id: string;
  at: string;
  severity: Severity;
  reason: string;
  since: string;
  shares: string[];
  files: number;
  affected: number;
}

/** The protective snapshot as the incident's side file keeps it: counts, never paths (incident.ts). */
export interface IncidentSnapshot {
  location?: string;
  files?: number;
  bytes?: number;
  changedMeanwhile?: number;
  error?: string;
}

export interface GuardStatus {
  enabled: boolean;
  watching: boolean;
  shares: string[];
  decoys: boolean;
  readOnlyOnAlarm: boolean;
  /** The write bits are off (an alarm's response) until `release`. */
  readOnly: boolean;
  /** The incident under way since the last release, in counts. */
  incident?: { since: string; affected: number; snapshot?: IncidentSnapshot };
}

export class GuardService {
  private guard?: Guard;
  readonly folder: string;
  readonly alertsFile: string;
  private readonly watched: Record<string, string>;
  private pending = new Set<Promise<unknown>>();

  constructor(private readonly deps: GuardServiceDeps) {
    this.folder = path.join(deps.dataDir, 'guard');
    this.alertsFile = path.join(this.folder, 'alerts.ndjson');
    const names = deps.settings.shares ?? Object.keys(deps.shares);
    this.watched = Object.fromEntries(names.map((n) => [n, deps.shares[n]]));
  }

  get enabled(): boolean {
    return this.deps.settings.enabled && Object.keys(this.watched).length > 0;
  }

  /**
   * The decoy files the guard planted in the shares (absolute paths): not the clinic's files, so
   * backups leave them out, and "undo the attack" never writes one back (which would raise an alarm).
   */
  decoyPaths(): string[] {
    const file = sideFiles(this.alertsFile).decoys;
    if (!fs.existsSync(file)) return [];
    return (JSON.parse(fs.readFileSync(file, 'utf8')) as { decoys?: string[] }).decoys ?? [];
  }

  private get modesFile(): string {
    return sideFiles(this.alertsFile).modes;
  }

  private get affectedFile(): string {
    return sideFiles(this.alertsFile).affected;
  }

  /** Starts watching (when enabled); a share folder that does not exist is an error, not a silent gap. */
  async start(): Promise<{ files: number; folders: number; decoys: number } | undefined> {
    if (!this.enabled || this.guard) return undefined;
    for (const [name, dir] of Object.entries(this.watched)) {
      if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new Error(`guard: share ${name} (${dir}) is not a folder`);
    }
    fs.mkdirSync(this.folder, { recursive: true, mode: 0o700 });
    const s = this.deps.settings;
    const guard = new Guard({
      dirs: Object.values(this.watched),
      alertsFile: this.alertsFile,
      decoys: s.decoys,
      readOnlyOnAlarm: s.readOnlyOnAlarm,
      snapshot: this.protectiveSnapshot(),
      // The guard's own folder and a backup repository kept inside a share are not watched.
      exclude: [this.folder, ...this.deps.exclude()],
      scanIntervalMs: s.scanIntervalSeconds * 1000,
      onAlarm: (a) => this.track(this.onAlarm(a)),
    });
    const started = await guard.start();
    this.guard = guard;
    this.deps.log.info({ shares: Object.keys(this.watched).length, files: started.files, decoys: started.decoys }, 'ransomware guard watching');
    return started;
  }

  async stop(): Promise<void> {
    await this.guard?.stop();
    this.guard = undefined;
    await Promise.allSettled([...this.pending]);
  }

  /** Waits for the changes seen so far to be judged and the alarms' records and notifications to be done (tests). */
  async settle(): Promise<void> {
    await this.guard?.settle();
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  /**
   * Waits until every change made to the shares before this call has been seen and judged, and the
   * alarms' records and notifications are done (tests: "nothing more happened" is then a fact).
   */
  async sync(): Promise<void> {
    await this.guard?.sync();
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  private track(p: Promise<unknown>): void {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  private sharesOf(paths: string[]): string[] {
    return Object.entries(this.watched)
      .filter(([, dir]) => paths.some((p) => p === dir || p.startsWith(dir + path.sep)))
      .map(([name]) => name);
  }

  private async onAlarm(a: Alarm): Promise<void> {
    const shares = this.sharesOf([...a.paths, ...a.affected]);
    try {
      await this.deps.db.query(
        `insert into guard_alarm (raised_at, severity, reason, incident_since, shares, files, affected, host) values ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [a.time, a.severity, a.reason, a.since, shares, a.paths.length, a.affected.length, os.hostname()],
      );
    } catch (err) {
      this.deps.log.error({ err: (err as Error).message }, 'guard alarm could not be recorded in the database (it is in the alerts file)');
    }
    this.deps.log.warn({ severity: a.severity, shares, files: a.paths.length, affected: a.affected.length }, 'ransomware guard alarm');
    const message = `ransomware guard: ${a.severity} alarm on share${shares.length === 1 ? '' : 's'} ${shares.join(', ') || '(unknown)'}: ${a.reason}; ${a.affected.length} file(s) affected since ${a.since}. The list is in ${this.affectedFile} on ${os.hostname()}.`;
    await this.deps.notify(message).catch((err: Error) => this.deps.log.error({ err: err.message }, 'guard alarm notification failed'));
  }

  /**
   * Into the backup repository when one is set up (append-only: the attacker on the share cannot
   * reach it); a copy into DATA_DIR/guard/snapshots otherwise, or when the repository fails.
   */
  private protectiveSnapshot(): ProtectiveSnapshot {
    const copy = copySnapshot(path.join(this.folder, 'snapshots'));
    return async (req) => {
      const protect = this.deps.protect();
      if (protect) {
        try {
          const byPath = new Map(req.files.map((f) => [f.path, f.baseline]));
          const r = await protect([...byPath.keys()], async (abs) => {
            const b = byPath.get(abs);
            return b ? stillMatches(b, abs) : false;
          });
          return { location: `backup snapshot ${r.snapshot}`, files: r.files, bytes: r.bytes, changedMeanwhile: r.changedMeanwhile };
        } catch (err) {
          this.deps.log.error({ err: (err as Error).message }, 'protective snapshot into the backup repository failed; copying into the data folder');
        }
      }
      return copy(req);
    };
  }

  async alarms(limit = 100): Promise<GuardAlarmRow[]> {
    const r = await this.deps.db.query<{
      id: string;
      raised_at: Date;
      // The table's check constraint holds it to these (schema.ts).
      severity: Severity;
      reason: string;
      incident_since: Date;
      shares: string[];
      files: number;
      affected: number;
    }>(`select id::text as id, raised_at, severity, reason, incident_since, shares, files, affected from guard_alarm order by id desc limit $1`, [limit]);
    return r.rows.map((x) => ({
      id: x.id,
      at: new Date(x.raised_at).toISOString(),
      severity: x.severity,
      reason: x.reason,
      since: new Date(x.incident_since).toISOString(),
      shares: x.shares,
      files: x.files,
      affected: x.affected,
    }));
  }

  status(): GuardStatus {
    const s = this.deps.settings;
    let incident: GuardStatus['incident'];
    if (fs.existsSync(this.affectedFile)) {
      const doc = JSON.parse(fs.readFileSync(this.affectedFile, 'utf8')) as {
        since: string;
        affected: string[];
        snapshot?: IncidentSnapshot;
      };
      incident = { since: doc.since, affected: doc.affected.length, snapshot: doc.snapshot };
    }
    return {
      enabled: this.enabled,
      watching: !!this.guard,
      shares: Object.keys(this.watched),
      decoys: s.decoys,
      readOnlyOnAlarm: s.readOnlyOnAlarm,
      readOnly: fs.existsSync(this.modesFile),
      incident,
    };
  }

  /**
   * After the clean-up: gives the shares their write bits back, files the incident's affected list
   * away (alerts.affected.<time>.json) and starts watching afresh, with the share as it now is for
   * baseline, so that a later attack is a new incident with a response of its own.
   */
  async release(): Promise<{ writable: number; incidentFile?: string }> {
    const wasWatching = !!this.guard;
    await this.stop();
    const writable = await releaseShares(this.alertsFile);
    let incidentFile: string | undefined;
    if (fs.existsSync(this.affectedFile)) {
      incidentFile = path.join(this.folder, `alerts.affected.${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
      fs.renameSync(this.affectedFile, incidentFile);
    }
    if (wasWatching) await this.start();
    return { writable, incidentFile };
  }
}

/** Gives back the write bits an alarm's read-only response took (per the alerts file's side file); the number of entries. */
export async function releaseShares(alertsFile: string): Promise<number> {
  const modes = sideFiles(alertsFile).modes;
  const n = await restoreWriteBits(readSavedModes(modes));
  fs.rmSync(modes, { force: true });
  return n;
}
