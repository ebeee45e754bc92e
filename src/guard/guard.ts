/**
 * The ransomware guard: watches folders (fs.watch, recursive, plus a periodic scan for anything the
 * watcher missed), keeps a small fingerprint of every file, judges each change with the detectors
 * in evidence.ts, and raises an alarm when the evidence of distinct files adds up to ALARM_AT in
 * its window, at once on a decoy touch or a ransom note. An alarm is one NDJSON line appended to
 * the alerts file; the first alarm of an incident also makes the share read-only (if asked) and
 * takes the protective snapshot of the files not yet touched.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { loadDecoyState, NO_DECOY_DIRS, plantDecoys, renewDecoyTime, saveDecoyState } from './decoys.js';
import { compareToBaseline, foreignExtension, isUnreadable, similarSize, WEAK, type Signal } from './evidence.js';
import { fingerprint, UNJUDGED, type Fingerprint } from './fingerprint.js';
import { isStrongNote, isWeakNote, scoreNote } from './notes.js';
import { makeReadOnly, type ProtectiveSnapshot, type SnapshotResult } from './response.js';
import { SHARE_MARKER } from './share.js';

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

export interface GuardOptions {
  dirs: string[];
  alertsFile: string;
  decoys?: boolean;
  readOnlyOnAlarm?: boolean;
  snapshot?: ProtectiveSnapshot;
  /** Folders not watched, such as a backup repository kept inside the share. */
  exclude?: string[];
  /** Periodic rescan, the fallback for events the watcher dropped (ms). */
  scanIntervalMs?: number;
  onAlarm?: (a: Alarm) => void;
  /** Where the decoy list is kept (outside the share); default: next to the alerts file. */
  decoyStateFile?: string;
}

export const ALARM_AT = 2;
/** Destroyed files count for an hour (one file a minute is caught too); weaker signs for ten minutes. */
const STRONG_WINDOW_MS = 3600e3;
const WEAK_WINDOW_MS = 600e3;
/** How long a vanished file is remembered, to recognise it coming back encrypted. */
const TOMBSTONE_MS = 600e3;
/** Weak ransom notes: the same note in this many folders. */
const NOTE_FOLDERS = 3;
/** Further alarm lines of the same incident at most this often. */
const REPEAT_MS = 5000;
const DECOY_MOVE_MS = 2000;
const SEVERITY_RANK: Record<Severity, number> = { high: 2, critical: 3 };

interface Evidence {
  t: number;
  weight: number;
  signal: string;
  paths: string[];
}

interface Tombstone {
  path: string;
  fp: Fingerprint;
  t: number;
}

export class Guard {
  readonly roots: string[];
  private readonly baseline = new Map<string, Fingerprint>();
  /** Baselines of files that showed evidence: never replaced by the damaged content. */
  private readonly pinned = new Set<string>();
  private readonly decoys = new Set<string>();
  /** Decoys whose folder vanished, waiting to turn up elsewhere. */
  private readonly movingDecoys = new Map<string, Fingerprint>();
  private readonly tombstones = new Map<string, Tombstone[]>(); // by folder
  private readonly unreadableNew = new Map<string, Array<{ path: string; size: number; t: number }>>(); // by folder
  private readonly evidence = new Map<string, Evidence>(); // by path: the strongest
  private readonly notes = new Map<string, Set<string>>(); // note key -> folders
  private readonly extensions = new Set<string>();
  /** Files that appeared under a new name lately, to pair with a vanished name judged after them. */
  private readonly recentNew: Array<{ path: string; fp: Fingerprint; t: number }> = [];
  private readonly inFlight = new Map<string, boolean>(); // path -> dirty again
  private readonly retries = new Map<string, number>();
  private readonly watchers: fs.FSWatcher[] = [];
  private readonly exclude: string[];
  private readonly own: Set<string>;
  private timer?: NodeJS.Timeout;
  private incident?: { since: number; affected: Set<string>; lastLine: number; reported: number; severity: number; response?: Promise<void>; results: Record<string, unknown> };
  private stopped = false;
  readonly alarms: Alarm[] = [];
  readonly affectedFile: string;
  private readonly decoyStateFile: string;

  constructor(private readonly opts: GuardOptions) {
    this.roots = opts.dirs.map((d) => fs.realpathSync(path.resolve(d)));
    this.exclude = (opts.exclude ?? []).map((d) => path.resolve(d));
    const alerts = path.resolve(opts.alertsFile);
    this.affectedFile = alerts.replace(/(\.ndjson|\.jsonl)?$/, '.affected.json');
    this.decoyStateFile = path.resolve(opts.decoyStateFile ?? alerts.replace(/(\.ndjson|\.jsonl)?$/, '.decoys.json'));
    this.own = new Set([alerts, this.affectedFile, this.decoyStateFile]);
  }

  /** Builds the baseline, plants decoys, starts watching; resolves when ready. */
  async start(): Promise<{ files: number; folders: number; decoys: number }> {
    // Watch first: a change during the first scan is then seen as a new file rather than missed.
    for (const root of this.roots) {
      try {
        const w = fs.watch(root, { recursive: true }, (_event, name) => {
          if (name) this.enqueue(path.join(root, name.toString()));
        });
        w.on('error', () => {}); // a vanished subfolder; the periodic scan covers the rest
        this.watchers.push(w);
      } catch (err) {
        throw new Error(`cannot watch ${root}: ${(err as Error).message}`);
      }
    }
    const folders: string[] = [];
    const files: string[] = [];
    for (const root of this.roots) await this.walk(root, folders, files);
    await mapLimit(files, 8, async (f) => {
      const fp = await fingerprint(f);
      if (fp) this.learn(f, fp);
    });
    if (this.opts.decoys) {
      const state = loadDecoyState(this.decoyStateFile);
      for (const d of folders) {
        if (path.relative(this.roots.find((r) => d === r || d.startsWith(r + path.sep))!, d).split(path.sep).some((s) => NO_DECOY_DIRS.has(s))) continue;
        for (const p of await plantDecoys(d, state.seed)) {
          const fp = await fingerprint(p);
          if (!fp) continue;
          // Baseline and decoy status together, in one step: an event of the planting itself,
          // judged meanwhile, then either sees an ordinary new file or a decoy with its baseline.
          this.baseline.set(p, fp);
          this.decoys.add(p);
        }
      }
      state.decoys = [...this.decoys];
      saveDecoyState(this.decoyStateFile, state);
    }
    this.timer = setInterval(() => void this.scan(), this.opts.scanIntervalMs ?? 30000);
    this.timer.unref();
    return { files: files.length, folders: folders.length, decoys: this.decoys.size };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const w of this.watchers) w.close();
    if (this.timer) clearInterval(this.timer);
    while (this.inFlight.size > 0) await new Promise((r) => setTimeout(r, 5));
    await this.incident?.response;
    if (this.affectedTimer) {
      clearTimeout(this.affectedTimer);
      this.affectedTimer = undefined;
      this.writeAffected();
    }
  }

  /** Waits until the changes seen so far have been judged (tests, the bench). */
  async settle(): Promise<void> {
    while (this.inFlight.size > 0) await new Promise((r) => setTimeout(r, 5));
  }

  get decoyPaths(): string[] {
    return [...this.decoys];
  }

  private skip(p: string): boolean {
    if (this.own.has(p)) return true;
    if (path.basename(p) === SHARE_MARKER) return true;
    if (this.exclude.some((e) => p === e || p.startsWith(e + path.sep))) return true;
    // Version-control internals are compressed objects that tools rewrite by the thousand.
    return p.split(path.sep).includes('.git');
  }

  private async walk(dir: string, folders: string[], files: string[]): Promise<void> {
    if (this.skip(dir)) return;
    folders.push(dir);
    let entries: fs.Dirent[];
    try {
      entries = await fsp.readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (this.skip(p)) continue;
      if (e.isDirectory()) await this.walk(p, folders, files);
      else if (e.isFile()) files.push(p);
    }
  }

  private learn(p: string, fp: Fingerprint): void {
    this.baseline.set(p, fp);
    const ext = path.extname(p).slice(1).toLowerCase();
    if (ext) this.extensions.add(ext);
  }

  private enqueue(p: string): void {
    if (this.stopped || this.skip(p)) return;
    if (this.inFlight.has(p)) {
      this.inFlight.set(p, true);
      return;
    }
    this.inFlight.set(p, false);
    void (async () => {
      try {
        for (;;) {
          this.inFlight.set(p, false);
          await this.judge(p);
          if (!this.inFlight.get(p)) break;
          // A file written in many small pieces fires an event per piece: let the other files'
          // events be judged before this one again.
          await new Promise((r) => setImmediate(r));
        }
      } catch {
        // a file that vanished between steps; the next event or scan judges it again
      } finally {
        this.inFlight.delete(p);
      }
    })();
  }

  /** The periodic scan: changes the watcher did not report, and the decoys' times. */
  private async scan(): Promise<void> {
    const folders: string[] = [];
    const files: string[] = [];
    for (const root of this.roots) await this.walk(root, folders, files);
    const present = new Set(files);
    for (const f of files) {
      const b = this.baseline.get(f);
      if (!b) this.enqueue(f);
      else {
        const st = await fsp.stat(f).catch(() => undefined);
        if (st && (st.size !== b.size || st.mtimeMs !== b.mtimeMs)) this.enqueue(f);
      }
    }
    for (const f of this.baseline.keys()) if (!present.has(f)) this.enqueue(f);
    for (const d of this.decoys) {
      const b = this.baseline.get(d);
      if (!b) continue;
      const renewed = renewDecoyTime(d);
      if (renewed !== undefined) b.mtimeMs = renewed; // our own change, expected before its event arrives
    }
  }

  private async judge(p: string): Promise<void> {
    // Known destroyed already: it can show nothing more, only still be there or not.
    if ((this.evidence.get(p)?.weight ?? 0) >= 1 && this.pinned.has(p) && fs.existsSync(p)) return;
    const fp = await fingerprint(p);
    const now = Date.now();
    if (!fp) {
      const st = await fsp.stat(p).catch(() => undefined);
      if (st?.isDirectory()) {
        // A folder created or moved in: its files may have arrived without events of their own.
        const folders: string[] = [];
        const files: string[] = [];
        await this.walk(p, folders, files);
        for (const f of files) this.enqueue(f);
        return;
      }
      if (st) return;
      this.vanished(p, now);
      // A folder moved away or deleted: everything under it went with it.
      const prefix = p + path.sep;
      for (const k of [...this.baseline.keys()]) if (k.startsWith(prefix)) this.vanished(k, now);
      return;
    }
    if (this.decoys.has(p)) {
      const b = this.baseline.get(p);
      if (!b || b.sample !== fp.sample || b.size !== fp.size || b.mtimeMs !== fp.mtimeMs) this.raise([p], 'decoy file modified', 'critical', now);
      return;
    }
    if (UNJUDGED.has(fp.kind)) {
      // Empty or zero-filled: a write in progress (truncate, preallocate). Look again shortly.
      const n = (this.retries.get(p) ?? 0) + 1;
      this.retries.set(p, n);
      if (n <= 20) {
        setTimeout(() => this.enqueue(p), 10 * n).unref(); // 10 ms, then longer: about 2 s in all
        return;
      }
      this.retries.delete(p);
      // Still empty or zeros after two seconds: no write is coming. A document wiped in place is
      // destroyed; one emptied beside an unreadable copy of it is an original gone.
      const old = this.baseline.get(p);
      if (!old || UNJUDGED.has(old.kind) || this.pinned.has(p)) return;
      if (fp.kind === 'zero' && fp.size >= old.size * 0.98) {
        this.pinned.add(p);
        this.add(p, { weight: 1, signal: `${old.kind} overwritten with zeros` }, [p], now);
      } else if (fp.kind === 'empty') {
        const copies = this.unreadableNew.get(path.dirname(p)) ?? [];
        const i = copies.findIndex((c) => similarSize(old.size, c.size) && now - c.t < TOMBSTONE_MS);
        if (i >= 0) {
          const [copy] = copies.splice(i, 1);
          this.pinned.add(p);
          this.add(copy.path, { weight: 1, signal: `original ${old.kind} emptied after an unreadable copy of similar size was written` }, [p, copy.path], now);
        }
      }
      return;
    }
    this.retries.delete(p);
    const dir = path.dirname(p);
    let old = this.baseline.get(p);
    if (!old) {
      // Back under its old name (moved out, encrypted, moved back)?
      const t = this.takeTombstone(dir, (x) => x.path === p);
      if (t) old = t.fp;
    }
    if (old) {
      const s = compareToBaseline(old, fp);
      if (s) {
        this.pinned.add(p);
        this.baseline.set(p, old);
        this.add(p, s, [p], now);
      } else if (!this.pinned.has(p)) this.learn(p, fp);
      if (fp.kind === 'text') void this.checkNote(p, now);
      return;
    }
    // A decoy whose folder was moved, arriving at its new place.
    for (const [from, dfp] of this.movingDecoys) {
      if (dfp.sample === fp.sample && dfp.size === fp.size && path.basename(from) === path.basename(p)) {
        this.baseline.set(p, fp);
        this.adoptDecoy(from, p);
        return;
      }
    }
    // A new name. A rename keeps the sampled bytes: find the name it had.
    const renamed = this.takeTombstone(undefined, (x) => x.fp.sample === fp.sample && x.fp.size === fp.size && now - x.t < 10000);
    if (renamed) {
      if (foreignExtension(p, fp, this.extensions)) this.add(p, { weight: WEAK, signal: `renamed to a new extension .${path.extname(p).slice(1)}` }, [renamed.path, p], now);
      if (this.pinned.delete(renamed.path)) this.pinned.add(p);
      this.baseline.set(p, fp);
      return;
    }
    if (isUnreadable(fp)) {
      const original = this.takeTombstone(dir, (x) => similarSize(x.fp.size, fp.size) && !isUnreadable(x.fp));
      if (original) this.add(p, { weight: 1, signal: `${original.fp.kind} replaced by an unreadable file of similar size` }, [original.path, p], now);
      else {
        const list = this.unreadableNew.get(dir) ?? [];
        list.push({ path: p, size: fp.size, t: now });
        this.unreadableNew.set(dir, list);
        // Alone, new unreadable files destroy nothing (an encrypted export, a container): they
        // count only while files are vanishing without a pair, which is when they may be the
        // copies of originals deleted elsewhere. Beside their originals, they pair (weight 1).
        if (this.unpairedVanished(now) > 0) this.add(p, { weight: WEAK, signal: `new unreadable file (${fp.kind}) while files vanish` }, [p], now);
      }
      this.baseline.set(p, fp);
      this.pinned.add(p);
      return;
    }
    this.learn(p, fp);
    this.recentNew.push({ path: p, fp, t: now });
    if (this.recentNew.length > 256) this.recentNew.shift();
    if (fp.kind === 'text') void this.checkNote(p, now);
  }

  private vanished(p: string, now: number): void {
    const fp = this.baseline.get(p);
    if (!fp) return;
    this.baseline.delete(p);
    if (this.decoys.has(p)) {
      this.decoyGone(p, fp, now);
      return;
    }
    // The other half of a rename whose new name was judged first.
    const r = this.recentNew.findIndex((x) => x.fp.sample === fp.sample && x.fp.size === fp.size && now - x.t < 10000);
    if (r >= 0) {
      const [moved] = this.recentNew.splice(r, 1);
      if (foreignExtension(moved.path, moved.fp, this.extensions)) this.add(moved.path, { weight: WEAK, signal: `renamed to a new extension .${path.extname(moved.path).slice(1)}` }, [p, moved.path], now);
      if (this.pinned.delete(p)) this.pinned.add(moved.path);
      return;
    }
    const dir = path.dirname(p);
    // Deleted after an unreadable copy of similar size appeared beside it?
    const copies = this.unreadableNew.get(dir) ?? [];
    const i = isUnreadable(fp) ? -1 : copies.findIndex((c) => similarSize(fp.size, c.size) && now - c.t < TOMBSTONE_MS);
    if (i >= 0) {
      const [copy] = copies.splice(i, 1);
      this.add(copy.path, { weight: 1, signal: `original ${fp.kind} deleted after an unreadable copy of similar size was written` }, [p, copy.path], now);
      return;
    }
    const list = (this.tombstones.get(dir) ?? []).filter((t) => now - t.t < TOMBSTONE_MS);
    list.push({ path: p, fp, t: now });
    this.tombstones.set(dir, list);
  }

  /**
   * A decoy left its name. Renamed or deleted inside a folder that is still there: an alarm at once.
   * Its whole folder gone: staff moving a folder take the decoys with them, so the alarm waits
   * (DECOY_MOVE_MS) for the decoy to turn up under the same name elsewhere.
   */
  private decoyGone(p: string, fp: Fingerprint, now: number): void {
    const moved = (x: { path: string; fp: Fingerprint }) => x.fp.sample === fp.sample && x.fp.size === fp.size && path.basename(x.path) === path.basename(p);
    const r = this.recentNew.findIndex((x) => moved(x) && now - x.t < DECOY_MOVE_MS);
    if (r >= 0) {
      this.adoptDecoy(p, this.recentNew.splice(r, 1)[0].path);
      return;
    }
    if (fs.existsSync(path.dirname(p))) {
      this.raise([p], 'decoy file deleted or renamed', 'critical', now);
      return;
    }
    this.movingDecoys.set(p, fp);
    setTimeout(() => {
      if (this.movingDecoys.delete(p) && !this.stopped) this.raise([p], 'decoy file deleted with its folder', 'critical', Date.now());
    }, DECOY_MOVE_MS).unref();
  }

  private adoptDecoy(from: string, to: string): void {
    this.decoys.delete(from);
    this.decoys.add(to);
    this.movingDecoys.delete(from);
    const fp = this.baseline.get(to);
    if (fp) this.baseline.set(to, fp);
    if (fs.existsSync(this.decoyStateFile)) saveDecoyState(this.decoyStateFile, { ...loadDecoyState(this.decoyStateFile), decoys: [...this.decoys] });
  }

  private unpairedVanished(now: number): number {
    let n = 0;
    for (const list of this.tombstones.values()) for (const t of list) if (now - t.t < WEAK_WINDOW_MS && !isUnreadable(t.fp)) n++;
    return n;
  }

  private takeTombstone(dir: string | undefined, match: (t: Tombstone) => boolean): Tombstone | undefined {
    const now = Date.now();
    const lists = dir === undefined ? [...this.tombstones.values()] : [this.tombstones.get(dir) ?? []];
    for (const list of lists) {
      const i = list.findIndex((t) => now - t.t < TOMBSTONE_MS && match(t));
      if (i >= 0) return list.splice(i, 1)[0];
    }
    return undefined;
  }

  private async checkNote(p: string, now: number): Promise<void> {
    const b = this.baseline.get(p);
    if (!b || b.size > 65536) return;
    let text: string;
    try {
      text = await fsp.readFile(p, 'utf8');
    } catch {
      return;
    }
    const s = scoreNote(text);
    if (isStrongNote(s)) {
      this.add(p, { weight: 2, signal: `ransom note (${s.channels.join(', ')})` }, [p], now, 'ransom note');
      return;
    }
    if (!isWeakNote(s)) return;
    // The same note in several folders: by name, and by content (names may be randomised).
    for (const key of [`name:${path.basename(p).toLowerCase()}`, `text:${text.replace(/\s+/g, ' ').trim().slice(0, 2000)}`]) {
      const dirs = this.notes.get(key) ?? new Set<string>();
      dirs.add(path.dirname(p));
      this.notes.set(key, dirs);
      if (dirs.size >= NOTE_FOLDERS) this.add(p, { weight: 2, signal: `the same note with extortion vocabulary in ${dirs.size} folders` }, [p], now, 'ransom notes');
    }
  }

  private add(p: string, s: Signal, paths: string[], now: number, reason?: string): void {
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
    if (this.incident) for (const q of paths) this.incident.affected.add(q);
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

  private raise(paths: string[], reason: string, severity: Severity, now: number, since = now): void {
    const first = !this.incident;
    if (!this.incident) this.incident = { since, affected: new Set(), lastLine: 0, reported: 0, severity: 0, results: {} };
    const inc = this.incident;
    inc.since = Math.min(inc.since, since);
    for (const e of this.evidence.values()) for (const q of e.paths) inc.affected.add(q);
    for (const q of paths) if (!this.decoys.has(q)) inc.affected.add(q);
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
      affected: [...inc.affected].filter((q) => !this.decoys.has(q)),
      affectedFile: this.affectedFile,
    };
    // Synchronous append: the line is on disk before anything else happens, in order.
    fs.appendFileSync(this.opts.alertsFile, JSON.stringify(alarm) + '\n', { mode: 0o600 });
    this.alarms.push(alarm);
    this.writeAffected();
    this.opts.onAlarm?.(alarm);
    if (first) inc.response = this.respond(alarm);
  }

  private affectedTimer?: NodeJS.Timeout;
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
    const doc = { since: new Date(inc.since).toISOString(), updated: new Date().toISOString(), affected: [...inc.affected].filter((q) => !this.decoys.has(q)), ...inc.results };
    fs.writeFileSync(this.affectedFile, JSON.stringify(doc, null, 1) + '\n', { mode: 0o600 });
  }

  private async respond(alarm: Alarm): Promise<void> {
    const inc = this.incident!;
    if (this.opts.readOnlyOnAlarm) {
      try {
        inc.results.readOnly = { entries: await makeReadOnly(this.roots, (p) => this.own.has(p) || this.exclude.some((e) => p === e || p.startsWith(e + path.sep))) };
      } catch (err) {
        inc.results.readOnly = { error: (err as Error).message };
      }
    }
    if (this.opts.snapshot) {
      const files = [...this.baseline]
        .filter(([p]) => !inc.affected.has(p) && !this.decoys.has(p) && !this.pinned.has(p))
        .map(([p, baseline]) => ({ path: p, baseline }));
      try {
        const r: SnapshotResult = await this.opts.snapshot({ roots: this.roots, files, alarmTime: alarm.time });
        for (const q of r.changedMeanwhile) inc.affected.add(q);
        inc.results.snapshot = { location: r.location, files: r.files, bytes: r.bytes, changedMeanwhile: r.changedMeanwhile.length };
      } catch (err) {
        inc.results.snapshot = { error: (err as Error).message };
      }
    }
    this.writeAffected();
  }
}

async function mapLimit<T>(xs: T[], limit: number, fn: (x: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(Array.from({ length: Math.min(limit, xs.length) }, async () => {
    while (i < xs.length) await fn(xs[i++]);
  }));
}
