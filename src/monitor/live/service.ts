/**
 * The live side of the insider-misuse monitor: Carewall watches its own audit log. A periodic job
 * (or `POST /api/monitor/scan`) reads the records appended since the last run, and runs the
 * offline detectors (scan/accumulate, scan/detect) in memory over a bounded recent window of the
 * log together with the clinic's reference resources, read through the FHIR service as the system.
 * The reads stay on this thread (they wait on the database); the detectors run in a worker thread
 * with a deadline, so that however long they take the server keeps answering and can shut down.
 * New alerts are stored and privacy officers notified; alerts are grouped into cases with a
 * workflow, and a case closed as legitimate suppresses its (user, patient, scenario) from then on.
 */
import crypto from 'node:crypto';
import { SYSTEM, type Who } from '../../shared/index.js';
import { authorize } from '../../access/index.js';
import type { NotifyOfficers } from '../../notify/index.js';
import type { AuditService } from '../../audit/index.js';
import { decodeLeaf } from '../../audit/index.js';
import type { Settings } from '../../config.js';
import type { Database, Queryable } from '../../db/index.js';
import type { Keyring } from '../../keys/index.js';
import type { Logger } from '../../log.js';
import type { FhirService } from '../../records/index.js';
import { FhirError } from '../../shared/index.js';
import { SCENARIO_CODES, type Alert } from '../catalog.js';
import { realTimer, runWorkerTask, WorkerDeadlineError, WorkerStoppedError, type DeadlineTimer, type WorkerModule } from '../../util/index.js';
import { toMonitorEvent } from './auditRecords.js';
import { RecentWindow } from './window.js';
import {
  ID,
  MonitorCases,
  type Reviewer,
  type AlertRow,
  type AlertStatus,
  type CaseDetail,
  type CaseStatus,
  type CaseSummary,
  type StoredAlert,
} from './cases.js';
import type { DetectResult, DetectTask } from './detection.js';
import { MonitorWatch, type StoredWatchItem } from './watch.js';
import { MonitorLearning, type PatternChange, type PatternWeightRow } from './learning.js';
import { peerGroupOf } from './peerGroup.js';
import { LEASE_MINUTES, monitorSettings, type MonitorSettings } from './settings.js';

export { ACCESS_ACTIONS, toMonitorEvent } from './auditRecords.js';
export { RESOLUTIONS, type AlertStatus, type CaseDetail, type CaseStatus, type CaseSummary, type Resolution, type StoredAlert } from './cases.js';
export { DEFAULT_MONITOR, monitorSettings, type MonitorSettings } from './settings.js';
export type { DetectTask } from './detection.js';
export type { StoredWatchItem } from './watch.js';
export type { PatternChange, PatternWeightRow } from './learning.js';
export type { DeadlineTimer, WorkerModule } from '../../util/index.js';

const PAGE = 1000;

/** What a deployment never changes; tests replace the detection worker and the deadline's clock. */
export interface MonitorOptions {
  /** The worker module answering a DetectTask: detectWorker beside this file. */
  detector?: WorkerModule;
  deadlineTimer?: DeadlineTimer;
}

/** Detection did not finish (deadline, shutdown, or the worker failed): already logged, without data. */
class DetectionFailed extends FhirError {}

export class MonitorService {
  readonly settings: MonitorSettings;
  private timer?: NodeJS.Timeout;
  /** One scan at a time in this process; the cursor's lease does the same across processes. */
  private running: Promise<unknown> = Promise.resolve();
  private readonly holder = `${process.pid}:${crypto.randomUUID()}`;
  private readonly cases: MonitorCases;
  private readonly watch: MonitorWatch;
  private readonly learning: MonitorLearning;
  private readonly detector: WorkerModule;
  private readonly deadlineTimer: DeadlineTimer;
  /** The window as last read: each scan reads only what the log gained since. */
  private readonly window: RecentWindow;
  /** Fired by stop(): a running detection worker is terminated at once. */
  private stopping = new AbortController();

  constructor(
    private readonly db: Database,
    keyring: Keyring,
    private readonly fhir: FhirService,
    private readonly audit: AuditService,
    /** Tells privacy officers of each new alert (notify's Notices). */
    private readonly notifyOfficers: NotifyOfficers,
    settings: Settings,
    private readonly log: Logger,
    options: MonitorOptions = {},
  ) {
    this.settings = monitorSettings(settings);
    this.cases = new MonitorCases(db, keyring, audit);
    this.watch = new MonitorWatch(db, this.cases);
    this.learning = new MonitorLearning(db, audit, (user) => peerGroupOf(fhir, user));
    this.cases.learning = this.learning;
    this.detector = options.detector ?? { callerUrl: import.meta.url, baseName: 'detectWorker' };
    this.deadlineTimer = options.deadlineTimer ?? realTimer;
    this.window = new RecentWindow(audit);
  }

  /** The periodic live scan (the server starts it; tests call scanNow instead). */
  start(): void {
    if (this.timer || this.settings.intervalSeconds <= 0) return;
    this.timer = setInterval(() => {
      this.scanNow().catch((err) => {
        if (!(err instanceof DetectionFailed)) this.log.error({ err: { type: (err as Error).name } }, 'monitor: live scan failed');
      });
    }, this.settings.intervalSeconds * 1000);
    this.timer.unref();
  }

  /** Stops the job and a scan under way (its detection worker is terminated; the cursor stays). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.stopping.abort();
    await this.running.catch(() => undefined);
    this.stopping = new AbortController();
  }

  /** Runs the live detection once: how many audit records were read, how many alerts are new. */
  scanNow(): Promise<{ processed: number; alerts: number }> {
    const run = this.running.catch(() => undefined).then(() => this.scanOnce());
    this.running = run;
    return run;
  }

  private async scanOnce(): Promise<{ processed: number; alerts: number }> {
    // The lease: an atomic update, so two processes never scan the same records at once.
    const leased = await this.db.query<{ next_index: string | number }>(
      `update monitor_cursor set lease_holder = $1, lease_until = now() + make_interval(mins => ${LEASE_MINUTES})
       where id = 1 and (lease_until is null or lease_until < now() or lease_holder = $1) returning next_index`,
      [this.holder],
    );
    if (leased.rows.length === 0) return { processed: 0, alerts: 0 };
    try {
      const from = Number(leased.rows[0].next_index);
      const size = (await this.audit.log.head()).size;
      // The new records: which users did something since the last run. Only their alerts are
      // looked at, so a pattern already judged is not raised again by every run.
      const activeUsers = new Set<string>();
      for (let i = from; i < size; i += 2000) {
        for (const { leaf } of await this.audit.log.leaves(i, Math.min(size, i + 2000))) {
          const e = toMonitorEvent(decodeLeaf(leaf));
          if (e?.user) activeUsers.add(e.user);
        }
      }
      const fresh: DetectResult = activeUsers.size > 0 ? await this.detect(activeUsers) : { alerts: [], watch: [] };
      const stored = await this.db.transaction(async (tx) => {
        const out = await this.store(tx, fresh.alerts);
        // The watch list of the users scanned is replaced by this scan's, in the same transaction.
        await this.watch.replace(tx, [...activeUsers], fresh.watch);
        await tx.query('update monitor_cursor set next_index = $2, last_run_at = now() where id = 1 and lease_holder = $1', [this.holder, size]);
        return out;
      });
      await this.notify(stored);
      this.log.info({ processed: size - from, alerts: stored.length }, 'monitor: live scan');
      return { processed: size - from, alerts: stored.length };
    } finally {
      await this.db.query('update monitor_cursor set lease_holder = null, lease_until = null where id = 1 and lease_holder = $1', [this.holder]);
    }
  }

  /** The detectors over the recent window; the alerts and the watch list of the given users. */
  private async detect(users: Set<string>): Promise<DetectResult> {
    const events = await this.window.read(this.settings.windowDays * 86_400_000, this.settings.maxEvents);
    if (events.length === 0) return { alerts: [], watch: [] };
    const resources = await this.reference(new Set(events.flatMap((e) => e.patients)));
    const task: DetectTask = { events, resources, users: [...users], adjustments: await this.learning.adjustments() };
    const seconds = this.settings.detectSeconds;
    try {
      return await runWorkerTask<DetectTask, DetectResult>(this.detector, task, {
        deadlineMs: seconds * 1000,
        signal: this.stopping.signal,
        timer: this.deadlineTimer,
      });
    } catch (err) {
      // Logged here, once, by kind only: a worker's own error text could quote the records.
      if (err instanceof WorkerDeadlineError) {
        this.log.error(
          { detectSeconds: seconds, events: events.length },
          'monitor: live scan failed: detection stopped at its deadline; the same records are scanned again next time',
        );
        throw new DetectionFailed(503, 'timeout', `the monitor's detection did not finish within ${seconds} s; the same records are scanned again next time`);
      }
      if (err instanceof WorkerStoppedError) {
        this.log.info('monitor: live scan stopped for shutdown; the same records are scanned again next time');
        throw new DetectionFailed(503, 'transient', 'the monitor is stopping');
      }
      this.log.error({ err: { type: (err as Error).name } }, 'monitor: live scan failed: detection failed; the same records are scanned again next time');
      throw new DetectionFailed(500, 'exception', "the monitor's detection failed");
    }
  }

  /**
   * The reference resources the detectors need: the clinic's staff and structure whole, and only
   * the window's patients with their encounters, appointments, care teams and orders. Read as the
   * system (whose reads are not accesses to charts and are not audit records).
   */
  private async reference(patients: Set<string>): Promise<Array<Record<string, unknown>>> {
    const resources: Array<Record<string, unknown>> = [];
    const all = async (type: string, query: Record<string, string[]> = {}) => {
      for (let offset = 0; ; offset += PAGE) {
        const bundle = await this.fhir.search(
          SYSTEM,
          type,
          { ...query, _count: [String(PAGE)], _offset: [String(offset)] },
          new URL(`http://monitor.invalid/fhir/${type}`),
        );
        const page = (bundle.entry ?? []).filter((e) => e.search?.mode === 'match').map((e) => e.resource as unknown as Record<string, unknown>);
        resources.push(...page);
        if (page.length < PAGE) break;
      }
    };
    for (const type of ['Organization', 'Location', 'Practitioner', 'PractitionerRole']) await all(type);
    const ids = [...patients].map((p) => p.replace(/^Patient\//, ''));
    for (let i = 0; i < ids.length; i += 100) {
      const chunk = ids.slice(i, i + 100).join(',');
      await all('Patient', { _id: [chunk] });
      for (const type of ['Encounter', 'Appointment', 'CareTeam', 'ServiceRequest']) await all(type, { patient: [chunk] });
    }
    return resources;
  }

  /**
   * Stores alerts not seen before: suppressed patients are taken out first (an alert left with none
   * is dropped); an alert overlapping in time one already stored for the same user and scenario
   * extends that one while it is not in a case, and is dropped once it is, unless it names patients
   * the cased alert does not (the case is already looking at those accesses).
   */
  private async store(tx: Queryable, alerts: Alert[]): Promise<Alert[]> {
    const stored: Alert[] = [];
    for (const a of alerts) {
      const suppressed = new Set(
        (
          await tx.query<{ patient: string }>('select patient from monitor_suppression where user_ref = $1 and scenario = $2 and patient = any($3::text[])', [
            a.user,
            a.scenario,
            a.patients,
          ])
        ).rows.map((r) => r.patient),
      );
      const patients = a.patients.filter((p) => !suppressed.has(p));
      if (patients.length === 0) continue;
      const alert = { ...a, patients };
      const overlapping = (
        await tx.query<AlertRow>(
          `select * from monitor_alert where user_ref = $1 and scenario = $2 and first_access <= $4::timestamptz and last_access >= $3::timestamptz for update`,
          [alert.user, alert.scenario, alert.firstAccess, alert.lastAccess],
        )
      ).rows;
      if (overlapping.some((o) => o.id === alert.id)) continue;
      const open = overlapping.find((o) => o.case_id === null);
      if (open) {
        await tx.query(
          `update monitor_alert set patients = (select array_agg(distinct p) from unnest(patients || $2::text[]) p),
             first_access = least(first_access, $3::timestamptz), last_access = greatest(last_access, $4::timestamptz),
             score = greatest(score, $5), evidence = $6::jsonb where id = $1`,
          [open.id, alert.patients, alert.firstAccess, alert.lastAccess, alert.score, JSON.stringify(alert.evidence)],
        );
        continue;
      }
      const known = new Set(overlapping.flatMap((o) => o.patients));
      if (overlapping.length > 0 && alert.patients.every((p) => known.has(p))) continue;
      const inserted = await tx.query(
        `insert into monitor_alert (id, user_ref, patients, scenario, score, first_access, last_access, evidence)
         values ($1, $2, $3::text[], $4, $5, $6, $7, $8::jsonb) on conflict (id) do nothing returning id`,
        [alert.id, alert.user, alert.patients, alert.scenario, alert.score, alert.firstAccess, alert.lastAccess, JSON.stringify(alert.evidence)],
      );
      if (inserted.rows.length > 0) stored.push(alert);
    }
    return stored;
  }

  /** Privacy officers are told what and about whom on staff; never which patient. */
  private async notify(alerts: Alert[]): Promise<void> {
    for (const a of alerts) {
      const n = a.patients.length;
      await this.notifyOfficers(
        'monitor-alert',
        a.id,
        `monitor: ${a.scenario} alert for ${a.user} (${n} patient${n === 1 ? '' : 's'}, score ${a.score.toFixed(2)}); review alert ${a.id}`,
      );
    }
  }

  /**
   * Stores alerts as if the live scan had found them (same shape as `carewall monitor scan`
   * writes), notifying privacy officers: for importing an offline scan's alerts, and for tests.
   * Returns the alerts that were new.
   */
  async addAlerts(alerts: Alert[]): Promise<Alert[]> {
    for (const a of alerts) checkAlert(a);
    const stored = await this.db.transaction((tx) => this.store(tx, alerts));
    await this.notify(stored);
    return stored;
  }
  // --- reading and the case workflow (privacy officers only): cases.ts ---

  listAlerts(who: Who, status: AlertStatus): Promise<StoredAlert[]> {
    return this.cases.listAlerts(who, status);
  }

  createCase(who: Who, input: { alerts?: unknown; title?: unknown }): Promise<CaseSummary> {
    return this.cases.createCase(who, input);
  }

  /** The watch list: what the alert budget held back, most improbable first (watch.ts). */
  listWatch(who: Who): Promise<StoredWatchItem[]> {
    return this.watch.list(who);
  }

  /** Opens a case from a watch-list entry, raised as an alert with the officer's reason (watch.ts). */
  openCaseFromWatch(who: Who, id: string, input: { reason?: unknown; title?: unknown }): Promise<CaseSummary> {
    return this.watch.openCase(who, id, input);
  }

  /** What closed cases taught: the patterns weighed down, and every change (learning.ts). */
  listLearning(who: Who): Promise<{ weights: PatternWeightRow[]; changes: PatternChange[] }> {
    return this.learning.list(who);
  }

  listCases(who: Who, status: CaseStatus | 'all'): Promise<CaseSummary[]> {
    return this.cases.listCases(who, status);
  }

  caseDetail(who: Who, id: string): Promise<CaseDetail> {
    return this.cases.caseDetail(who, id);
  }

  /** Who may be given cases: the active privacy officers (identity's list, wired in runtime.ts). */
  set reviewers(list: () => Promise<Reviewer[]>) {
    this.cases.reviewers = list;
  }

  /** The privacy officers a case may be given to, by name. */
  async assignees(who: Who): Promise<Reviewer[]> {
    authorize(who, 'access.review');
    return (await this.cases.reviewers()).sort((a, b) => a.name.localeCompare(b.name));
  }

  assign(who: Who, id: string, input: { assignee?: unknown }): Promise<void> {
    return this.cases.assign(who, id, input);
  }

  addNote(who: Who, id: string, input: { text?: unknown }): Promise<void> {
    return this.cases.addNote(who, id, input);
  }

  setStatus(who: Who, id: string, input: { status?: unknown; resolution?: unknown; note?: unknown }): Promise<void> {
    return this.cases.setStatus(who, id, input);
  }
}

/** addAlerts takes the offline scan's shape; anything else is a programming error, said plainly. */
function checkAlert(a: Alert): void {
  const ok =
    typeof a.id === 'string' &&
    ID.test(a.id) &&
    typeof a.user === 'string' &&
    /^Practitioner\/[A-Za-z0-9\-.]{1,64}$/.test(a.user) &&
    Array.isArray(a.patients) &&
    a.patients.length > 0 &&
    a.patients.every((p) => typeof p === 'string' && /^Patient\/[A-Za-z0-9\-.]{1,64}$/.test(p)) &&
    SCENARIO_CODES.includes(a.scenario) &&
    typeof a.score === 'number' &&
    a.score >= 0 &&
    a.score <= 1 &&
    !Number.isNaN(Date.parse(a.firstAccess)) &&
    !Number.isNaN(Date.parse(a.lastAccess)) &&
    Array.isArray(a.evidence) &&
    a.evidence.every((e) => typeof e === 'string');
  if (!ok) throw new FhirError(400, 'invalid', 'not an alert in the monitor scan format');
}
