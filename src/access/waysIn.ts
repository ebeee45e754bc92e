/**
 * The access rules (rules.ts) over one patient's decision context (the JSON access_context()
 * returns, contextFunction.ts): the ways into the patient's records a caller has (`routes`, the
 * table's interpreter in code) and the decision on one row (`evaluate`). AccessPolicy applies them
 * to single decisions and to searches confined to a few patients; predicateSql.ts interprets the
 * same table in SQL for searches across patients.
 */
import type { FhirAction } from './authorize.js';
import type { Role, Who } from '../shared/index.js';
import type { AccessDecision, AccessTarget, Mode, RuleInputs } from './decision.js';
import { ROLE_RIGHTS, rolesByScope, type Scope } from './roles.js';
import { grantApplies, grantRevealsSensitive, orderReach, ruleAsksAboutTheRow, type Condition, type PatientFact, type ScopeRule } from './rules.js';

/** Which sensitive labels a way in lets through: any, or (over a direct relationship) these categories. */
export type LabelRule = 'any' | { direct: boolean; allowed: string[] };

/** The ways into one patient's records, in the order the rules try them. */
export interface Routes {
  normal: Array<{ refused: string } | { labels: LabelRule; labelReason: string; scope: Scope | 'registration' }>;
  grants: Array<{ grant: { id: string; kind: string }; labels: LabelRule }>;
  restricted: boolean;
  relationships: Array<{ kind: string; source: string; principal: string; direct: boolean }>;
}

/** What a single decision needs to know: the JSON access_context() returns (contextFunction.ts). */
export interface ContextRow {
  principals: Array<{ principal: string | null; direct: boolean; kind: string }> | null;
  /** `mine`, `mine_lab`: the caller made it for themselves, so it counts for neither their clinical nor (`mine_lab`) their lab reach. */
  relationships: Array<{
    kind: string;
    source: string;
    source_type: string;
    source_id: string;
    principal: string;
    direct: boolean;
    mine: boolean;
    mine_lab: boolean;
  }> | null;
  restricted: boolean | null;
  has_encounter: boolean | null;
  /** `named`: the rule names the caller, in person or through a group they are in (decided in SQL: contextFunction.ts). */
  consents: Array<{ effect: 'deny' | 'permit-only'; actors: string[] | null; purposes: string[] | null; named: boolean }> | null;
  grants: Array<{ id: string; kind: string }> | null;
  assigned_orders: string[] | null;
  valid_for?: number | null;
}

/** Registering a new patient: nothing stored yet to protect (any role that may create one whose scope registers patients). */
export function registersPatient(rules: RuleInputs, mode: Mode, action: FhirAction, type: string, roles: readonly Role[]): boolean {
  if (mode !== 'new' || action !== 'create' || type !== 'Patient') return false;
  return roles.some((r) => {
    const scope = ROLE_RIGHTS[r].scope;
    return scope !== undefined && rules.scopeRules[scope].registersPatients;
  });
}

/** Whether the decision depends on the row, not on the patient alone (a lab's results are decided on the orders they answer). */
export function decidedByOrder(rules: RuleInputs, roles: readonly Role[], type: string): boolean {
  return orderReach(type) === 'result' && asksAboutTheRow(rules, roles);
}

/** Whether one of these roles' ways in asks about the row itself (an order assigned to the caller), not only about its patient. */
export function asksAboutTheRow(rules: RuleInputs, roles: readonly Role[]): boolean {
  return roles.some((r) => {
    const scope = ROLE_RIGHTS[r].scope;
    return scope !== undefined && ruleAsksAboutTheRow(rules.scopeRules[scope]);
  });
}

/**
 * The ways into one patient's records for this caller (given the context access_context()
 * returns: the caller's principals, the patient's active relationships to them, restriction,
 * consent rules, grants), each with the sensitive labels it lets through: the interpreter of the
 * rules (rules.ts) over one context. The rules for a single row (\`evaluate\`) and for a search
 * confined to a few patients (\`pinnedPredicate\`) both apply these; \`Builder.scopePredicate\`
 * interprets the same rules in SQL for searches across patients, and the access tests ask all
 * three forms (read, search by patient, search by id) for every cell. Why more than one form:
 * planning the set predicate costs more than a single decision may.
 */
export function routes(
  rules: RuleInputs,
  who: Who,
  action: FhirAction,
  mode: Mode,
  type: string,
  targetId: string | undefined,
  basedOn: boolean,
  roles: Role[],
  ctx: ContextRow,
): Routes {
  const principals = (ctx.principals ?? []).filter((p) => p.principal !== null);
  // A relationship the caller made for themselves is no way in (docs/access.md, "Nobody makes their own way in").
  const rels = (ctx.relationships ?? []).filter((g) => !g.mine);
  const labRels = (ctx.relationships ?? []).filter((g) => !g.mine_lab);
  const restricted = Boolean(ctx.restricted);
  const departments = principals.filter((p) => p.kind === 'department').map((p) => p.principal);
  const deptAllowed = rules
    .departmentAllowances()
    .filter((d) => departments.includes(d.group))
    .map((d) => d.digest);
  // Bulk reads (exports) follow care relationships only: a grant is for the person at the screen.
  const grants = who.withoutGrants ? [] : (ctx.grants ?? []);
  const hasPractitioner = who.practitioner !== undefined;
  const out: Routes = {
    normal: [],
    grants: [],
    restricted,
    relationships: rels.map(({ kind, source, principal, direct }) => ({ kind, source, principal, direct })),
  };
  // New states carry no labels that restrict who may write them.
  const labels = (direct: boolean, allowed: string[]): LabelRule => (mode === 'new' ? 'any' : { direct, allowed: [...allowed, ...deptAllowed] });

  const patientFact = (fact: PatientFact): boolean => {
    switch (fact) {
      case 'on-file':
        // ctx.restricted is null for a patient not on file.
        return ctx.restricted != null;
      case 'not-restricted':
        return !restricted;
      case 'has-encounter':
        return Boolean(ctx.has_encounter);
    }
  };
  const assignedOrderCovers = (): boolean => {
    const orders = labRels.filter((g) => g.source_type === 'ServiceRequest' && g.kind === 'service-request');
    switch (orderReach(type)) {
      case 'patient':
        return orders.length > 0;
      case 'order':
        return orders.some((g) => g.source_id === targetId);
      case 'result':
        return basedOn && (ctx.assigned_orders ?? []).length > 0;
    }
  };
  const holds = (c: Condition): boolean => {
    switch (c.holds) {
      case 'care-relationship':
        return hasPractitioner && rels.some((g) => g.direct || !restricted);
      case 'patient':
        return c.facts.every(patientFact);
      case 'assigned-order':
        return assignedOrderCovers();
      case 'consent-permits':
        return !(ctx.consents ?? []).some((rule) => {
          if (rule.purposes && !rule.purposes.includes(c.purpose)) return false;
          return rule.effect === 'deny' ? rule.actors === null || rule.named : !rule.named;
        });
    }
  };
  const refusal = (c: Condition): string => (c.holds === 'care-relationship' ? (restricted ? c.refusal.restricted : c.refusal.unrelated) : c.refusal);

  if (registersPatient(rules, mode, action, type, roles)) {
    out.normal.push({ labels: 'any', labelReason: '', scope: 'registration' });
    return out;
  }
  for (const [scope, rolesOfScope] of rolesByScope(roles)) {
    const rule = rules.scopeRules[scope];
    if (rule.needsPractitioner && !hasPractitioner) continue;
    const allowed = rules.allowedSensitive(rolesOfScope);
    const way = rule.way;
    if ('refusal' in way) out.normal.push({ refused: way.refusal });
    else {
      const failed = way.conditions.find((c) => !holds(c));
      if (failed) out.normal.push({ refused: refusal(failed) });
      else {
        const direct = way.sensitive.needs === 'role-alone' || rels.some((g) => g.direct);
        out.normal.push({ labels: labels(direct, allowed), labelReason: way.sensitive.refusal, scope });
      }
    }
    const grantRule = rule.grant;
    if (grantRule && grantApplies(rules, grantRule, rolesOfScope, mode)) {
      const g = grants.find((x) => x.kind === grantRule.kind);
      if (g) out.grants.push({ grant: g, labels: grantRevealsSensitive(rules, grantRule) ? 'any' : labels(true, allowed) });
    }
  }
  return out;
}

/** What a way in rests on, for the grounds: the caller's care of the patient or their role's reach ('role' for a grant-only scope, which a way in never names). */
function wayBasis(rule: ScopeRule): string {
  return 'basis' in rule.way ? rule.way.basis : 'role';
}

/** The rules for one row: the first way in whose label rule lets the row's labels through. */
export function evaluate(rules: RuleInputs, who: Who, action: FhirAction, mode: Mode, target: AccessTarget, roles: Role[], ctx: ContextRow): AccessDecision {
  const type = target.resourceType;
  const r = routes(rules, who, action, mode, type, target.id, true, roles, ctx);
  const labels = mode === 'new' ? [] : (target.labels ?? []).filter((l) => rules.sensitiveDigests.includes(l));
  const passes = (rule: LabelRule) => rule === 'any' || labels.length === 0 || (rule.direct && labels.every((l) => rule.allowed.includes(l)));
  let reason: string | undefined;
  for (const n of r.normal) {
    if ('refused' in n) {
      reason ??= n.refused;
      continue;
    }
    if (!passes(n.labels)) {
      reason ??= n.labelReason;
      continue;
    }
    // What let the caller in: their care of the patient (clinicians; a lab through its orders), a
    // role's reach across the clinic (reception, billing), or registering a new patient.
    const basis = n.scope === 'registration' ? 'registration' : wayBasis(rules.scopeRules[n.scope]);
    // The purpose of use is that of the role that let the caller in (a receptionist's booking is HOPERAT even for a physician-receptionist).
    const purpose = ROLE_RIGHTS[roles.find((role) => ROLE_RIGHTS[role].scope === n.scope) ?? roles[0]].purpose;
    return {
      allowed: true,
      reason: basis === 'relationship' ? 'care relationship' : `role ${roles.join(', ')}`,
      grounds: { basis, roleScope: n.scope, purposeOfUse: purpose, relationships: r.relationships, flagged: r.restricted },
    };
  }
  const g = r.grants.find((x) => passes(x.labels));
  if (g) {
    const kind = g.grant.kind;
    return {
      allowed: true,
      reason: kind === 'investigation' ? 'privacy investigation' : 'break-the-glass',
      grounds: {
        basis: kind,
        purposeOfUse: kind === 'investigation' ? 'HCOMPL' : 'ETREAT',
        grantId: g.grant.id,
        relationships: r.relationships,
        flagged: r.restricted,
      },
    };
  }
  return { allowed: false, reason: reason ?? 'no rule allows this access' };
}
