/**
 * The live side of the insider-misuse monitor: Carewall watches its own audit log. A periodic job
 * (or `POST /api/monitor/scan`) reads the records appended since the last run, and runs the
 * offline detectors (scan/accumulate, scan/detect) in memory over a bounded recent window of the
 * log together with the clinic's reference resources, read through the FHIR service as the system.
 * New alerts are stored and privacy officers notified; alerts are grouped into cases with a
 * workflow, and a case closed as legitimate suppresses its (user, patient, scenario) from then on.
 */
import crypto from 'node:crypto';
import { authorize, SYSTEM, type Who } from '../../access/authorize.js';
import type { AccessGrants } from '../../access/grants.js';
import type { AuditService } from '../../audit/index.js';
import { decodeLeaf, type AuditRecord } from '../../audit/record.js';
import type { Settings } from '../../config.js';
import type { Database, Queryable } from '../../db/database.js';
import { open, seal } from '../../keys/envelope.js';
import { GENERAL_SCOPE, type Keyring } from '../../keys/keyring.js';
import type { Logger } from '../../log.js';
import type { FhirService } from '../../records/index.js';
import { FhirError } from '../../records/outcome.js';
import { SCENARIO_CODES, type Alert, type Scenario } from '../catalog.js';
import { Accumulator } from '../scan/accumulate.js';
import { Detection } from '../scan/detect.js';
import type { AccessEvent, Interaction } from '../scan/events.js';
import { ReferenceData } from '../scan/reference.js';

export interface MonitorSettings {
  /** Seconds between live scans in the server; 0 turns the job off. */
  intervalSeconds: number;
  /** Days of the audit log the detectors see (their baselines need more than the newest records). */
  windowDays: number;
  /** At most this many access records in the window (the newest kept): bounds memory and time. */
  maxEvents: number;
}

export const DEFAULT_MONITOR: MonitorSettings = { intervalSeconds: 60, windowDays: 14, maxEvents: 200_000 };

/** carewall.json `"monitor": {...}` over the defaults, checked. */
export function monitorSettings(settings: Settings): MonitorSettings {
  const raw = { ...DEFAULT_MONITOR, ...((settings as unknown as { monitor?: Partial<MonitorSettings> }).monitor ?? {}) };
  for (const k of ['intervalSeconds', 'windowDays', 'maxEvents'] as const) {
    if (typeof raw[k] !== 'number' || !Number.isFinite(raw[k]) || raw[k] < 0) throw new Error(`carewall.json: monitor.${k} must be a number of at least 0`);
  }
  if (raw.windowDays < 1 || raw.maxEvents < 1) throw new Error('carewall.json: monitor.windowDays and monitor.maxEvents must be at least 1');
  return raw;
}

export type AlertStatus = 'new' | 'cased' | 'all';
export type CaseStatus = 'open' | 'investigating' | 'closed';
export const RESOLUTIONS = ['violation', 'legitimate', 'false-positive'] as const;
export type Resolution = (typeof RESOLUTIONS)[number];

export interface StoredAlert extends Alert {
  caseId: string | null;
  createdAt: string;
}

export interface CaseSummary {
  id: string;
  title: string;
  status: CaseStatus;
  resolution: Resolution | null;
  assignee: string | null;
  user: string;
  scenarios: string[];
  alertCount: number;
  createdAt: string;
  updatedAt: string;
}

export interface CaseDetail extends CaseSummary {
  alerts: StoredAlert[];
  timeline: Array<{ at: string; by: string; kind: 'opened' | 'assigned' | 'status' | 'note'; text: string }>;
  accesses: Array<{ time: string; action: string; patient: string; resource: string | null; outcome: string }>;
}

/** Audit actions that are a user touching a chart: the monitor's events. */
const ACCESS_ACTIONS = ['read', 'vread', 'history', 'search', 'create', 'update', 'patch', 'delete', 'export', 'print', 'break-glass.start'];
const INTERACTION: Record<string, Interaction> = {
  read: 'read',
  vread: 'read',
  history: 'read',
  search: 'search',
  create: 'write',
  update: 'write',
  patch: 'write',
  delete: 'write',
  export: 'export',
  print: 'print',
  'break-glass.start': 'other',
};

/** Limits of an id or a username as the API takes them. */
const ID = /^[A-Za-z0-9\-._:]{1,100}$/;
const LEASE_MINUTES = 10;
const PAGE = 1000;

/**
 * An audit record as the detectors see it, or undefined when it is not a person's access to a
 * chart: refused attempts (nothing was seen), records without a practitioner, and privacy officers'
 * investigations (purpose HCOMPL: looking is their job, and their grant is reviewed elsewhere).
 */
export function toMonitorEvent(r: AuditRecord): AccessEvent | undefined {
  const interaction = INTERACTION[r.action];
  if (!interaction || r.outcome !== 'success' || !r.patient || !r.user?.practitioner || r.purposeOfUse === 'HCOMPL') return undefined;
  const t = Date.parse(r.time);
  if (Number.isNaN(t)) return undefined;
  return {
    t,
    user: r.user.practitioner,
    address: r.client?.ip,
    interaction,
    breakGlass: r.purposeOfUse === 'ETREAT',
    patients: [`Patient/${r.patient}`],
  };
}

const iso = (v: unknown) => new Date(v as string).toISOString();

interface AlertRow {
  id: string;
  user_ref: string;
  patients: string[];
  scenario: string;
  score: number;
  first_access: string;
  last_access: string;
  evidence: string[] | string;
  case_id: string | null;
  created_at: string;
}

interface CaseRow {
  id: string;
  title_sealed: Uint8Array;
  status: CaseStatus;
  resolution: Resolution | null;
  assignee: string | null;
  user_ref: string;
  created_at: string;
  updated_at: string;
  scenarios: string[] | null;
  alert_count: number;
}

export class MonitorService {
  readonly settings: MonitorSettings;
  private timer?: NodeJS.Timeout;
  /** One scan at a time in this process; the cursor's lease does the same across processes. */
  private running: Promise<unknown> = Promise.resolve();
  private readonly holder = `${process.pid}:${crypto.randomUUID()}`;

  constructor(
    private readonly db: Database,
    private readonly keyring: Keyring,
    private readonly fhir: FhirService,
    private readonly audit: AuditService,
    private readonly grants: AccessGrants,
    settings: Settings,
    private readonly log: Logger,
  ) {
    this.settings = monitorSettings(settings);
  }

  /** The periodic live scan (the server starts it; tests call scanNow instead). */
  start(): void {
    if (this.timer || this.settings.intervalSeconds <= 0) return;
    this.timer = setInterval(() => {
      this.scanNow().catch((err) => this.log.error({ err: { type: (err as Error).name } }, 'monitor: live scan failed'));
    }, this.settings.intervalSeconds * 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running.catch(() => undefined);
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
      const fresh = activeUsers.size > 0 ? await this.detect(activeUsers) : [];
      const stored = await this.db.transaction(async (tx) => {
        const out = await this.store(tx, fresh);
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

  /** The detectors over the recent window; the alerts of the given users. */
  private async detect(users: Set<string>): Promise<Alert[]> {
    // A fixed end: records appended while the window is paged through do not shift its pages.
    const until = new Date(Date.now() + 1).toISOString();
    const since = new Date(Date.now() - this.settings.windowDays * 86_400_000).toISOString();
    // Newest first, so that a cap keeps the most recent records; then back into time order.
    const events: AccessEvent[] = [];
    for (let offset = 0; events.length < this.settings.maxEvents; offset += PAGE) {
      const { entries } = await this.audit.search({ from: since, to: until, actions: ACCESS_ACTIONS, outcome: 'success', count: PAGE, offset, newestFirst: true });
      for (const en of entries) {
        const e = toMonitorEvent(en.record);
        if (e) events.push(e);
      }
      if (entries.length < PAGE) break;
    }
    events.reverse();
    if (events.length === 0) return [];
    const ref = await this.reference(new Set(events.flatMap((e) => e.patients)));
    const acc = new Accumulator(ref);
    for (const e of events) acc.add(e);
    return new Detection(acc, ref).run().filter((a) => users.has(a.user));
  }

  /**
   * The reference resources the detectors need: the clinic's staff and structure whole, and only
   * the window's patients with their encounters, appointments, care teams and orders. Read as the
   * system (whose reads are not accesses to charts and are not audit records).
   */
  private async reference(patients: Set<string>): Promise<ReferenceData> {
    const resources: Array<Record<string, unknown>> = [];
    const all = async (type: string, query: Record<string, string[]> = {}) => {
      for (let offset = 0; ; offset += PAGE) {
        const bundle = await this.fhir.search(SYSTEM, type, { ...query, _count: [String(PAGE)], _offset: [String(offset)] }, new URL(`http://monitor.invalid/fhir/${type}`));
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
    return ReferenceData.fromResources(resources);
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
        (await tx.query<{ patient: string }>('select patient from monitor_suppression where user_ref = $1 and scenario = $2 and patient = any($3::text[])', [a.user, a.scenario, a.patients])).rows.map((r) => r.patient),
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
      await this.grants.announce('monitor-alert', a.id, `monitor: ${a.scenario} alert for ${a.user} (${n} patient${n === 1 ? '' : 's'}, score ${a.score.toFixed(2)}); review alert ${a.id}`);
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

  // --- reading and the case workflow (privacy officers only) ---

  async listAlerts(who: Who, status: AlertStatus): Promise<StoredAlert[]> {
    authorize(who, 'access.review');
    const where = status === 'new' ? 'where case_id is null' : status === 'cased' ? 'where case_id is not null' : '';
    const rows = await this.db.query<AlertRow>(`select * from monitor_alert ${where} order by created_at desc, last_access desc, id limit 1000`);
    return rows.rows.map(alertOf);
  }

  async createCase(who: Who, input: { alerts?: unknown; title?: unknown }): Promise<CaseSummary> {
    authorize(who, 'access.review');
    const ids = input.alerts;
    if (!Array.isArray(ids) || ids.length === 0 || ids.length > 1000 || !ids.every((x) => typeof x === 'string' && ID.test(x))) {
      throw new FhirError(400, 'invalid', 'alerts must be a non-empty list of alert ids');
    }
    if (input.title !== undefined && (typeof input.title !== 'string' || input.title.trim() === '' || input.title.length > 200)) {
      throw new FhirError(400, 'invalid', 'title must be a non-empty string of at most 200 characters');
    }
    const unique = [...new Set(ids as string[])];
    await this.keyring.ensure([GENERAL_SCOPE]);
    const id = `case-${crypto.randomUUID()}`;
    await this.db.transaction(async (tx) => {
      const rows = (await tx.query<AlertRow>('select * from monitor_alert where id = any($1::text[]) for update', [unique])).rows;
      if (rows.length !== unique.length) throw new FhirError(400, 'invalid', 'unknown alert id');
      if (rows.some((r) => r.case_id !== null)) throw new FhirError(409, 'conflict', 'an alert already belongs to a case');
      const users = new Set(rows.map((r) => r.user_ref));
      if (users.size > 1) throw new FhirError(400, 'invalid', 'a case is about one user: the alerts name several');
      const user = rows[0].user_ref;
      const scenarios = [...new Set(rows.map((r) => r.scenario))];
      const title = typeof input.title === 'string' ? input.title.trim() : `${scenarios.join(', ')}: ${user}`;
      await tx.query(`insert into monitor_case (id, title_sealed, status, user_ref, created_by) values ($1, $2, 'open', $3, $4)`, [id, this.seal(title, `monitor:case:${id}`), user, who.username]);
      await tx.query('update monitor_alert set case_id = $1 where id = any($2::text[])', [id, unique]);
      await this.event(tx, id, who, 'opened', `case opened from ${unique.length} alert${unique.length === 1 ? '' : 's'}`);
    });
    return (await this.summaries(`where c.id = $1`, [id]))[0];
  }

  async listCases(who: Who, status: CaseStatus | 'all'): Promise<CaseSummary[]> {
    authorize(who, 'access.review');
    return status === 'all' ? this.summaries('', []) : this.summaries('where c.status = $1', [status]);
  }

  async caseDetail(who: Who, id: string): Promise<CaseDetail> {
    authorize(who, 'access.review');
    const summary = ID.test(id) ? (await this.summaries('where c.id = $1', [id]))[0] : undefined;
    if (!summary) throw new FhirError(404, 'not-found', 'no such case');
    const alerts = (await this.db.query<AlertRow>('select * from monitor_alert where case_id = $1 order by first_access, id', [id])).rows.map(alertOf);
    const events = await this.db.query<{ at: string; by_user: string; kind: CaseDetail['timeline'][number]['kind']; text_sealed: Uint8Array; id: string }>(
      'select id::text as id, at, by_user, kind, text_sealed from monitor_case_event where case_id = $1 order by id',
      [id],
    );
    await this.keyring.ensure([GENERAL_SCOPE]);
    const timeline = events.rows.map((e) => ({ at: iso(e.at), by: e.by_user, kind: e.kind, text: this.open(e.text_sealed, `monitor:case-event:${id}`) }));
    return { ...summary, alerts, timeline, accesses: await this.accessesBehind(alerts) };
  }

  /** The user's own audit records on the alerts' patients within the alerts' windows. */
  private async accessesBehind(alerts: StoredAlert[]): Promise<CaseDetail['accesses']> {
    const out: Array<CaseDetail['accesses'][number] & { index: number }> = [];
    const seen = new Set<number>();
    for (const a of alerts) {
      const to = new Date(Date.parse(a.lastAccess) + 1).toISOString();
      for (const p of a.patients.slice(0, 50)) {
        const patient = p.replace(/^Patient\//, '');
        const { entries } = await this.audit.search({ agent: a.user, patient, from: a.firstAccess, to, actions: ACCESS_ACTIONS, count: 500, offset: 0 });
        for (const e of entries) {
          if (seen.has(e.index)) continue;
          seen.add(e.index);
          const r = e.record;
          out.push({ index: e.index, time: r.time, action: r.action, patient: `Patient/${r.patient}`, resource: r.resource?.id ? `${r.resource.type}/${r.resource.id}` : (r.resource?.type ?? null), outcome: r.outcome });
        }
      }
    }
    out.sort((x, y) => x.time.localeCompare(y.time) || x.index - y.index);
    return out.slice(0, 2000).map(({ index: _index, ...rest }) => rest);
  }

  async assign(who: Who, id: string, input: { assignee?: unknown }): Promise<void> {
    authorize(who, 'access.review');
    const assignee = input.assignee;
    if (typeof assignee !== 'string' || !ID.test(assignee)) throw new FhirError(400, 'invalid', 'assignee must be a username');
    await this.change(id, async (tx, row) => {
      if (row.status === 'closed') throw new FhirError(409, 'conflict', 'the case is closed');
      await tx.query('update monitor_case set assignee = $2, updated_at = now() where id = $1', [id, assignee]);
      await this.event(tx, id, who, 'assigned', `assigned to ${assignee}`);
    });
  }

  async addNote(who: Who, id: string, input: { text?: unknown }): Promise<void> {
    authorize(who, 'access.review');
    const text = input.text;
    if (typeof text !== 'string' || text.trim() === '' || text.length > 10_000) throw new FhirError(400, 'invalid', 'text must be a non-empty string of at most 10,000 characters');
    await this.change(id, async (tx) => {
      await tx.query('update monitor_case set updated_at = now() where id = $1', [id]);
      await this.event(tx, id, who, 'note', text.trim());
    });
  }

  async setStatus(who: Who, id: string, input: { status?: unknown; resolution?: unknown; note?: unknown }): Promise<void> {
    authorize(who, 'access.review');
    const { status, resolution, note } = input;
    if (status !== 'investigating' && status !== 'closed') throw new FhirError(400, 'invalid', 'status must be investigating or closed');
    if (status === 'closed' && !RESOLUTIONS.includes(resolution as Resolution)) throw new FhirError(400, 'invalid', 'closing needs a resolution: violation, legitimate or false-positive');
    if (status === 'investigating' && resolution !== undefined) throw new FhirError(400, 'invalid', 'a resolution is given only when closing');
    if (note !== undefined && (typeof note !== 'string' || note.length > 10_000)) throw new FhirError(400, 'invalid', 'note must be a string of at most 10,000 characters');
    await this.change(id, async (tx, row) => {
      if (row.status === 'closed') throw new FhirError(409, 'conflict', 'the case is closed');
      if (row.status === status) throw new FhirError(409, 'conflict', `the case is already ${status}`);
      await tx.query('update monitor_case set status = $2, resolution = $3, updated_at = now() where id = $1', [id, status, status === 'closed' ? resolution : null]);
      await this.event(tx, id, who, 'status', status === 'closed' ? `closed as ${resolution}` : 'investigating');
      if (typeof note === 'string' && note.trim() !== '') await this.event(tx, id, who, 'note', note.trim());
      if (status === 'closed' && resolution === 'legitimate') {
        // The feedback: what was found legitimate for this user and patient is not flagged again.
        await tx.query(
          `insert into monitor_suppression (user_ref, patient, scenario, case_id)
           select a.user_ref, p, a.scenario, $1 from monitor_alert a cross join unnest(a.patients) p where a.case_id = $1
           on conflict do nothing`,
          [id],
        );
      }
    });
  }

  /** Runs `fn` on a case row locked for update; 404 when there is no such case. */
  private async change(id: string, fn: (tx: Queryable, row: { status: CaseStatus }) => Promise<void>): Promise<void> {
    if (!ID.test(id)) throw new FhirError(404, 'not-found', 'no such case');
    await this.keyring.ensure([GENERAL_SCOPE]);
    await this.db.transaction(async (tx) => {
      const row = (await tx.query<{ status: CaseStatus }>('select status from monitor_case where id = $1 for update', [id])).rows[0];
      if (!row) throw new FhirError(404, 'not-found', 'no such case');
      await fn(tx, row);
    });
  }

  private async event(tx: Queryable, caseId: string, who: Who, kind: CaseDetail['timeline'][number]['kind'], text: string): Promise<void> {
    await tx.query('insert into monitor_case_event (case_id, by_user, kind, text_sealed) values ($1, $2, $3, $4)', [caseId, who.username, kind, this.seal(text, `monitor:case-event:${caseId}`)]);
  }

  private async summaries(where: string, params: unknown[]): Promise<CaseSummary[]> {
    const rows = await this.db.query<CaseRow>(
      `select c.*, (select array_agg(distinct a.scenario) from monitor_alert a where a.case_id = c.id) as scenarios,
              (select count(*)::int from monitor_alert a where a.case_id = c.id) as alert_count
       from monitor_case c ${where} order by c.updated_at desc, c.id limit 1000`,
      params,
    );
    await this.keyring.ensure([GENERAL_SCOPE]);
    return rows.rows.map((c) => ({
      id: c.id,
      title: this.open(c.title_sealed, `monitor:case:${c.id}`),
      status: c.status,
      resolution: c.resolution,
      assignee: c.assignee,
      user: c.user_ref,
      scenarios: [...(c.scenarios ?? [])].sort(),
      alertCount: c.alert_count,
      createdAt: iso(c.created_at),
      updatedAt: iso(c.updated_at),
    }));
  }

  private seal(text: string, context: string): Buffer {
    return seal(this.keyring.cached(GENERAL_SCOPE), Buffer.from(text, 'utf8'), context);
  }

  private open(value: Uint8Array, context: string): string {
    return open(this.keyring.cached(GENERAL_SCOPE), Buffer.from(value), context).toString('utf8');
  }
}

function alertOf(r: AlertRow): StoredAlert {
  return {
    id: r.id,
    user: r.user_ref,
    patients: [...r.patients],
    scenario: r.scenario as Scenario,
    score: Number(r.score),
    firstAccess: iso(r.first_access),
    lastAccess: iso(r.last_access),
    evidence: typeof r.evidence === 'string' ? (JSON.parse(r.evidence) as string[]) : r.evidence,
    caseId: r.case_id,
    createdAt: iso(r.created_at),
  };
}

/** addAlerts takes the offline scan's shape; anything else is a programming error, said plainly. */
function checkAlert(a: Alert): void {
  const ok =
    typeof a.id === 'string' && ID.test(a.id) &&
    typeof a.user === 'string' && /^Practitioner\/[A-Za-z0-9\-.]{1,64}$/.test(a.user) &&
    Array.isArray(a.patients) && a.patients.length > 0 && a.patients.every((p) => typeof p === 'string' && /^Patient\/[A-Za-z0-9\-.]{1,64}$/.test(p)) &&
    SCENARIO_CODES.includes(a.scenario) &&
    typeof a.score === 'number' && a.score >= 0 && a.score <= 1 &&
    !Number.isNaN(Date.parse(a.firstAccess)) && !Number.isNaN(Date.parse(a.lastAccess)) &&
    Array.isArray(a.evidence) && a.evidence.every((e) => typeof e === 'string');
  if (!ok) throw new FhirError(400, 'invalid', 'not an alert in the monitor scan format');
}
