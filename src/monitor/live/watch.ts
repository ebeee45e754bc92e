/**
 * The live monitor's watch list: the candidates the alert budget held back (below the alert level,
 * not accusations), kept for a privacy officer's look instead of being dropped. Bounded: each scan
 * replaces the entries of the users it scanned, and only the WATCH_KEEP most improbable are kept.
 * A privacy officer may open a case from an entry: it becomes an alert, with the reason on record.
 */
import crypto from 'node:crypto';
import { authorize } from '../../access/index.js';
import type { Database, Queryable } from '../../db/index.js';
import { FhirError, type Who } from '../../shared/index.js';
import type { Scenario } from '../catalog.js';
import type { WatchItem } from '../scan/budget.js';
import { ID, type CaseSummary, type MonitorCases } from './cases.js';

/** At most this many entries are kept, the most improbable first. */
export const WATCH_KEEP = 300;

export interface StoredWatchItem extends WatchItem {
  id: string;
  weight?: number;
  scannedAt: string;
}

interface WatchRow {
  id: string;
  user_ref: string;
  patients: string[];
  scenario: string;
  p: number;
  level: number;
  weight: number | null;
  first_access: string;
  last_access: string;
  evidence: string[] | string;
  scanned_at: string;
}

const iso = (v: unknown) => new Date(v as string).toISOString();

/** Stable for the same user, scenario and window, so a scan that finds it again keeps one entry. */
const watchId = (w: WatchItem) =>
  `watch-${crypto.createHash('sha256').update(`${w.user}|${w.scenario}|${w.firstAccess}|${w.lastAccess}`).digest('hex').slice(0, 24)}`;

export class MonitorWatch {
  constructor(
    private readonly db: Database,
    private readonly cases: MonitorCases,
  ) {}

  /**
   * Replaces the scanned users' entries with this scan's (inside the scan's transaction), leaves
   * out patients a closed case made legitimate for that user and scenario, and trims to WATCH_KEEP.
   */
  async replace(tx: Queryable, users: string[], items: WatchItem[]): Promise<void> {
    if (users.length === 0) return;
    await tx.query('delete from monitor_watch where user_ref = any($1::text[])', [users]);
    for (const w of items) {
      const suppressed = new Set(
        (
          await tx.query<{ patient: string }>('select patient from monitor_suppression where user_ref = $1 and scenario = $2 and patient = any($3::text[])', [
            w.user,
            w.scenario,
            w.patients,
          ])
        ).rows.map((r) => r.patient),
      );
      const patients = w.patients.filter((p) => !suppressed.has(p));
      if (patients.length === 0) continue;
      await tx.query(
        `insert into monitor_watch (id, user_ref, patients, scenario, p, level, weight, first_access, last_access, evidence)
         values ($1, $2, $3::text[], $4, $5, $6, $7, $8, $9, $10::jsonb)
         on conflict (id) do update set patients = excluded.patients, p = excluded.p, level = excluded.level, weight = excluded.weight,
           evidence = excluded.evidence, scanned_at = now()`,
        [watchId(w), w.user, patients, w.scenario, w.p, w.level, w.weight ?? null, w.firstAccess, w.lastAccess, JSON.stringify(w.evidence)],
      );
    }
    await tx.query(`delete from monitor_watch where id not in (select id from monitor_watch order by p, id limit ${WATCH_KEEP})`);
  }

  async list(who: Who): Promise<StoredWatchItem[]> {
    authorize(who, 'access.review');
    const rows = await this.db.query<WatchRow>(`select * from monitor_watch order by p, id limit ${WATCH_KEEP}`);
    return rows.rows.map(watchOf);
  }

  /**
   * A privacy officer opens a case from a watch-list entry: it is raised as an alert (cases are
   * made of alerts), the entry leaves the watch list, and the officer's reason is the case's first
   * note (sealed, as every timeline text: it may name the patient).
   */
  async openCase(who: Who, id: string, input: { reason?: unknown; title?: unknown }): Promise<CaseSummary> {
    authorize(who, 'access.review');
    const reason = input.reason;
    if (typeof reason !== 'string' || reason.trim() === '' || reason.length > 2000)
      throw new FhirError(400, 'invalid', 'reason must say why this entry is worth a case (at most 2,000 characters)');
    if (input.title !== undefined && (typeof input.title !== 'string' || input.title.trim() === '' || input.title.length > 200))
      throw new FhirError(400, 'invalid', 'title must be a non-empty string of at most 200 characters');
    if (!ID.test(id)) throw new FhirError(404, 'not-found', 'no such watch-list entry');
    const alertId = `mon-${id}`;
    await this.db.transaction(async (tx) => {
      const row = (await tx.query<WatchRow>('select * from monitor_watch where id = $1 for update', [id])).rows[0];
      if (!row) throw new FhirError(404, 'not-found', 'no such watch-list entry');
      const w = watchOf(row);
      const raised = `raised from the watch list by a privacy officer (p = ${w.p.toPrecision(2)}, above the scan's level ${w.level.toPrecision(2)})`;
      await tx.query(
        `insert into monitor_alert (id, user_ref, patients, scenario, score, first_access, last_access, evidence)
         values ($1, $2, $3::text[], $4, 0.5, $5, $6, $7::jsonb) on conflict (id) do nothing`,
        [alertId, w.user, w.patients, w.scenario, w.firstAccess, w.lastAccess, JSON.stringify([...w.evidence, raised])],
      );
      await tx.query('delete from monitor_watch where id = $1', [id]);
    });
    const created = await this.cases.createCase(who, { alerts: [alertId], title: input.title });
    await this.cases.addNote(who, created.id, { text: `opened from the watch list: ${reason.trim()}` });
    return created;
  }
}

function watchOf(r: WatchRow): StoredWatchItem {
  return {
    id: r.id,
    user: r.user_ref,
    scenario: r.scenario as Scenario,
    patients: [...r.patients],
    p: Number(r.p),
    level: Number(r.level),
    ...(r.weight === null ? {} : { weight: Number(r.weight) }),
    firstAccess: iso(r.first_access),
    lastAccess: iso(r.last_access),
    evidence: typeof r.evidence === 'string' ? (JSON.parse(r.evidence) as string[]) : r.evidence,
    scannedAt: iso(r.scanned_at),
  };
}
