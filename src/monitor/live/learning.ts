/**
 * Learning from the privacy officer (issue 28, item 4): a case closed as legitimate or as a false
 * positive weighs its pattern down, the scenario for the user's role × department (the peer group
 * the detectors use), not only the exact user, patient and scenario. Each such closure multiplies
 * the pattern's weight by STEP, up to MAX_WEIGHT (budget.ts); a case closed as a violation divides
 * it by STEP, down to 1. The live scan hands the weights to the alert budget, which multiplies the
 * pattern's candidates' p-values by them: what no longer reaches the level goes to the watch list,
 * never dropped. Every closure is recorded (who closed which case, what weight changed, before and
 * after), in a table and as an audit record, and privacy officers can read it.
 *
 * Why these numbers: the false alerts a clinic closes are candidates just at the level (the level is
 * the p-value of the last candidate the budget can pay for). Halving one pattern's significance per
 * closure moves such a look to the watch list after one or two closures; the cap of ten means a
 * candidate ten times more improbable than the level (a second, third chart; a repeat) still alerts
 * however many cases are closed, so one officer closing fifty cases cannot switch a detector off.
 * Self-lookups and the fixed-level detectors (terminated, volume, export, enumeration, harvesting,
 * break-the-glass) are not in the budget and are never weighed down.
 */
import { authorize } from '../../access/index.js';
import { auditUser, type AuditService } from '../../audit/index.js';
import type { Database, Queryable } from '../../db/index.js';
import { type Who } from '../../shared/index.js';
import type { Scenario } from '../catalog.js';
import { MAX_WEIGHT, type PatternWeight } from '../scan/budget.js';
import type { Resolution } from './cases.js';

/** Each closure as legitimate or false positive multiplies its pattern's weight by this. */
export const STEP = 2;
/** The scenarios the alert budget ranks, less self-lookups (always flagged): the ones learning weighs. */
export const LEARNABLE: readonly Scenario[] = ['family', 'coworker', 'neighbour', 'vip', 'curiosity', 'department', 'credentials'];

/** A user's peer group as the detectors form it: role × department (scan/reference.ts, User.peerKey). */
export interface PeerGroup {
  /** `role|department id`, the key the budget matches on. */
  key: string;
  role: string;
  /** The department's Organization id, or null when the user's role names none. */
  department: string | null;
  /** The department's name, for people; null when unknown. */
  departmentName: string | null;
}

export interface PatternChange {
  at: string;
  by: string;
  caseId: string;
  resolution: Resolution;
  scenario: string;
  role: string;
  department: string | null;
  departmentName: string | null;
  before: number;
  after: number;
}

export interface PatternWeightRow {
  scenario: string;
  role: string;
  department: string | null;
  departmentName: string | null;
  weight: number;
  updatedAt: string;
}

/** What a closure needs to know before its transaction: the case's user's peer group and scenarios. */
export interface Prepared {
  group: PeerGroup;
  scenarios: Scenario[];
}

const iso = (v: unknown) => new Date(v as string).toISOString();

export class MonitorLearning {
  constructor(
    private readonly db: Database,
    private readonly audit: AuditService,
    /** The user's peer group, read from the records as the detectors would (wired by the service). */
    private readonly peerGroupOf: (userRef: string) => Promise<PeerGroup>,
  ) {}

  /** Read before the closing transaction (the records are read through the FHIR service). */
  async prepare(caseId: string): Promise<Prepared | undefined> {
    const row = (await this.db.query<{ user_ref: string }>('select user_ref from monitor_case where id = $1', [caseId])).rows[0];
    if (!row) return undefined;
    const scenarios = (await this.db.query<{ scenario: string }>('select distinct scenario from monitor_alert where case_id = $1', [caseId])).rows
      .map((r) => r.scenario as Scenario)
      .filter((s) => LEARNABLE.includes(s))
      .sort();
    return { group: await this.peerGroupOf(row.user_ref), scenarios };
  }

  /** Inside the closing transaction: each pattern's weight changed, the change recorded twice. */
  async apply(tx: Queryable, who: Who, caseId: string, resolution: Resolution, prepared: Prepared): Promise<void> {
    const { group } = prepared;
    for (const scenario of prepared.scenarios) {
      const current = (
        await tx.query<{ weight: number }>('select weight from monitor_pattern_weight where scenario = $1 and peer_group = $2 for update', [
          scenario,
          group.key,
        ])
      ).rows[0];
      const before = current ? Number(current.weight) : 1;
      const after = resolution === 'violation' ? Math.max(1, before / STEP) : Math.min(MAX_WEIGHT, before * STEP);
      await tx.query(
        `insert into monitor_pattern_weight (scenario, peer_group, role, department, department_name, weight) values ($1, $2, $3, $4, $5, $6)
         on conflict (scenario, peer_group) do update set weight = excluded.weight, department_name = excluded.department_name, updated_at = now()`,
        [scenario, group.key, group.role, group.department, group.departmentName, after],
      );
      await tx.query(
        `insert into monitor_learning (case_id, by_user, resolution, scenario, peer_group, role, department, department_name, weight_before, weight_after)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        [caseId, who.username, resolution, scenario, group.key, group.role, group.department, group.departmentName, before, after],
      );
      // No patient here: the scenario, the role and the department, and the weights.
      await this.audit.record(
        {
          action: 'monitor.pattern.weight',
          outcome: 'success',
          user: auditUser(who),
          request: who.request,
          resource: { type: 'MonitorCase', id: caseId },
          explanation: { resolution, scenario, role: group.role, department: group.department, weightBefore: before, weightAfter: after },
        },
        tx,
      );
    }
  }

  /** The weights the live scan hands to the budget (only patterns weighed down). */
  async adjustments(): Promise<PatternWeight[]> {
    const rows = await this.db.query<{ scenario: string; peer_group: string; weight: number }>(
      'select scenario, peer_group, weight from monitor_pattern_weight where weight > 1 order by scenario, peer_group',
    );
    return rows.rows.map((r) => ({ scenario: r.scenario as Scenario, group: r.peer_group, weight: Number(r.weight) }));
  }

  /** For privacy officers: the current weights and the changes, newest first. */
  async list(who: Who): Promise<{ weights: PatternWeightRow[]; changes: PatternChange[] }> {
    authorize(who, 'access.review');
    const weights = await this.db.query<{
      scenario: string;
      role: string;
      department: string | null;
      department_name: string | null;
      weight: number;
      updated_at: string;
    }>('select * from monitor_pattern_weight where weight > 1 order by weight desc, scenario, peer_group limit 500');
    const changes = await this.db.query<{
      at: string;
      by_user: string;
      case_id: string;
      resolution: Resolution;
      scenario: string;
      role: string;
      department: string | null;
      department_name: string | null;
      weight_before: number;
      weight_after: number;
    }>('select * from monitor_learning order by id desc limit 500');
    return {
      weights: weights.rows.map((r) => ({
        scenario: r.scenario,
        role: r.role,
        department: r.department,
        departmentName: r.department_name,
        weight: Number(r.weight),
        updatedAt: iso(r.updated_at),
      })),
      changes: changes.rows.map((r) => ({
        at: iso(r.at),
        by: r.by_user,
        caseId: r.case_id,
        resolution: r.resolution,
        scenario: r.scenario,
        role: r.role,
        department: r.department,
        departmentName: r.department_name,
        before: Number(r.weight_before),
        after: Number(r.weight_after),
      })),
    };
  }
}
