/**
 * The access rules for patient data. The rules are one table (rules.ts) with two interpreters:
 * over one patient's decision context (waysIn.ts: reads, writes, searches confined to a few
 * patients) and as one SQL predicate (predicateSql.ts: the WHERE clause of searches across
 * patients). Both read the table and the same facts (contextFunction.ts, windowSql.ts), and the
 * access tests hold them to each other, so a search can never show what a read would refuse.
 *
 * The predicate reads only the access module's own tables (relationships, memberships, consent
 * rules, grants) and the columns every stored row has (resource_type, id, patient_id, labels).
 * Single decisions keep their context in a process cache that every write invalidates through the
 * database's notifications and that turns itself off when those could lag by a second
 * (contextCache.ts); searches always read the tables in the statement.
 *
 * The words of a decision are in decision.ts.
 */
import type { AccessSettings } from '../config.js';
import type { Database, Queryable } from '../db/index.js';
import type { BlindIndex } from '../keys/index.js';
import { AccessDeniedError, type FhirAction } from './authorize.js';
import { type Role, type Who } from '../shared/index.js';
import { ContextCache } from './contextCache.js';
import { interactionOf, type AccessDecision, type AccessEvent, type AccessSink, type AccessTarget, type Bind, type Mode, type RuleInputs } from './decision.js';
import { projectNewInBulk, projectWrite, type SelfMade, type WrittenVersion } from './projection.js';
import { labelDigest, SENSITIVE_CATEGORIES } from './labels.js';
import { Builder } from './predicateSql.js';
import { scopeAllowing } from './systemScopes.js';
import { byRoleAlone, CLINICAL_TYPES, DIRECTORY_TYPES, rolesAllowing, rolesByScope, type Interaction } from './roles.js';
import { asksAboutTheRow, decidedByOrder, evaluate, registersPatient, routes, type ContextRow } from './waysIn.js';
import { SCOPE_RULES, type ScopeRules } from './rules.js';

export { interactionOf, type AccessDecision, type AccessEvent, type AccessSink, type AccessTarget, type Bind, type Grounds, type Mode } from './decision.js';

const PATIENT_TYPES = new Set(CLINICAL_TYPES);
/** The cache key of rows that belong to no patient (patient ids are never empty). */
const NO_PATIENT = '';

/**
 * Whose own way in a write would be, if it recorded one: the author's practitioner, unless the
 * author wrote it from within the patient's care (a clinician's relationship) or registered a new
 * patient (whose chart is empty). A receptionist's booking, an administrator's PractitionerRole, a
 * write under a break-the-glass grant or a lab's order update then gives their author nothing.
 */
export function selfMadeBy(who: Who | undefined, decision: AccessDecision | undefined): SelfMade | null {
  if (!who?.practitioner) return null;
  const scope = decision?.grounds?.roleScope;
  if (scope === 'clinical' || scope === 'registration') return null;
  // `as`: what let the author write it; a lab's own order update still counts for the lab's reach.
  return { by: who.practitioner, as: scope ?? decision?.grounds?.basis ?? 'unknown' };
}

export class AccessPolicy implements RuleInputs {
  private readonly allSensitive: string[];
  private readonly listeners: Array<(e: AccessEvent) => void | Promise<void>> = [];
  /** Label digests per role set and department: settings and the blind-index key are fixed for the process. */
  private readonly sensitiveOfRoles = new Map<string, string[]>();
  private departmentDigests?: Array<{ group: string; digest: string }>;
  /** Decision contexts of (caller, patient) pairs; see contextCache.ts for why this is safe. */
  readonly contexts: ContextCache<ContextRow>;

  /**
   * `audit` keeps every decision (the audit log): awaited, so a decision is acted on only once it
   * has been kept, and a failing audit log fails the request closed. `scopeRules`: the rules
   * (rules.ts); another table only in tests that prove both forms follow it.
   */
  constructor(
    private readonly db: Database,
    private readonly blind: () => BlindIndex,
    readonly settings: AccessSettings,
    /** Where every recorded decision goes: the audit log first, then the review queue (runtime.ts wires both). */
    private readonly sinks: { audit: AccessSink; review: AccessSink },
    readonly scopeRules: ScopeRules = SCOPE_RULES,
  ) {
    this.allSensitive = SENSITIVE_CATEGORIES.map((c) => labelDigest(this.blind(), c));
    this.contexts = new ContextCache(db);
  }

  /** Starts the context cache's listener (without it every decision reads the tables). */
  async start(): Promise<void> {
    await this.contexts.start();
  }

  async stop(): Promise<void> {
    await this.contexts.stop();
  }

  /**
   * The FHIR service's write hook: access tables follow the write; this process's cache follows the
   * commit. What the write records is marked as made by its author unless the author wrote it from
   * within the patient's care (see selfMadeBy).
   */
  readonly writeHook = async (tx: Queryable, v: WrittenVersion, who?: Who, decision?: AccessDecision): Promise<() => void> => {
    const change = await projectWrite(tx, { ...v, selfMade: selfMadeBy(who, decision) });
    return () => this.contexts.forget(change);
  };

  /** The same for many new resources at once (an import): every cached decision is dropped after. */
  readonly newVersionsHook = async (tx: Queryable, versions: WrittenVersion[]): Promise<() => void> => {
    await projectNewInBulk(tx, versions);
    return () => this.contexts.forget({ all: true });
  };

  /** Watches every decision besides the audit log (tests, diagnostics); awaited like the audit log. */
  onEvent(listener: (e: AccessEvent) => void | Promise<void>): void {
    this.listeners.push(listener);
  }

  /**
   * SQL predicate over `alias` (a row with resource_type, id, patient_id, labels, and for 'new'
   * also based_on) that is true exactly when `who` may see (or write) it. 'false' when nothing is.
   */
  predicate(who: Who, type: string, mode: Mode, action: FhirAction, alias: string, bind: Bind, opts: { withGrants?: boolean } = {}): string {
    if (who.system) return 'true';
    if (who.client) return scopeAllowing(who.client.scopes, interactionOf(mode, action), type) ? 'true' : 'false';
    const withGrants = (opts.withGrants ?? true) && !who.withoutGrants;
    const alone = byRoleAlone(type, who.roles, interactionOf(mode, action));
    if (alone) return alone.allowed ? 'true' : 'false';
    if (!PATIENT_TYPES.has(type)) return 'false';
    const interaction = interactionOf(mode, action);
    const roles = rolesAllowing(who.roles, interaction, type);
    const b = new Builder(this, who, alias, bind, mode);
    const parts: string[] = [];
    // Registering a new patient: nothing stored yet to protect.
    if (registersPatient(this, mode, action, type, roles)) return 'true';
    for (const [scope, rolesOfScope] of rolesByScope(roles)) {
      const p = b.scopePredicate(scope, type, rolesOfScope, withGrants);
      if (p !== 'false') parts.push(p);
    }
    return parts.length === 0 ? 'false' : `(${parts.join(' or ')})`;
  }

  /** Decides on one row. Never throws for a refusal. */
  async decide(who: Who | undefined, action: FhirAction, mode: Mode, target: AccessTarget, q: Queryable = this.db): Promise<AccessDecision> {
    return (await this.decideMany(who, action, mode, [target], q))[0];
  }

  /**
   * Decides on several rows of one type in one statement (a search page: each patient on it is one
   * access, with its own grounds). The predicate is evaluated over the rows as a derived table.
   */
  async decideMany(who: Who | undefined, action: FhirAction, mode: Mode, targets: AccessTarget[], q: Queryable = this.db): Promise<AccessDecision[]> {
    if (targets.length === 0) return [];
    if (!who) return targets.map(() => ({ allowed: false, reason: 'not authenticated' }));
    if (who.system) return targets.map(() => ({ allowed: true, reason: 'system process', grounds: { basis: 'system' } }));
    if (who.client) {
      const scope = scopeAllowing(who.client.scopes, interactionOf(mode, action), targets[0].resourceType);
      const d: AccessDecision = scope
        ? { allowed: true, reason: `system client scope ${scope}`, grounds: { basis: 'client-scope', scope } }
        : { allowed: false, reason: `the client's scopes do not allow ${interactionOf(mode, action)} of ${targets[0].resourceType}` };
      return targets.map(() => d);
    }
    const type = targets[0].resourceType;
    if (targets.some((t) => t.resourceType !== type)) throw new Error('decideMany: one resource type per call');
    const alone = byRoleAlone(type, who.roles, interactionOf(mode, action));
    if (alone) {
      const d: AccessDecision = alone.allowed
        ? { allowed: true, reason: alone.reason, grounds: { basis: alone.basis } }
        : { allowed: false, reason: alone.reason };
      return targets.map(() => d);
    }
    const interaction = interactionOf(mode, action);
    const roles = rolesAllowing(who.roles, interaction, type);
    if (roles.length === 0) return targets.map(() => ({ allowed: false, reason: `the caller's roles may not ${interaction} ${type} resources` }));

    const lab = decidedByOrder(this, roles, type);
    const contexts = await this.contextsFor(who, mode, type, lab, targets, q);
    return targets.map((t, i) => evaluate(this, who, action, mode, t, roles, contexts[i]));
  }

  /**
   * The decision context of each target, from the cache where it holds one. The cache serves
   * contexts that depend on the caller and the patient only (a lab's depends on the order), and
   * never a write transaction's own view.
   */
  private async contextsFor(who: Who, mode: Mode, type: string, lab: boolean, targets: AccessTarget[], q: Queryable): Promise<ContextRow[]> {
    const cacheable = !lab && q === this.db;
    const callerKey = `${who.accountId}|${who.practitioner ?? ''}|${who.roles.includes('nurse')}`;
    // A row of no patient (an id that does not exist) is kept under NO_PATIENT like any patient's:
    // a made-up id must cost what a hidden one does, or the time of a refusal tells them apart.
    const contexts: Array<ContextRow | undefined> = targets.map((t) => (cacheable ? this.contexts.get(callerKey, t.patientId ?? NO_PATIENT) : undefined));
    const missing = targets.map((t, i) => ({ t, i })).filter(({ i }) => contexts[i] === undefined);
    if (missing.length > 0) {
      const ticket = this.contexts.ticket();
      const startedAt = this.contexts.now();
      const loaded = await this.loadContexts(
        who,
        mode,
        type,
        lab,
        missing.map((m) => m.t),
        q,
      );
      missing.forEach(({ t, i }, n) => {
        contexts[i] = loaded[n];
        if (cacheable)
          this.contexts.set(ticket, callerKey, who.practitioner ?? '', t.patientId ?? NO_PATIENT, loaded[n], startedAt, loaded[n].valid_for ?? null);
      });
    }
    return contexts as ContextRow[];
  }

  /** access_context() for each target, in one statement. */
  private async loadContexts(who: Who, mode: Mode, type: string, lab: boolean, targets: AccessTarget[], q: Queryable): Promise<ContextRow[]> {
    const params: unknown[] = [];
    const bind: Bind = (v) => {
      params.push(v);
      return `$${params.length}`;
    };
    let sql: string;
    if (targets.length === 1) {
      // One row: the function called on bound values, the smallest statement there is to plan.
      const t = targets[0];
      const one = `(select ${bind(type)}::text as resource_type, ${bind(t.id ?? null)}::text as id, ${bind(t.patientId ?? null)}::text as patient_id,
        ${bind(t.basedOn ?? [])}::text[] as based_on)`;
      const b = new Builder(this, who, 'r', bind, mode);
      sql = `select 0 as n, ${b.contextCall(lab)} from ${one} r`;
    } else {
      const json = targets.map((t, n) => ({ resource_type: type, id: t.id ?? null, patient_id: t.patientId ?? null, based_on: t.basedOn ?? [], n }));
      const rows = `jsonb_to_recordset(${bind(JSON.stringify(json))}::jsonb) as r(resource_type text, id text, patient_id text, based_on text[], n int)`;
      const b = new Builder(this, who, 'r', bind, mode);
      sql = `select r.n, ${b.contextCall(lab)} from ${rows} order by r.n`;
    }
    return (await q.query<{ n: number; ctx: ContextRow }>(sql, params, { prepare: targets.length === 1 })).rows.map((r) => r.ctx);
  }

  /**
   * For a read that fetches the row itself: the SQL that brings each row's decision context along
   * (a CTE and select-list columns over `alias`), so the read costs no extra round trip. Undefined
   * when the decision needs no context (the system, the clinic directory, a role without the type).
   */
  readContext(who: Who, type: string, alias: string, bind: Bind): { columns: string; roles: Role[] } | undefined {
    // With the cache working, a read fetches the row alone and decides through \`decide\` (its
    // context most likely cached): cheaper than computing the context with every row.
    if (this.contexts.live) return undefined;
    if (who.system || DIRECTORY_TYPES.includes(type) || !PATIENT_TYPES.has(type)) return undefined;
    const roles = rolesAllowing(who.roles, 'read', type);
    if (roles.length === 0) return undefined;
    const b = new Builder(this, who, alias, bind, 'read');
    const lab = decidedByOrder(this, roles, type);
    return { columns: b.contextCall(lab), roles };
  }

  /** The decision for a row fetched with `readContext`'s columns. */
  decideFetched(who: Who, action: FhirAction, target: AccessTarget, roles: Role[], row: unknown): AccessDecision {
    return evaluate(this, who, action, 'read', target, roles, (row as { ctx: ContextRow }).ctx);
  }

  /**
   * The search rule for rows confined to a few patients (a search by patient, a compartment
   * search): each patient's ways in, from their decision contexts (cached), reduced to a condition
   * on the rows' labels. Much cheaper to plan than the set predicate; the same rules as a read.
   * Undefined when the rows' own ids matter (a lab's orders and results): then use \`predicate\`.
   */
  async pinnedPredicate(who: Who, type: string, patientIds: string[], alias: string, bind: Bind): Promise<string | undefined> {
    if (who.system || who.client || DIRECTORY_TYPES.includes(type) || !PATIENT_TYPES.has(type)) return undefined;
    const roles = rolesAllowing(who.roles, 'read', type);
    if (roles.length === 0) return 'false';
    if (asksAboutTheRow(this, roles)) return undefined;
    const ids = [...new Set(patientIds)];
    const contexts = await this.contextsFor(
      who,
      'read',
      type,
      false,
      ids.map((patientId) => ({ resourceType: type, patientId })),
      this.db,
    );
    const all = this.allSensitive;
    const parts: string[] = [];
    ids.forEach((patientId, i) => {
      const r = routes(this, who, 'search', 'read', type, undefined, false, roles, contexts[i]);
      const rules = [...r.normal.flatMap((n) => ('refused' in n ? [] : [n.labels])), ...r.grants.map((g) => g.labels)];
      if (rules.length === 0) return;
      // Unlabelled rows pass any way in; labelled rows need a direct way whose categories cover them.
      const conds = rules.some((x) => x === 'any')
        ? ['true']
        : [
            `not (${alias}.labels && ${bind(all)}::text[])`,
            ...rules
              .filter((x) => x !== 'any' && x.direct)
              .map((x) => `not (${alias}.labels && ${bind(all.filter((d) => !(x as { allowed: string[] }).allowed.includes(d)))}::text[])`),
          ];
      parts.push(`(${alias}.patient_id = ${bind(patientId)}::text and (${conds.join(' or ')}))`);
    });
    return parts.length === 0 ? 'false' : `(${parts.join(' or ')})`;
  }

  /**
   * Whether a search's rows can be decided one at a time by \`admitted\`: the caller is a user
   * whose rule for the type would be the set predicate (not the system, a client's scopes or a role
   * alone), and the rows' own ids do not matter (a lab's orders and results do: the set predicate).
   */
  decidesRowsByPatient(who: Who, type: string): boolean {
    if (who.system || who.client || DIRECTORY_TYPES.includes(type) || !PATIENT_TYPES.has(type)) return false;
    if (byRoleAlone(type, who.roles, 'read')) return false;
    const roles = rolesAllowing(who.roles, 'read', type);
    return roles.length > 0 && !asksAboutTheRow(this, roles);
  }

  /**
   * Which of a search's rows (found by its own conditions, of one type) the caller may see: each
   * decided as a read of it is, from its patient's decision context (cached) and its labels. For a
   * search across patients whose conditions found few rows (a name): their patients are then known,
   * and deciding them costs less than planning the set predicate. Only where
   * \`decidesRowsByPatient\` holds.
   */
  async admitted(who: Who, type: string, rows: AccessTarget[]): Promise<boolean[]> {
    if (!this.decidesRowsByPatient(who, type)) throw new Error('admitted: the set predicate decides these rows');
    if (rows.some((r) => r.resourceType !== type)) throw new Error('admitted: one resource type per call');
    const roles = rolesAllowing(who.roles, 'read', type);
    const contexts = await this.contextsFor(who, 'read', type, false, rows, this.db);
    return rows.map((row, i) => evaluate(this, who, 'search', 'read', row, roles, contexts[i]).allowed);
  }

  /** Whether any of the caller's roles may do this kind of interaction on this type at all. */
  mayTouchType(who: Who, interaction: Interaction, type: string): boolean {
    if (who.system) return true;
    if (who.client) return scopeAllowing(who.client.scopes, interaction, type) !== undefined;
    const alone = byRoleAlone(type, who.roles, interaction);
    if (alone) return alone.allowed;
    return rolesAllowing(who.roles, interaction, type).length > 0;
  }

  /**
   * Hands the decision to the audit log and, when an allowed access needs a person to look at
   * it (an emergency grant, an investigation, a restricted patient), files it in the review queue.
   */
  async record(who: Who | undefined, action: FhirAction, target: AccessTarget, decision: AccessDecision, q: Queryable = this.db): Promise<void> {
    if (!who || who.system) return;
    const tx = q === this.db ? undefined : q;
    const event: AccessEvent = {
      who,
      action,
      resourceType: target.resourceType,
      id: target.id,
      patientId: target.patientId,
      version: target.version,
      decision,
      tx,
    };
    // First the audit log, then what a person must look at: the review queue.
    await this.sinks.audit(event);
    for (const l of this.listeners) await l(event);
    await this.sinks.review(event);
  }

  /** Sensitive-category digests the given roles may see over a direct relationship. */
  allowedSensitive(roles: readonly Role[]): string[] {
    const key = roles.join(',');
    let digests = this.sensitiveOfRoles.get(key);
    if (!digests) {
      const codes = new Set<string>();
      for (const r of roles) for (const c of this.settings.sensitiveByRole[r] ?? []) codes.add(c.toUpperCase());
      digests = [...codes].map((c) => labelDigest(this.blind(), c));
      this.sensitiveOfRoles.set(key, digests);
    }
    return digests;
  }

  /** (department, category digest) pairs from settings.sensitiveByDepartment. */
  departmentAllowances(): Array<{ group: string; digest: string }> {
    return (this.departmentDigests ??= Object.entries(this.settings.sensitiveByDepartment).flatMap(([group, codes]) =>
      codes.map((c) => ({ group, digest: labelDigest(this.blind(), c) })),
    ));
  }

  get sensitiveDigests(): string[] {
    return this.allSensitive;
  }
}

export { AccessDeniedError };
