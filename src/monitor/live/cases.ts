/**
 * The privacy officer's side of the live monitor: stored alerts listed, grouped into cases
 * (open → investigating → closed as violation, legitimate or false positive) with an assignee,
 * notes and a sealed timeline, the accesses behind a case, and the feedback of a case closed as
 * legitimate (a suppression per user, patient and scenario). Privacy officers only.
 */
import crypto from 'node:crypto';
import { authorize } from '../../access/index.js';
import { type Who } from '../../shared/index.js';
import type { AuditService } from '../../audit/index.js';
import type { Database, Queryable } from '../../db/index.js';
import type { Keyring } from '../../keys/index.js';
import { FhirError } from '../../shared/index.js';
import type { Alert, Scenario } from '../catalog.js';
import { ACCESS_ACTIONS } from './auditRecords.js';
import type { MonitorLearning } from './learning.js';

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

/** Limits of an id or a username as the API takes them. */
export const ID = /^[A-Za-z0-9\-._:]{1,100}$/;

const iso = (v: unknown) => new Date(v as string).toISOString();

export interface AlertRow {
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

/** An account a case may be given to: an active privacy officer. */
export interface Reviewer {
  username: string;
  /** As people know them (their practitioner's name, else the user name). */
  name: string;
}

export class MonitorCases {
  /**
   * The active privacy officers, from identity (wired in runtime.ts). Until it is wired nobody can
   * be assigned: deny unless a rule allows.
   */
  reviewers: () => Promise<Reviewer[]> = () => Promise.resolve([]);
  /** What a closing decision teaches the detectors (learning.ts; wired by the service). */
  learning?: MonitorLearning;

  constructor(
    private readonly db: Database,
    private readonly keyring: Keyring,
    private readonly audit: AuditService,
  ) {}

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
      await tx.query(`insert into monitor_case (id, title_sealed, status, user_ref, created_by) values ($1, $2, 'open', $3, $4)`, [
        id,
        this.seal(title, `monitor:case:${id}`),
        user,
        who.username,
      ]);
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
          out.push({
            index: e.index,
            time: r.time,
            action: r.action,
            patient: `Patient/${r.patient}`,
            resource: r.resource?.id ? `${r.resource.type}/${r.resource.id}` : (r.resource?.type ?? null),
            outcome: r.outcome,
          });
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
    // A case goes to someone who can work it: typing any text gave cases to nobody.
    if (!(await this.reviewers()).some((r) => r.username === assignee.toLowerCase()))
      throw new FhirError(400, 'invalid', 'the assignee must be an active privacy officer');
    await this.change(id, async (tx, row) => {
      if (row.status === 'closed') throw new FhirError(409, 'conflict', 'the case is closed');
      await tx.query('update monitor_case set assignee = $2, updated_at = now() where id = $1', [id, assignee]);
      await this.event(tx, id, who, 'assigned', `assigned to ${assignee}`);
    });
  }

  async addNote(who: Who, id: string, input: { text?: unknown }): Promise<void> {
    authorize(who, 'access.review');
    const text = input.text;
    if (typeof text !== 'string' || text.trim() === '' || text.length > 10_000)
      throw new FhirError(400, 'invalid', 'text must be a non-empty string of at most 10,000 characters');
    await this.change(id, async (tx) => {
      await tx.query('update monitor_case set updated_at = now() where id = $1', [id]);
      await this.event(tx, id, who, 'note', text.trim());
    });
  }

  async setStatus(who: Who, id: string, input: { status?: unknown; resolution?: unknown; note?: unknown }): Promise<void> {
    authorize(who, 'access.review');
    const { status, resolution, note } = input;
    if (status !== 'investigating' && status !== 'closed') throw new FhirError(400, 'invalid', 'status must be investigating or closed');
    if (status === 'closed' && !RESOLUTIONS.includes(resolution as Resolution))
      throw new FhirError(400, 'invalid', 'closing needs a resolution: violation, legitimate or false-positive');
    if (status === 'investigating' && resolution !== undefined) throw new FhirError(400, 'invalid', 'a resolution is given only when closing');
    if (note !== undefined && (typeof note !== 'string' || note.length > 10_000))
      throw new FhirError(400, 'invalid', 'note must be a string of at most 10,000 characters');
    // A closing decision has consequences (a violation reported; "legitimate" stops flagging): what
    // was found is written down with it, never left to a default.
    if (status === 'closed' && (typeof note !== 'string' || note.trim() === ''))
      throw new FhirError(400, 'invalid', 'closing needs a note saying what was found');
    // The user's role and department are read from the records before the closing transaction.
    const prepared = status === 'closed' && this.learning && ID.test(id) ? await this.learning.prepare(id) : undefined;
    await this.change(id, async (tx, row) => {
      if (row.status === 'closed') throw new FhirError(409, 'conflict', 'the case is closed');
      if (row.status === status) throw new FhirError(409, 'conflict', `the case is already ${status}`);
      await tx.query('update monitor_case set status = $2, resolution = $3, updated_at = now() where id = $1', [
        id,
        status,
        status === 'closed' ? resolution : null,
      ]);
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
      // The feedback for the role and department: the pattern weighed down (or back up), recorded.
      if (status === 'closed' && prepared) await this.learning!.apply(tx, who, id, resolution as Resolution, prepared);
    });
  }

  /** Runs `fn` on a case row locked for update; 404 when there is no such case. */
  private async change(id: string, fn: (tx: Queryable, row: { status: CaseStatus }) => Promise<void>): Promise<void> {
    if (!ID.test(id)) throw new FhirError(404, 'not-found', 'no such case');
    await this.db.transaction(async (tx) => {
      const row = (await tx.query<{ status: CaseStatus }>('select status from monitor_case where id = $1 for update', [id])).rows[0];
      if (!row) throw new FhirError(404, 'not-found', 'no such case');
      await fn(tx, row);
    });
  }

  private async event(tx: Queryable, caseId: string, who: Who, kind: CaseDetail['timeline'][number]['kind'], text: string): Promise<void> {
    await tx.query('insert into monitor_case_event (case_id, by_user, kind, text_sealed) values ($1, $2, $3, $4)', [
      caseId,
      who.username,
      kind,
      this.seal(text, `monitor:case-event:${caseId}`),
    ]);
  }

  private async summaries(where: string, params: unknown[]): Promise<CaseSummary[]> {
    const rows = await this.db.query<CaseRow>(
      `select c.*, (select array_agg(distinct a.scenario) from monitor_alert a where a.case_id = c.id) as scenarios,
              (select count(*)::int from monitor_alert a where a.case_id = c.id) as alert_count
       from monitor_case c ${where} order by c.updated_at desc, c.id limit 1000`,
      params,
    );
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
    return this.keyring.sealGeneral(text, context);
  }

  private open(value: Uint8Array, context: string): string {
    return this.keyring.openGeneral(Buffer.from(value), context).toString('utf8');
  }
}

export function alertOf(r: AlertRow): StoredAlert {
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
