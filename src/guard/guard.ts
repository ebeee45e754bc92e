/**
 * The ransomware guard: watches folders (fs.watch, recursive, plus a periodic scan for anything the
 * watcher missed), keeps a small fingerprint of every file, and judges each change with the
 * detectors in evidence.ts. What the evidence adds up to, the alarm and the response, is
 * incident.ts's.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { BurstMeter } from './burst.js';
import { Retries } from './retry.js';
import { DECOY_MOVE_MS, DecoySet, renewDecoyTime } from './decoys.js';
import { Destruction, transient, wipeSignal } from './destruction.js';
import { compareToBaseline, foreignExtension, isUnreadable, similarSize, WEAK, type Signal } from './evidence.js';
import { fingerprint, UNJUDGED, type Fingerprint } from './fingerprint.js';
import { NoteTracker } from './notes.js';
import { IncidentDesk, sideFiles, type Alarm, type Severity } from './incident.js';
import type { ProtectiveSnapshot } from './response.js';
import { SHARE_MARKER } from './share.js';
import { SyncMarkers } from './syncMarkers.js';
import { TOMBSTONE_MS, Tombstones } from './tombstones.js';
import { listTree, mapLimit } from './tree.js';

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

export class Guard {
  readonly roots: string[];
  private readonly baseline = new Map<string, Fingerprint>();
  /** Baselines of files that showed evidence: never replaced by the damaged content. */
  private readonly pinned = new Set<string>();
  private readonly decoys: DecoySet;
  private readonly tombstones = new Tombstones();
  private readonly unreadableNew = new Map<string, Array<{ path: string; size: number; t: number }>>(); // by folder
  private readonly notes = new NoteTracker();
  private readonly extensions = new Set<string>();
  /** Files that appeared under a new name lately, to pair with a vanished name judged after them. */
  private readonly recentNew: Array<{ path: string; fp: Fingerprint; t: number }> = [];
  private readonly inFlight = new Map<string, boolean>(); // path -> dirty again
  private readonly retries = new Retries();
  private readonly watchers: fs.FSWatcher[] = [];
  private readonly exclude: string[];
  private readonly own: Set<string>;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private readonly markers = new SyncMarkers();
  private readonly destruction: Destruction;
  private readonly burst = new BurstMeter();
  private readonly desk: IncidentDesk;
  readonly affectedFile: string;
  /** Modes taken off by the read-only response, kept for `release` (see response.ts). */
  readonly modesFile: string;

  constructor(private readonly opts: GuardOptions) {
    this.roots = opts.dirs.map((d) => fs.realpathSync(path.resolve(d)));
    this.exclude = (opts.exclude ?? []).map((d) => path.resolve(d));
    this.destruction = new Destruction(this.roots);
    const alerts = path.resolve(opts.alertsFile);
    const side = sideFiles(alerts);
    this.affectedFile = side.affected;
    const decoyStateFile = path.resolve(opts.decoyStateFile ?? side.decoys);
    this.decoys = new DecoySet(decoyStateFile);
    this.modesFile = side.modes;
    this.own = new Set([alerts, this.affectedFile, decoyStateFile, this.modesFile]);
    this.desk = new IncidentDesk({
      alertsFile: alerts,
      affectedFile: this.affectedFile,
      modesFile: this.modesFile,
      roots: this.roots,
      isDecoy: (p) => this.decoys.has(p),
      untouched: () => [...this.baseline].filter(([p]) => !this.decoys.has(p) && !this.pinned.has(p)).map(([p, baseline]) => ({ path: p, baseline })),
      leaveWritable: (p) => this.own.has(p) || this.exclude.some((e) => p === e || p.startsWith(e + path.sep)),
      readOnlyOnAlarm: opts.readOnlyOnAlarm,
      snapshot: opts.snapshot,
      onAlarm: opts.onAlarm,
    });
  }

  get alarms(): Alarm[] {
    return this.desk.alarms;
  }

  /** Builds the baseline, plants decoys, starts watching; resolves when ready. */
  async start(): Promise<{ files: number; folders: number; decoys: number }> {
    // Watch first: a change during the first scan is then seen as a new file rather than missed.
    for (const root of this.roots) {
      try {
        const w = fs.watch(root, { recursive: true }, (_event, name) => {
          if (!name) return;
          const p = path.join(root, name.toString());
          if (this.markers.arrived(p)) return;
          if (this.baseline.has(p) && !this.decoys.has(p)) this.burst.saw(p, Date.now()); // planting decoys is no burst of the share
          this.enqueue(p);
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
    if (this.opts.decoys) await this.decoys.plant(folders, this.roots, (p, fp) => this.baseline.set(p, fp));
    this.timer = setInterval(() => void this.scan(), this.opts.scanIntervalMs ?? 30000);
    this.timer.unref();
    return { files: files.length, folders: folders.length, decoys: this.decoys.list.length };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const w of this.watchers) w.close();
    if (this.timer) clearInterval(this.timer);
    this.retries.clear();
    this.destruction.clear();
    while (this.inFlight.size > 0) await new Promise((r) => setTimeout(r, 5));
    await this.desk.settle();
  }

  /** Waits until the changes seen so far have been judged and an alarm's response is done (tests, the bench). */
  async settle(): Promise<void> {
    while (this.inFlight.size > 0) await new Promise((r) => setTimeout(r, 5));
    await this.desk.settle();
  }

  /**
   * Waits until the watchers have delivered every change made before this call, and each has been
   * judged (tests, the bench: "nothing happened" is then a fact, not a guess after a pause). A
   * marker file is made in every watched folder and removed once its event is here, so events in
   * flight have arrived; then the periodic scan runs once, which finds any change whose event has
   * not (Node's recursive watcher on Linux learns of changes to existing files by polling their
   * status). Markers are never judged. A file left empty or zero-filled is looked at again until
   * its write is over (about two seconds): sync() waits for that verdict too, so a wiped document
   * has then raised its alarm and a write still under way raised none.
   */
  async sync(timeoutMs = 10_000): Promise<void> {
    await this.markers.passThrough(this.roots, timeoutMs);
    await this.scan();
    // A retry's timer hands its file to enqueue() (in flight at once), so the two never both read 0 early.
    while (this.inFlight.size > 0 || this.retries.waiting > 0 || this.destruction.waiting) await new Promise((r) => setTimeout(r, 5));
    await this.settle();
  }

  get decoyPaths(): string[] {
    return this.decoys.list;
  }

  private skip(p: string): boolean {
    if (this.own.has(p)) return true;
    if (path.basename(p) === SHARE_MARKER || SyncMarkers.isMarker(p)) return true;
    if (this.exclude.some((e) => p === e || p.startsWith(e + path.sep))) return true;
    // Version-control internals are compressed objects that tools rewrite by the thousand.
    return p.split(path.sep).includes('.git');
  }

  private walk(dir: string, folders: string[], files: string[]): Promise<void> {
    return listTree(dir, (p) => this.skip(p), folders, files);
  }

  /** `now`: a change judged (not the first scan), which a burst of deletions is weighed against. */
  private learn(p: string, fp: Fingerprint, now?: number): void {
    if (now !== undefined) this.destruction.changed(now);
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
    for (const d of this.decoys.list) {
      const b = this.baseline.get(d);
      if (!b) continue;
      const renewed = renewDecoyTime(d);
      if (renewed !== undefined) b.mtimeMs = renewed; // our own change, expected before its event arrives
    }
  }

  private async judge(p: string): Promise<void> {
    // Known destroyed already: it can show nothing more, only still be there or not.
    if (this.desk.weightOf(p) >= 1 && this.pinned.has(p) && fs.existsSync(p)) return;
    const fp = await fingerprint(p);
    const now = Date.now();
    if (!fp) {
      // Synchronous, as the reads: under a burst of deletions the thread pool's queue would hold the verdict back.
      const st = fs.statSync(p, { throwIfNoEntry: false });
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
    const base = this.baseline.get(p);
    const wipe = base && !this.pinned.has(p) && !transient(p, this.roots) && !this.copiedBeside(p, base) ? wipeSignal(base, fp) : undefined;
    if (wipe) for (const c of this.destruction.wiped(p, fp, wipe, now)) this.destroyed(c.path, c.signal, now);
    else this.destruction.refilled(p);
    if (UNJUDGED.has(fp.kind) || wipe) {
      // Empty, zeros, or cut short: a write in progress (truncate, preallocate) or a wipe. Look
      // again shortly (10 ms, then longer: about 2 s in all); a second wiped file decides sooner.
      // In a burst, a file seen wiped on two looks (10 ms apart) is destroyed: waiting costs dozens.
      if (wipe && this.retries.looks(p) > 0 && this.burst.burst(now) > 0) return this.destroyed(p, wipe, now);
      if (this.retries.again(p, (q) => this.enqueue(q))) return;
      // Still so after two seconds: no write is coming. A document wiped in place is destroyed;
      // one emptied beside an unreadable copy of it is an original gone.
      if (wipe) this.destroyed(p, wipe, now);
      else if (fp.kind === 'empty' && base && !UNJUDGED.has(base.kind) && !this.pinned.has(p)) {
        const copies = this.unreadableNew.get(path.dirname(p)) ?? [];
        const i = copies.findIndex((c) => similarSize(base.size, c.size) && now - c.t < TOMBSTONE_MS);
        if (i >= 0) {
          const [copy] = copies.splice(i, 1);
          this.pinned.add(p);
          this.add(copy.path, { weight: 1, signal: `original ${base.kind} emptied after an unreadable copy of similar size was written` }, [p, copy.path], now);
        }
      }
      return;
    }
    this.retries.done(p);
    const dir = path.dirname(p);
    let old = this.baseline.get(p);
    if (!old) {
      // Back under its old name (moved out, encrypted, moved back)?
      const t = this.tombstones.take(dir, (x) => x.path === p);
      if (t) old = t.fp;
    }
    if (old) {
      const s = compareToBaseline(old, fp);
      if (s) {
        this.pinned.add(p);
        this.baseline.set(p, old);
        this.add(p, s, [p], now);
      } else if (!this.pinned.has(p)) this.learn(p, fp, now);
      if (fp.kind === 'text') void this.checkNote(p, now);
      return;
    }
    // A decoy whose folder was moved, arriving at its new place.
    const from = this.decoys.arriving(p, fp);
    if (from) {
      this.baseline.set(p, fp);
      this.decoys.moved(from, p);
      return;
    }
    // A new name. A rename keeps the sampled bytes: find the name it had.
    const renamed = this.tombstones.take(undefined, (x) => x.fp.sample === fp.sample && x.fp.size === fp.size && now - x.t < 10000);
    if (renamed) {
      if (foreignExtension(p, fp, this.extensions))
        this.add(p, { weight: WEAK, signal: `renamed to a new extension .${path.extname(p).slice(1)}` }, [renamed.path, p], now);
      if (this.pinned.delete(renamed.path)) this.pinned.add(p);
      this.baseline.set(p, fp);
      this.destruction.undelete(renamed.path, now);
      return;
    }
    if (isUnreadable(fp)) {
      const original = this.tombstones.take(dir, (x) => similarSize(x.fp.size, fp.size) && !isUnreadable(x.fp));
      if (original) this.add(p, { weight: 1, signal: `${original.fp.kind} replaced by an unreadable file of similar size` }, [original.path, p], now);
      else {
        const list = this.unreadableNew.get(dir) ?? [];
        list.push({ path: p, size: fp.size, t: now });
        this.unreadableNew.set(dir, list);
        // Alone, new unreadable files destroy nothing (an encrypted export, a container): they
        // count only while files are vanishing without a pair, which is when they may be the
        // copies of originals deleted elsewhere. Beside their originals, they pair (weight 1).
        if (this.tombstones.unpaired(now) > 0) this.add(p, { weight: WEAK, signal: `new unreadable file (${fp.kind}) while files vanish` }, [p], now);
      }
      this.baseline.set(p, fp);
      this.pinned.add(p);
      return;
    }
    this.learn(p, fp, now);
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
    const r = this.recentNew.findIndex((x) => x.path !== p && x.fp.sample === fp.sample && x.fp.size === fp.size && now - x.t < 10000);
    if (r >= 0) {
      const [moved] = this.recentNew.splice(r, 1);
      if (foreignExtension(moved.path, moved.fp, this.extensions))
        this.add(moved.path, { weight: WEAK, signal: `renamed to a new extension .${path.extname(moved.path).slice(1)}` }, [p, moved.path], now);
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
    this.destruction.deleted(p, fp, now, (cs) => {
      if (!this.stopped) for (const c of cs) this.add(c.path, { weight: 1, signal: c.signal }, [c.path], Date.now());
    });
    this.tombstones.add(dir, { path: p, fp, t: now });
  }

  /**
   * A decoy left its name. Renamed or deleted inside a folder that is still there: an alarm at once.
   * Its whole folder gone: staff moving a folder take the decoys with them, so the alarm waits
   * (DECOY_MOVE_MS) for it under the same name elsewhere (not its own path: planted, it was new).
   */
  private decoyGone(p: string, fp: Fingerprint, now: number): void {
    const moved = ({ path: q, fp: f }: { path: string; fp: Fingerprint }) =>
      q !== p && f.sample === fp.sample && f.size === fp.size && path.basename(q) === path.basename(p);
    const r = this.recentNew.findIndex((x) => moved(x) && now - x.t < DECOY_MOVE_MS);
    if (r >= 0) return this.decoys.moved(p, this.recentNew.splice(r, 1)[0].path);
    if (fs.existsSync(path.dirname(p))) {
      this.raise([p], 'decoy file deleted or renamed', 'critical', now);
      return;
    }
    this.decoys.leaving(p, fp, () => {
      if (!this.stopped) this.raise([p], 'decoy file deleted with its folder', 'critical', Date.now());
    });
  }

  private destroyed(p: string, signal: string, now: number): void {
    this.pinned.add(p);
    this.add(p, { weight: 1, signal }, [p], now);
  }

  /** Emptied after its content was copied beside it (copytruncate rotation): nothing is lost. */
  private copiedBeside(p: string, old: Fingerprint): boolean {
    return this.recentNew.some((x) => x.fp.sample === old.sample && x.fp.size === old.size && path.dirname(x.path) === path.dirname(p));
  }

  private async checkNote(p: string, now: number): Promise<void> {
    const b = this.baseline.get(p);
    if (!b || b.size > 65536) return;
    const found = await this.notes.judge(p);
    if (found) this.add(p, { weight: 2, signal: found.signal }, [p], now, found.reason);
  }

  private add(p: string, s: Signal, paths: string[], now: number, reason?: string): void {
    this.desk.add(p, s, paths, now, reason);
    const n = s.weight >= 1 ? this.burst.burst(now) : 0;
    if (n > 0) this.raise(paths, `destruction during a burst of ${n} files changed in one second (${s.signal})`, 'high', now);
  }

  private raise(paths: string[], reason: string, severity: Severity, now: number): void {
    this.desk.raise(paths, reason, severity, now);
  }
}
