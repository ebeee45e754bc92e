/**
 * The SQL of the access rules: one predicate builder serves both the single decision and the
 * search filter (policy.ts), so a search can never show what a read would refuse. Also the SQL of
 * the facts the context function shares (contextFunction.ts); time windows are windowSql.ts's.
 */
import type { Role, Who } from '../shared/index.js';
import type { Bind, Mode, RuleInputs } from './decision.js';
import type { Scope } from './roles.js';
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

  private notRestricted(): string {
    // A patient on file and not restricted (an unknown patient is refused like a hidden one).
    return `exists (select 1 from access_patient ap where ap.patient_id = ${this.alias}.patient_id and not ap.restricted)`;
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

  scopePredicate(scope: Scope, type: string, roles: Role[], withGrants: boolean): string {
    const a = this.alias;
    const s = this.policy.settings;
    const allowed = this.policy.allowedSensitive(roles);
    const hasPractitioner = this.who.practitioner !== undefined;
    switch (scope) {
      case 'clinical': {
        const parts: string[] = [];
        if (hasPractitioner) {
          parts.push(`(${this.related(false)}
            and not ${this.consentBlocks('TREAT')}
            and ${this.labels(allowed, this.related(true))})`);
        }
        if (withGrants && roles.some((r) => s.breakGlassRoles.includes(r))) {
          const emergency = `${a}.patient_id in (select ag.patient_id from access_grant ag where ag.account_id = ${this.account}
            and ag.kind = 'break-glass' and ${inForceSql('ag', GRANT_WINDOW)})`;
          parts.push(s.breakGlassRevealsSensitive ? emergency : `(${emergency} and ${this.labels(allowed, 'true')})`);
        }
        return parts.length === 0 ? 'false' : `(${parts.join(' or ')})`;
      }
      case 'investigation':
        if (!withGrants || this.mode !== 'read') return 'false';
        return `${a}.patient_id in (select ag.patient_id from access_grant ag where ag.account_id = ${this.account}
          and ag.kind = 'investigation' and ${inForceSql('ag', GRANT_WINDOW)})`;
      case 'front-desk':
        return `(${this.notRestricted()} and not ${this.consentBlocks('HOPERAT')} and ${this.labels(allowed, 'true')})`;
      case 'billing':
        return `(exists (select 1 from access_patient ap where ap.patient_id = ${a}.patient_id and ap.has_encounter and not ap.restricted)
          and not ${this.consentBlocks('HPAYMT')} and ${this.labels(allowed, 'true')})`;
      case 'lab': {
        if (!hasPractitioner) return 'false';
        let scoped: string;
        if (type === 'Patient') {
          scoped = `${a}.patient_id in (select g.patient_id from access_relationship g join ${this.principals()} pr on pr.principal = g.principal
            where g.source_type = 'ServiceRequest' and g.kind = 'service-request' and ${this.relationshipInForce('g', 'lab')})`;
        } else if (type === 'ServiceRequest') {
          scoped = `${a}.id in (${this.assignedOrders()})`;
        } else if (this.mode === 'new') {
          scoped = `${a}.based_on && array(${this.assignedOrders()})`;
        } else {
          scoped = `exists (select 1 from access_result_link l where l.resource_type = ${a}.resource_type and l.id = ${a}.id
            and l.order_id in (${this.assignedOrders()}))`;
        }
        return `(${scoped} and not ${this.consentBlocks('TREAT')} and ${this.labels(allowed, 'true')})`;
      }
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

function seconds(n: number): string {
  if (!Number.isFinite(n) || n < 0) throw new Error('access settings: time windows must be non-negative numbers');
  return String(Math.round(n));
}
