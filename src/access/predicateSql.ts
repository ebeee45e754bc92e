/**
 * The access rules (rules.ts) as one SQL predicate over a row, for searches across patients
 * (policy.ts \`predicate\`), and the SQL of the facts they rest on (memberships, self-made rows,
 * consents naming the caller), which the decision-context function shares (contextFunction.ts).
 * Time windows are windowSql.ts's.
 */
import type { Role, Who } from '../shared/index.js';
import type { GrantKind } from './grants.js';
import type { Bind, Mode, RuleInputs } from './decision.js';
import type { Scope } from './roles.js';
import { grantApplies, grantRevealsSensitive, orderReach, type PatientFact, type Way } from './rules.js';
import { activeRelationshipSql, CONSENT_WINDOW, GRANT_WINDOW, inForceSql, MEMBERSHIP_WINDOW } from './windowSql.js';

/** Builds the SQL of one predicate; parameters are bound once each. */
export class Builder {
  private p?: string;
  private a?: string;

  constructor(
    private readonly policy: RuleInputs,
    private readonly who: Who,
    private readonly alias: string,
    private readonly bind: Bind,
    private readonly mode: Mode,
  ) {}

  private get practitioner(): string {
    return (this.p ??= `${this.bind(this.who.practitioner ?? null)}::text`);
  }

  private get account(): string {
    return (this.a ??= `${this.bind(this.who.accountId)}::text`);
  }

  private get isNurse(): boolean {
    return this.who.roles.includes('nurse');
  }

  /** Time windows: numbers from validated settings, written into the SQL as literals. */
  private activeRelationship(g: string): string {
    const s = this.policy.settings;
    return activeRelationshipSql(
      g,
      seconds(s.appointmentHoursBefore * 3600),
      seconds(s.encounterFollowUpDays * 86400),
      seconds(s.appointmentHoursAfter * 3600),
    );
  }

  /**
   * A relationship row in force for this caller: its window now, and not made by the caller for
   * themselves (`reach` 'lab': unless the caller made it as the lab, whose reach it stays within).
   */
  private relationshipInForce(g: string, reach: 'clinical' | 'lab' = 'clinical'): string {
    return `${this.activeRelationship(g)} and ${relationshipNotSelfMadeSql(g, this.practitioner, reach)}`;
  }

  /** The caller's practitioner and the groups it belongs to now (wards only count for nurses). */
  private principals(): string {
    return `(select ${this.practitioner} as principal, true as direct
      union all
      select m.group_ref, m.direct from access_membership m
      where m.member = ${this.practitioner} ${this.isNurse ? '' : "and m.kind <> 'ward'"} and m.kind <> 'care-team'
        and ${membershipInForceSql('m')})`;
  }

  /**
   * Relationships (alias g, with \`direct\` the relationship's and the principal's) that reach the
   * caller: through a principal, or through a care team the caller is a member of (an EpisodeOfCare
   * naming the team). Care teams are joined, not listed among the principals: a physician is on a
   * team per patient, and the principal list must stay short.
   */
  private reaching(where: string): string {
    return `(select g.*, g.direct and pr.direct as reach_direct from access_relationship g join ${this.principals()} pr on pr.principal = g.principal
        where ${where} and ${this.relationshipInForce('g')}
      union all
      -- only rows naming a team (a partial index holds them), never a scan of every relationship
      select g.*, g.direct and m.direct from access_membership m
        cross join lateral (select * from access_relationship g0 where g0.principal like 'CareTeam/%' and g0.principal = m.group_ref) g
        where m.kind = 'care-team' and ${membershipInForceSql('m')} and ${where} and ${this.relationshipInForce('g')}
          and (m.member = ${this.practitioner} or m.member in (select r.group_ref from access_membership r
            where r.member = ${this.practitioner} and r.kind = 'role' and ${membershipInForceSql('r')})))`;
  }

  /**
   * The row's patient is related to the caller. Correlated (probed per row through the patient
   * index) rather than a set: a search touches few patients, and the set of a busy physician's
   * patients is large.
   */
  private related(directOnly: boolean): string {
    const a = this.alias;
    const restriction = directOnly
      ? 'x.reach_direct'
      : '(x.reach_direct or not exists (select 1 from access_patient ap where ap.patient_id = x.patient_id and ap.restricted))';
    return `exists (select 1 from ${this.reaching(`g.patient_id = ${a}.patient_id`)} x where ${restriction})`;
  }

  /** Orders assigned to the caller (or their department) about the row's own patient: a result belongs to its order's patient. */
  private assignedOrders(): string {
    return `select g.source_id from access_relationship g join ${this.principals()} pr on pr.principal = g.principal
      where g.source_type = 'ServiceRequest' and g.kind = 'service-request' and g.patient_id = ${this.alias}.patient_id and ${this.relationshipInForce('g', 'lab')}`;
  }

  private consentBlocks(purpose: string): string {
    const a = this.alias;
    return `exists (select 1 from access_consent c where c.patient_id = ${a}.patient_id
      and ${inForceSql('c', CONSENT_WINDOW)}
      and (c.purposes is null or ${this.bind(purpose)}::text = any(c.purposes))
      and ${consentBlocksCallerSql('c', this.practitioner)})`;
  }

  /**
   * Unlabelled rows pass. A row with sensitive labels passes when `directCondition` holds and each
   * of its sensitive categories is allowed to one of the caller's roles or to a department the
   * caller's practitioner belongs to now.
   */
  private labels(allowedByRole: string[], directCondition: string): string {
    if (this.mode === 'new') return 'true';
    const a = this.alias;
    const all = this.policy.sensitiveDigests;
    const unlabelled = `not (${a}.labels && ${this.bind(all)}::text[])`;
    const departments = this.policy.departmentAllowances();
    if (allowedByRole.length === 0 && (departments.length === 0 || !this.who.practitioner)) return unlabelled;
    let everyAllowed: string;
    if (departments.length === 0 || !this.who.practitioner) {
      everyAllowed = `not (${a}.labels && ${this.bind(all.filter((d) => !allowedByRole.includes(d)))}::text[])`;
    } else {
      everyAllowed = `not exists (select 1 from unnest(${a}.labels) l
        where l = any(${this.bind(all)}::text[]) and not (l = any(${this.bind(allowedByRole)}::text[]))
          and not exists (select 1 from unnest(${this.bind(departments.map((d) => d.group))}::text[], ${this.bind(departments.map((d) => d.digest))}::text[]) as da(grp, dg)
            join access_membership m on m.group_ref = da.grp
            where da.dg = l and m.member = ${this.practitioner} and m.kind = 'department' and ${membershipInForceSql('m')}))`;
    }
    return `(${unlabelled} or (${everyAllowed} and ${directCondition}))`;
  }

  /**
   * The rules of `scope` (rules.ts) as SQL over the row: the interpreter of the rules for searches
   * across patients, as `routes` (waysIn.ts) is over one patient's context. The way in is its
   * conditions on the patient (care relationship, patient row, assigned order) first, then the
   * consent purposes, then the label rule; or a grant.
   */
  scopePredicate(scope: Scope, type: string, roles: Role[], withGrants: boolean): string {
    const rule = this.policy.scopeRules[scope];
    const hasPractitioner = this.who.practitioner !== undefined;
    if (rule.needsPractitioner && !hasPractitioner) return 'false';
    const allowed = this.policy.allowedSensitive(roles);
    const parts: string[] = [];
    if ('conditions' in rule.way) {
      const way = this.way(rule.way, type, allowed);
      if (way !== 'false') parts.push(way);
    }
    const g = rule.grant;
    if (g && withGrants && grantApplies(this.policy, g, roles, this.mode)) {
      const granted = `${this.alias}.patient_id in (select ag.patient_id from access_grant ag where ag.account_id = ${this.account}
            and ag.kind = ${grantKindSql(g.kind)} and ${inForceSql('ag', GRANT_WINDOW)})`;
      parts.push(grantRevealsSensitive(this.policy, g) ? granted : `(${granted} and ${this.labels(allowed, 'true')})`);
    }
    if (parts.length === 0) return 'false';
    return parts.length === 1 ? parts[0] : `(${parts.join(' or ')})`;
  }

  /** A way in as SQL; 'false' when one of its conditions can never hold for this caller. */
  private way(way: Way, type: string, allowed: string[]): string {
    const reach: string[] = [];
    const consents: string[] = [];
    // One probe of the patient's row for all its facts (the row is unique per patient), where the first asks.
    const patientFacts = way.conditions.flatMap((c) => (c.holds === 'patient' ? c.facts : []));
    let patientProbed = false;
    for (const c of way.conditions) {
      switch (c.holds) {
        case 'care-relationship':
          if (this.who.practitioner === undefined) return 'false';
          reach.push(this.related(false));
          break;
        case 'patient':
          if (!patientProbed) reach.push(this.patientRow(patientFacts));
          patientProbed = true;
          break;
        case 'assigned-order':
          if (this.who.practitioner === undefined) return 'false';
          reach.push(this.assignedOrderCovers(type));
          break;
        case 'consent-permits':
          consents.push(`not ${this.consentBlocks(c.purpose)}`);
          break;
        default:
          return unknownFact(c);
      }
    }
    const direct = way.sensitive.needs === 'direct-relationship' ? this.related(true) : 'true';
    return `(${[...reach, ...consents, this.labels(allowed, direct)].join('\n            and ')})`;
  }

  /** The patient's row says all of `facts`: one probe of access_patient (a patient not on file has no row). */
  private patientRow(facts: readonly PatientFact[]): string {
    const where = [`ap.patient_id = ${this.alias}.patient_id`];
    let onFile = false;
    let notRestricted = false;
    for (const fact of new Set(facts)) {
      switch (fact) {
        case 'on-file':
          onFile = true;
          break;
        case 'has-encounter':
          onFile = true;
          where.push('ap.has_encounter');
          break;
        case 'not-restricted':
          notRestricted = true;
          where.push('not ap.restricted');
          break;
        default:
          return unknownFact(fact);
      }
    }
    // Without a fact that needs the row, 'not-restricted' holds for a patient not on file too.
    if (!onFile)
      return notRestricted ? `not exists (select 1 from access_patient ap where ap.patient_id = ${this.alias}.patient_id and ap.restricted)` : 'true';
    return `exists (select 1 from access_patient ap where ${where.join(' and ')})`;
  }

  /** An order assigned to the caller covers the row (rules.ts orderReach). */
  private assignedOrderCovers(type: string): string {
    const a = this.alias;
    switch (orderReach(type)) {
      case 'patient':
        return `${a}.patient_id in (select g.patient_id from access_relationship g join ${this.principals()} pr on pr.principal = g.principal
            where g.source_type = 'ServiceRequest' and g.kind = 'service-request' and ${this.relationshipInForce('g', 'lab')})`;
      case 'order':
        return `${a}.id in (${this.assignedOrders()})`;
      case 'result':
        if (this.mode === 'new') return `${a}.based_on && array(${this.assignedOrders()})`;
        return `exists (select 1 from access_result_link l where l.resource_type = ${a}.resource_type and l.id = ${a}.id
            and l.order_id in (${this.assignedOrders()}))`;
    }
  }

  /** The decision context of each row of \`alias\` as one JSON column \`ctx\` (see contextFunction.ts). */
  contextCall(lab: boolean): string {
    const a = this.alias;
    const st = this.policy.settings;
    const basedOn = this.mode === 'new' ? `${a}.based_on` : `'{}'::text[]`;
    return `access_context(${this.practitioner}, ${this.account}, ${a}.patient_id, ${a}.resource_type, ${a}.id, ${basedOn},
      ${this.isNurse}, ${lab}, ${this.mode === 'new'}, ${seconds(st.appointmentHoursBefore * 3600)}, ${seconds(st.encounterFollowUpDays * 86400)},
      ${seconds(st.appointmentHoursAfter * 3600)}) as ctx`;
  }
}

/**
 * Whether membership row `m` holds now: within its period, and not made by its own member (an
 * administrator who is also a clinician cannot place themselves in a ward or department). With
 * `trusted` false, memberships the member made themselves count too: for a Consent's deny, which
 * only ever narrows access, belonging is enough.
 */
export function membershipInForceSql(m: string, trusted = true): string {
  const window = inForceSql(m, MEMBERSHIP_WINDOW);
  return trusted ? `${window} and coalesce(${m}.made_by <> ${m}.member, true)` : window;
}

/**
 * Relationship row `g` was not made by the caller for themselves: a relationship a user records
 * without already being in the patient's care (as a receptionist, an administrator, under an
 * emergency grant) carries their practitioner in `made_by` and gives them nothing (docs/access.md).
 */
export function relationshipNotSelfMadeSql(g: string, practitioner: string, reach: 'clinical' | 'lab' = 'clinical'): string {
  const mine = `coalesce(${g}.made_by <> ${practitioner}, true)`;
  // A lab updating an order assigned to it keeps the order: what it made as the lab counts for the lab.
  return reach === 'lab' ? `(${mine} or ${g}.made_as = 'lab')` : mine;
}

/**
 * Whether consent rule `c` names the caller: their Practitioner, one of their PractitionerRoles, or
 * a group those belong to (department, ward, care team). Each actor the rule names is probed on the
 * membership index (member, group): a physician is on a care team per patient, and listing all the
 * caller's groups for every consent cost tens of milliseconds. `trusted` as in membershipInForceSql.
 */
function namesCallerSql(c: string, practitioner: string, trusted: boolean): string {
  return `exists (select 1 from unnest(${c}.actors) a(ref) where a.ref = ${practitioner} or exists (
    select 1 from access_membership m where m.group_ref = a.ref and ${membershipInForceSql('m', trusted)}
      and m.member in (select ${practitioner} union all select r.group_ref from access_membership r
        where r.member = ${practitioner} and r.kind = 'role' and ${membershipInForceSql('r', trusted)})))`;
}

/** Whether consent rule `c` names the caller, directly or through a group they are in (see membershipInForceSql for `trusted`). */
export function consentNamesCallerSql(c: string, practitioner: string): string {
  return `(case ${c}.effect when 'deny' then ${namesCallerSql(c, practitioner, false)} else ${namesCallerSql(c, practitioner, true)} end)`;
}

/** Whether consent rule `c` keeps the caller out: a deny naming them (or anyone), a permit-only not naming them. */
export function consentBlocksCallerSql(c: string, practitioner: string): string {
  return `(case ${c}.effect when 'deny' then (${c}.actors is null or ${consentNamesCallerSql(c, practitioner)}) else not ${consentNamesCallerSql(c, practitioner)} end)`;
}

/** A condition or fact this interpreter has no SQL for: a type error where it is reached, and never run. */
function unknownFact(x: never): never {
  throw new Error(`access rules: no SQL for ${JSON.stringify(x)}`);
}

/** A grant kind as an SQL literal: a constant of the rules, never input (a literal keeps the statement's plan per kind). */
function grantKindSql(kind: GrantKind): string {
  if (!/^[a-z-]+$/.test(kind)) throw new Error(`access rules: not a grant kind: ${kind}`);
  return `'${kind}'`;
}

function seconds(n: number): string {
  if (!Number.isFinite(n) || n < 0) throw new Error('access settings: time windows must be non-negative numbers');
  return String(Math.round(n));
}
