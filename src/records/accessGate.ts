/**
 * The FHIR service's side of the enforcement point: every access to a stored row, a new state or a
 * type is decided by the access rules and recorded before any patient data is decrypted or written.
 * The rest of records reaches the access rules only through this class: reads by id (`readById`,
 * `check`), new resources (`checkNew`), what a write records (`recordWrite`), and the SQL forms a
 * search or history joins (`visibleSql`, `visibleSqlForPatients`, `admitted`) with what it returns
 * recorded after (`recordReads`).
 */
import type { Resource } from '@medplum/fhirtypes';
import { AccessDeniedError, identifyDecision, type FhirAction } from '../access/index.js';
import { type Who } from '../shared/index.js';
import type { AccessDecision, AccessPolicy, AccessTarget, Bind, Mode } from '../access/index.js';
import { bindTo, type Database, type Queryable } from '../db/index.js';
import { notFound } from '../shared/index.js';
import type { VersionRow } from './store.js';

/** How a read fetches its row: alone, or with the access context's columns beside it (one statement). */
export interface RowFetch {
  alone(): Promise<VersionRow | undefined>;
  withContext(columns: string, params: unknown[]): Promise<VersionRow>;
}

export class AccessGate {
  constructor(
    private readonly db: Database,
    private readonly access: AccessPolicy,
  ) {}

  /**
   * Asks the access rules about a stored row before decrypting or replacing it. A row that does not
   * exist is decided like one of an unknown patient: guessing ids tells a caller nothing.
   */
  async check(
    who: Who,
    action: FhirAction,
    mode: Mode,
    type: string,
    id: string,
    row: VersionRow | undefined,
    opts: { recordAllowed?: boolean } = {},
  ): Promise<AccessDecision> {
    const target: AccessTarget = { resourceType: type, id, patientId: row?.patient_id ?? null, labels: row?.labels ?? [], version: row?.version_id };
    return this.enforce(who, action, mode, target, this.db, opts.recordAllowed ?? true);
  }

  /**
   * The one path of a read by id, top to bottom: the caller's context for the row (from the
   * process's cache, or fetched with the row in one statement), the decision, its audit record,
   * then the refusal, the 404, or the row to open. The caller only says how to fetch.
   */
  async readById(who: Who, action: FhirAction, type: string, id: string, fetch: RowFetch): Promise<VersionRow> {
    const params: unknown[] = [type, id];
    const context = this.access.readContext(who, type, 'v', bindTo(params));
    const row = context ? await fetch.withContext(context.columns, params) : await fetch.alone();
    const found = row !== undefined && row.id !== null;
    const target: AccessTarget = {
      resourceType: type,
      id,
      patientId: row?.patient_id ?? null,
      labels: row?.labels ?? [],
      version: found ? row.version_id : undefined,
    };
    const decision = context
      ? this.access.decideFetched(who, action, target, context.roles, row!)
      : await this.access.decide(who, action, 'read', target, this.db);
    await this.access.record(who, action, target, decision);
    if (!decision.allowed) throw new AccessDeniedError(decision);
    if (!found) throw notFound();
    return row;
  }

  /** The new state of a write: the compartment it joins, and for lab results the orders they answer. */
  async checkNew(
    tx: Queryable,
    who: Who,
    action: FhirAction,
    resource: Resource & { id: string },
    patientId: string | null,
  ): Promise<{ target: AccessTarget; decision: AccessDecision }> {
    const basedOn = ((resource as { basedOn?: Array<{ reference?: string }> }).basedOn ?? [])
      .map((b) => /^ServiceRequest\/([A-Za-z0-9\-.]{1,64})$/.exec(b.reference ?? '')?.[1])
      .filter((x): x is string => x !== undefined);
    const target: AccessTarget = { resourceType: resource.resourceType, id: resource.id, patientId, labels: [], basedOn };
    return { target, decision: await this.access.decide(who, action, 'new', target, tx) };
  }

  /** Decides, records (refusals always; allowed accesses unless their record comes later, with the write) and throws on refusal. */
  private async enforce(who: Who, action: FhirAction, mode: Mode, target: AccessTarget, q: Queryable, recordAllowed: boolean): Promise<AccessDecision> {
    const decision = await this.access.decide(who, action, mode, target, q);
    if (!decision.allowed || recordAllowed) await this.access.record(who, action, target, decision, q);
    if (!decision.allowed) throw new AccessDeniedError(decision);
    return decision;
  }

  /**
   * Which of these patients the caller may see, by the very predicate a search of Patient joins:
   * a Group's member is shown (records/groupMembers.ts) exactly when a search would show that
   * patient. A patient that does not exist is not seen.
   */
  async visiblePatients(who: Who, ids: readonly string[]): Promise<Set<string>> {
    const unique = [...new Set(ids)];
    if (unique.length === 0) return new Set();
    const params: unknown[] = [unique];
    const rule = this.access.predicate(who, 'Patient', 'read', 'search', 'r', bindTo(params));
    const rows = await this.db.query<{ id: string }>(
      `select r.id from records_resource r where r.resource_type = 'Patient' and r.id = any($1::text[]) and not r.deleted and ${rule}`,
      params,
    );
    return new Set(rows.rows.map((r) => r.id));
  }

  /**
   * A refusal of a write the access rules would otherwise allow (a Group naming a patient the
   * writer may not see): recorded like any refusal, then thrown.
   */
  async refuse(who: Who, action: FhirAction, target: AccessTarget, reason: string): Promise<never> {
    const decision: AccessDecision = { allowed: false, reason };
    await this.access.record(who, action, target, decision);
    throw new AccessDeniedError(decision);
  }

  /** Type-level interactions (search, type history) need a role that may read the type at all. */
  async requireRole(who: Who, action: FhirAction, type: string): Promise<void> {
    const interaction = action === 'create' ? 'create' : 'read';
    if (!this.access.mayTouchType(who, interaction, type)) {
      const decision: AccessDecision = { allowed: false, reason: `the caller's roles may not ${interaction} ${type} resources` };
      await this.access.record(who, action, { resourceType: type }, decision);
      throw new AccessDeniedError(decision);
    }
  }

  /**
   * Identifying patients outside the caller's care (records/identify.ts): a role-level decision,
   * recorded when refused; the caller then records each patient it names (recordIdentified).
   */
  async requireIdentify(who: Who): Promise<AccessDecision> {
    const decision = identifyDecision(who);
    if (!decision.allowed) {
      await this.access.record(who, 'lookup', { resourceType: 'Patient' }, decision);
      throw new AccessDeniedError(decision);
    }
    return decision;
  }

  /** Each patient a look-up named is one recorded 'lookup'; a look-up that named none is recorded too. */
  async recordIdentified(who: Who, decision: AccessDecision, rows: VersionRow[]): Promise<void> {
    if (who.system) return;
    const targets: AccessTarget[] =
      rows.length === 0
        ? [{ resourceType: 'Patient' }]
        : rows.map((r) => ({ resourceType: 'Patient', id: r.id, patientId: r.patient_id ?? r.id, labels: r.labels, version: r.version_id }));
    await Promise.all(targets.map((t) => this.access.record(who, 'lookup', t, decision)));
  }

  /**
   * A search's or a history's access rule as SQL over `alias`: joined to the statement, so totals and
   * pages count only what the caller may see. What it returns is recorded after (`recordReads`).
   */
  visibleSql(who: Who, type: string, interaction: 'search' | 'history', alias: string, bind: Bind): string {
    return this.access.predicate(who, type, 'read', interaction, alias, bind);
  }

  /** The same for a search pinned to named patients: their contexts instead of the general rule (undefined: use `visibleSql`). */
  visibleSqlForPatients(who: Who, type: string, patientIds: string[], alias: string, bind: Bind): Promise<string | undefined> {
    return this.access.pinnedPredicate(who, type, patientIds, alias, bind);
  }

  /** Whether a search of `type` by this caller may be decided row by row, as reads are (`admitted`). */
  decidesRowsByPatient(who: Who, type: string): boolean {
    return this.access.decidesRowsByPatient(who, type);
  }

  /** Each found row decided as a read of it is; recorded, like every search's rows, by `recordReads`. */
  admitted(who: Who, type: string, rows: AccessTarget[]): Promise<boolean[]> {
    return this.access.admitted(who, type, rows);
  }

  /**
   * A write's decision for the audit log: inside the write's transaction (`tx`), so the record
   * commits or vanishes with the write; without one, a refusal recorded after its rollback.
   */
  recordWrite(who: Who, action: FhirAction, target: AccessTarget, decision: AccessDecision, tx?: Queryable): Promise<void> {
    return this.access.record(who, action, target, decision, tx ?? this.db);
  }

  /** Each patient whose data a search or history returns is one access: explained, and reviewed when it must be. */
  async recordReads(who: Who, action: FhirAction, rows: VersionRow[]): Promise<void> {
    if (who.system) return;
    const firstPerPatient = new Map<string, VersionRow>();
    for (const row of rows) {
      const key = `${row.resource_type}:${row.patient_id ?? row.id}`;
      if (!firstPerPatient.has(key)) firstPerPatient.set(key, row);
    }
    const byType = new Map<string, AccessTarget[]>();
    for (const row of firstPerPatient.values()) {
      const list = byType.get(row.resource_type) ?? [];
      list.push({ resourceType: row.resource_type, id: row.id, patientId: row.patient_id, labels: row.labels, version: row.version_id });
      byType.set(row.resource_type, list);
    }
    for (const targets of byType.values()) {
      const decisions = await this.access.decideMany(who, action, 'read', targets);
      // Recorded together: the audit log commits them in one batch.
      await Promise.all(targets.map((t, i) => this.access.record(who, action, t, decisions[i])));
    }
  }
}
