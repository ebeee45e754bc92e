/**
 * The access rules over one patient's decision context (the JSON access_context() returns,
 * contextFunction.ts): the ways into the patient's records a caller has (`routes`) and the decision
 * on one row (`evaluate`). AccessPolicy applies them to single decisions and to searches confined to
 * a few patients; predicateSql.ts writes the same rules in SQL for searches across patients.
 */
import type { FhirAction } from './authorize.js';
import type { Role, Who } from '../shared/index.js';
import type { AccessDecision, AccessTarget, Mode, RuleInputs } from './decision.js';
import { ROLE_RIGHTS, rolesByScope, type Scope } from './roles.js';

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

/** Registering a new patient: nothing stored yet to protect (any role that may create one, but an investigator's). */
export function registersPatient(mode: Mode, action: FhirAction, type: string, roles: readonly Role[]): boolean {
  return mode === 'new' && action === 'create' && type === 'Patient' && roles.some((r) => ROLE_RIGHTS[r].scope !== 'investigation');
}

/** A lab's results are decided on the orders they answer: their context depends on the row, not on the patient alone. */
export function decidedByOrder(roles: readonly Role[], type: string): boolean {
  return roles.some((r) => ROLE_RIGHTS[r].scope === 'lab') && (type === 'Observation' || type === 'DiagnosticReport');
}

/**
 * The ways into one patient's records for this caller (given the context access_context()
 * returns: the caller's principals, the patient's active relationships to them, restriction,
 * consent rules, grants), each with the sensitive labels it lets through. The rules for a single
 * row (\`evaluate\`) and for a search confined to a few patients (\`pinnedPredicate\`) both apply
 * these; \`predicate\` writes the same rules in SQL for searches across patients, and the access
 * tests ask all three forms (read, search by patient, search by id) for every cell. Why more than
 * one form: planning the set predicate costs more than a single decision may.
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
  const consentBlocks = (purpose: string) =>
    (ctx.consents ?? []).some((c) => {
      if (c.purposes && !c.purposes.includes(purpose)) return false;
      return c.effect === 'deny' ? c.actors === null || c.named : !c.named;
    });
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

  if (registersPatient(mode, action, type, roles)) {
    out.normal.push({ labels: 'any', labelReason: '', scope: 'registration' });
    return out;
  }
  for (const [scope, rolesOfScope] of rolesByScope(roles)) {
    const allowed = rules.allowedSensitive(rolesOfScope);
    switch (scope) {
      case 'clinical': {
        const related = hasPractitioner && rels.some((g) => g.direct || !restricted);
        const direct = rels.some((g) => g.direct);
        if (!related)
          out.normal.push({
            refused: restricted
              ? 'restricted patient: only a direct care relationship gives access'
              : 'no active care relationship or grant gives access to this patient',
          });
        else if (consentBlocks('TREAT')) out.normal.push({ refused: "the patient's consent does not permit this access" });
        else
          out.normal.push({
            labels: labels(direct, allowed),
            labelReason: "the record carries a sensitive-category label the caller's role and relationship do not allow",
            scope,
          });
        if (rolesOfScope.some((r) => rules.settings.breakGlassRoles.includes(r))) {
          const g = grants.find((x) => x.kind === 'break-glass');
          if (g) out.grants.push({ grant: g, labels: rules.settings.breakGlassRevealsSensitive ? 'any' : labels(true, allowed) });
        }
        break;
      }
      case 'investigation': {
        const g = grants.find((x) => x.kind === 'investigation');
        if (mode === 'read' && g) out.grants.push({ grant: g, labels: 'any' });
        else out.normal.push({ refused: 'chart content only within an open investigation' });
        break;
      }
      case 'front-desk':
        // ctx.restricted is null for a patient not on file: refused like a hidden one (403), never told apart (404).
        if (restricted) out.normal.push({ refused: 'restricted patient: only a direct care relationship gives access' });
        else if (ctx.restricted == null) out.normal.push({ refused: 'no such patient' });
        else if (consentBlocks('HOPERAT')) out.normal.push({ refused: "the patient's consent does not permit this access" });
        else out.normal.push({ labels: labels(true, allowed), labelReason: 'sensitive record', scope });
        break;
      case 'billing':
        if (consentBlocks('HPAYMT')) out.normal.push({ refused: "the patient's consent does not permit this access" });
        else if (!ctx.has_encounter || restricted) out.normal.push({ refused: 'billing sees patients with encounters, except restricted ones' });
        else out.normal.push({ labels: labels(true, allowed), labelReason: 'billing sees patients with encounters, except restricted ones', scope });
        break;
      case 'lab': {
        if (!hasPractitioner) break;
        const orders = labRels.filter((g) => g.source_type === 'ServiceRequest' && g.kind === 'service-request');
        let scoped: boolean;
        if (type === 'Patient') scoped = orders.length > 0;
        else if (type === 'ServiceRequest') scoped = orders.some((g) => g.source_id === targetId);
        else scoped = basedOn && (ctx.assigned_orders ?? []).length > 0;
        if (scoped && !consentBlocks('TREAT'))
          out.normal.push({ labels: labels(true, allowed), labelReason: 'the lab sees the orders assigned to it and their results', scope });
        else out.normal.push({ refused: 'the lab sees the orders assigned to it and their results' });
        break;
      }
    }
  }
  return out;
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
    const basis = n.scope === 'registration' ? 'registration' : n.scope === 'clinical' || n.scope === 'lab' ? 'relationship' : 'role';
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
