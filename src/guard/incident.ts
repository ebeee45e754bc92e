/**
 * What the guard does with evidence once the detectors have judged a change: the evidence of
 * distinct files adds up in its window, and at ALARM_AT (or at once for a decoy or a ransom note)
 * the incident begins: one NDJSON line appended to the alerts file, the affected list kept in its
 * side file, and, at the first alarm only, the response (read-only share, protective snapshot).
 * The watcher (guard.ts) decides what a change means; this decides when that is an alarm.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Signal } from './evidence.js';
import type { Fingerprint } from './fingerprint.js';
import { makeReadOnly, type ProtectiveSnapshot, type SavedMode, type SnapshotResult } from './response.js';

export type Severity = 'critical' | 'high';

/** One line of the alerts file. */
export interface Alarm {
  time: string;
  /** The files whose changes raised this alarm. */
  paths: string[];
  reason: string;
  severity: Severity;
  /** Start of the incident: the first suspicious change the guard saw (for "undo the attack"). */
  since: string;
  /** Every file the incident has touched so far (destroyed, replaced, renamed); see also `affectedFile`. */
  affected: string[];
  /** Side file kept up to date with the growing affected list and the response's results. */
  affectedFile: string;
}

/** The files kept beside the alerts file: the affected list, the decoy list, the modes the read-only response took. */
export function sideFiles(alertsFile: string): { affected: string; decoys: string; modes: string } {
  const base = path.resolve(alertsFile).replace(/(\.ndjson|\.jsonl)?$/, '');
  return { affected: `${base}.affected.json`, decoys: `${base}.decoys.json`, modes: `${base}.modes.json` };
}

export const ALARM_AT = 2;
/** Destroyed files count for an hour (one file a minute is caught too); weaker signs for ten minutes. */
const STRONG_WINDOW_MS = 3600e3;
const WEAK_WINDOW_MS = 600e3;
/** Further alarm lines of the same incident at most this often. */
const REPEAT_MS = 5000;
const SEVERITY_RANK: Record<Severity, number> = { high: 2, critical: 3 };

interface Evidence {
  t: number;
  weight: number;
  signal: string;
  paths: string[];
}

/** What the incident needs to know of the watcher's state and the installation's response. */
export interface IncidentContext {
  alertsFile: string;
  affectedFile: string;
  /** Where the modes taken off by the read-only response are saved, for `release`. */
  modesFile: string;
  roots: string[];
  isDecoy: (p: string) => boolean;
  /** Files of the baseline that have shown no evidence, with their baselines (the snapshot's material). */
  untouched: () => Array<{ path: string; baseline: Fingerprint }>;
  /** Paths the read-only response leaves alone (the guard's own files, excluded folders). */
  leaveWritable: (p: string) => boolean;
  readOnlyOnAlarm?: boolean;
  snapshot?: ProtectiveSnapshot;
  onAlarm?: (a: Alarm) => void;
}

export class IncidentDesk {
  private readonly evidence = new Map<string, Evidence>(); // by path: the strongest
  private incident?: {
    since: number;
    affected: Set<string>;
    lastLine: number;
    reported: number;
    severity: number;
    response?: Promise<void>;
    results: Record<string, unknown>;
  };
  private affectedTimer?: NodeJS.Timeout;
  readonly alarms: Alarm[] = [];

  constructor(private readonly ctx: IncidentContext) {}

  /** The weight of the evidence recorded for a file (1 or more: known destroyed). */
  weightOf(p: string): number {
    return this.evidence.get(p)?.weight ?? 0;
  }

  /** Resolves once the first alarm's response (read-only, snapshot) is done, and the affected list written. */
  async settle(): Promise<void> {
    await this.incident?.response;
    if (this.affectedTimer) {
      clearTimeout(this.affectedTimer);
      this.affectedTimer = undefined;
      this.writeAffected();
    }
  }

  add(p: string, s: Signal, paths: string[], now: number, reason?: string): void {
    // One file under two names (judged, then renamed; an original and its encrypted copy) is one
    // file of evidence: the entries of its other names merge into this one.
    for (const q of paths) {
      const other = q !== p ? this.evidence.get(q) : undefined;
      if (!other) continue;
      this.evidence.delete(q);
      if (other.weight > s.weight) s = { weight: other.weight, signal: other.signal };
      paths = [...new Set([...other.paths, ...paths])];
    }
    const prev = this.evidence.get(p);
    if (!prev || prev.weight < s.weight) this.evidence.set(p, { t: now, weight: s.weight, signal: s.signal, paths });
    if (this.incident) {
      for (const q of paths) this.incident.affected.add(q);
      this.incident.since = Math.min(this.incident.since, this.earliestChange(paths, now));
    }
    let total = 0;
    const recent: Evidence[] = [];
    for (const [k, e] of this.evidence) {
      const age = now - e.t;
      if (age > STRONG_WINDOW_MS || (e.weight < 1 && age > WEAK_WINDOW_MS)) {
        this.evidence.delete(k);
        continue;
      }
      total += e.weight;
      recent.push(e);
    }
    if (total >= ALARM_AT || this.incident) {
      const signals = [...new Set(recent.sort((a, b) => b.weight - a.weight).map((e) => e.signal))].slice(0, 5);
      this.raise(
        recent.flatMap((e) => e.paths),
        reason ?? `encryption activity: ${recent.length} files (${signals.join('; ')})`,
        'high',
        now,
        Math.min(...recent.map((e) => e.t)),
      );
    }
  }

  raise(paths: string[], reason: string, severity: Severity, now: number, since = now): void {
    const first = !this.incident;
    if (!this.incident) this.incident = { since, affected: new Set(), lastLine: 0, reported: 0, severity: 0, results: {} };
    const inc = this.incident;
    inc.since = Math.min(inc.since, since);
    // Later evidence joins the affected list as it is added (add()); the earlier only here, once.
    if (first) for (const e of this.evidence.values()) for (const q of e.paths) inc.affected.add(q);
    for (const q of paths) if (!this.ctx.isDecoy(q)) inc.affected.add(q);
    // The incident began with the first destructive write, before the alarm: "undo the attack"
    // restores what changed since then (later files' writes are taken in as add() records them).
    if (first) inc.since = Math.min(inc.since, this.earliestChange(inc.affected, now));
    // Later lines of one incident: when something new is known (or it got more severe), and not
    // more often than REPEAT_MS; the affected file keeps up in between.
    const rank = SEVERITY_RANK[severity];
    if (!first && rank <= inc.severity && (now - inc.lastLine < REPEAT_MS || inc.affected.size === inc.reported)) {
      this.writeAffectedSoon();
      return;
    }
    inc.severity = Math.max(inc.severity, rank);
    inc.lastLine = now;
    inc.reported = inc.affected.size;
    const alarm: Alarm = {
      time: new Date(now).toISOString(),
      paths: [...new Set(paths)],
      reason,
      severity,
      since: new Date(inc.since).toISOString(),
      affected: this.affectedList(),
      affectedFile: this.ctx.affectedFile,
    };
    // Synchronous append: the line is on disk before anything else happens, in order.
    fs.appendFileSync(this.ctx.alertsFile, JSON.stringify(alarm) + '\n', { mode: 0o600 });
    this.alarms.push(alarm);
    this.writeAffected();
    this.ctx.onAlarm?.(alarm);
    if (first) inc.response = this.respond(alarm);
  }

  /**
   * When these files were last written (their destructive write, for files judged destroyed), at
   * the earliest; never further back than the evidence window, whatever times a file carries.
   */
  private earliestChange(paths: Iterable<string>, now: number): number {
    let t = Infinity;
    for (const q of paths) {
      if (this.ctx.isDecoy(q)) continue;
      const st = fs.statSync(q, { throwIfNoEntry: false });
      if (st && st.mtimeMs < t) t = Math.floor(st.mtimeMs);
    }
    return Math.max(t, now - STRONG_WINDOW_MS);
  }

  private affectedList(): string[] {
    return [...(this.incident?.affected ?? [])].filter((q) => !this.ctx.isDecoy(q));
  }

  /** At most four writes a second of the affected list while an attack goes on. */
  private writeAffectedSoon(): void {
    if (this.affectedTimer) return;
    this.affectedTimer = setTimeout(() => {
      this.affectedTimer = undefined;
      this.writeAffected();
    }, 250);
  }

  private writeAffected(): void {
    const inc = this.incident!;
    const doc = { since: new Date(inc.since).toISOString(), updated: new Date().toISOString(), affected: this.affectedList(), ...inc.results };
    fs.writeFileSync(this.ctx.affectedFile, JSON.stringify(doc, null, 1) + '\n', { mode: 0o600 });
  }

  private async respond(alarm: Alarm): Promise<void> {
    const inc = this.incident!;
    if (this.ctx.readOnlyOnAlarm) {
      try {
        const saved: SavedMode[] = await makeReadOnly(this.ctx.roots, this.ctx.leaveWritable);
        // Merged with modes saved by an earlier incident not yet released: the first saved mode is the original.
        const earlier = readSavedModes(this.ctx.modesFile);
        const known = new Set(earlier.map((m) => m.path));
        fs.writeFileSync(this.ctx.modesFile, JSON.stringify([...earlier, ...saved.filter((m) => !known.has(m.path))]) + '\n', { mode: 0o600 });
        inc.results.readOnly = { entries: saved.length, modesFile: this.ctx.modesFile };
      } catch (err) {
        inc.results.readOnly = { error: (err as Error).message };
      }
    }
    if (this.ctx.snapshot) {
      const files = this.ctx.untouched().filter((f) => !inc.affected.has(f.path));
      try {
        const r: SnapshotResult = await this.ctx.snapshot({ roots: this.ctx.roots, files, alarmTime: alarm.time });
        for (const q of r.changedMeanwhile) inc.affected.add(q);
        inc.results.snapshot = { location: r.location, files: r.files, bytes: r.bytes, changedMeanwhile: r.changedMeanwhile.length };
      } catch (err) {
        inc.results.snapshot = { error: (err as Error).message };
      }
    }
    this.writeAffected();
  }
}

export function readSavedModes(file: string): SavedMode[] {
  if (!fs.existsSync(file)) return [];
  return JSON.parse(fs.readFileSync(file, 'utf8')) as SavedMode[];
}
