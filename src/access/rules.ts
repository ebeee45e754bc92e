/**
 * The access rules, written once: for each scope of patients a role reaches (roles.ts), which facts
 * about the patient and the row let the caller in, which consent purpose can keep them out, what a
 * sensitive label then needs, which grant opens the chart otherwise, and the words of each refusal.
 *
 * Two interpreters read this table: `routes` (waysIn.ts) over one patient's decision context, for
 * reads, writes and searches confined to a few patients; `Builder.scopePredicate` (predicateSql.ts)
 * as one SQL predicate, for searches across patients. Changing a rule is an edit here; a fact the
 * table names that an interpreter cannot evaluate is a type error there (their switches are
 * exhaustive). test/access-rules.test.ts holds the two to each other for every scope, also with
 * the table changed; test/access-matrix.test.ts over HTTP.
 */
import type { Role } from '../shared/index.js';
import type { Mode, RuleInputs } from './decision.js';
import type { GrantKind } from './grants.js';
import type { Scope } from './roles.js';

/** What access_patient says about the row's patient. A patient not on file has no row: only 'not-restricted' holds for them. */
export type PatientFact = 'on-file' | 'not-restricted' | 'has-encounter';

/** HL7 PurposeOfUse a Consent provision can be limited to. */
export type ConsentPurpose = 'TREAT' | 'HOPERAT' | 'HPAYMT';

/** One condition of a way in, with the refusal the caller is given when it fails. */
export type Condition =
  /**
   * The caller's care relationships reach the patient (in person, through a ward or department, a
   * care team, a role; none the caller made for themselves). A restricted patient only through a
   * direct one.
   */
  | { holds: 'care-relationship'; refusal: { restricted: string; unrelated: string } }
  /** The patient's row says all of `facts`. */
  | { holds: 'patient'; facts: readonly PatientFact[]; refusal: string }
  /** An order assigned to the caller covers the row (see orderReach: the patient has one, the row is one, the row answers one). */
  | { holds: 'assigned-order'; refusal: string }
  /** No consent rule of the patient's keeps the caller out for this purpose of use. */
  | { holds: 'consent-permits'; purpose: ConsentPurpose; refusal: string };

/** A way into the patient's records without a grant. */
export interface Way {
  /** Checked in this order: the first that fails words the refusal. */
  conditions: readonly Condition[];
  /**
   * A row with sensitive labels passes when each category is allowed to the caller's roles or
   * departments and, for 'direct-relationship', the caller's relationship is direct (not through a
   * ward or department). `refusal`: the words when a label keeps the caller out.
   */
  sensitive: { needs: 'direct-relationship' | 'role-alone'; refusal: string };
  /** The grounds recorded: the caller's care of the patient, or their role's reach across the clinic. */
  basis: 'relationship' | 'role';
}

/** A grant (grants.ts) that opens the chart to this scope's roles without a way in. */
export interface GrantRule {
  kind: GrantKind;
  /** The setting listing which of the scope's roles may use it; absent: all of them. */
  rolesSetting?: 'breakGlassRoles';
  /** 'read': for looking only (an investigation never writes). */
  modes: 'any' | 'read';
  /** Rows with sensitive labels: all shown, or as the setting says (else only the roles' categories). */
  revealsSensitive: true | 'breakGlassRevealsSensitive';
}

export interface ScopeRule {
  /** Without a practitioner the scope is no way in at all, not even a refused one (a lab's orders are assigned to its practitioner or department). */
  needsPractitioner: boolean;
  /** Registering a new patient (nothing stored yet to protect) is open to the scope's roles that may create a Patient (roles.ts). */
  registersPatients: boolean;
  /** The way in without a grant, or only a grant opens the chart: `refusal` without one. */
  way: Way | { refusal: string };
  grant?: GrantRule;
}

/** Every scope described: a scope added to roles.ts without rules here does not compile. */
export type ScopeRules = Readonly<Record<Scope, ScopeRule>>;

const RESTRICTED = 'restricted patient: only a direct care relationship gives access';
const CONSENT = "the patient's consent does not permit this access";
const BILLING = 'billing sees patients with encounters, except restricted ones';
const LAB = 'the lab sees the orders assigned to it and their results';

export const SCOPE_RULES: ScopeRules = {
  clinical: {
    needsPractitioner: false,
    registersPatients: true,
    way: {
      conditions: [
        { holds: 'care-relationship', refusal: { restricted: RESTRICTED, unrelated: 'no active care relationship or grant gives access to this patient' } },
        { holds: 'consent-permits', purpose: 'TREAT', refusal: CONSENT },
      ],
      sensitive: { needs: 'direct-relationship', refusal: "the record carries a sensitive-category label the caller's role and relationship do not allow" },
      basis: 'relationship',
    },
    grant: { kind: 'break-glass', rolesSetting: 'breakGlassRoles', modes: 'any', revealsSensitive: 'breakGlassRevealsSensitive' },
  },
  investigation: {
    needsPractitioner: false,
    registersPatients: false,
    way: { refusal: 'chart content only within an open investigation' },
    grant: { kind: 'investigation', modes: 'read', revealsSensitive: true },
  },
  'front-desk': {
    needsPractitioner: false,
    registersPatients: true,
    way: {
      // A patient not on file is refused like a hidden one (403), never told apart (404).
      conditions: [
        { holds: 'patient', facts: ['not-restricted'], refusal: RESTRICTED },
        { holds: 'patient', facts: ['on-file'], refusal: 'no such patient' },
        { holds: 'consent-permits', purpose: 'HOPERAT', refusal: CONSENT },
      ],
      sensitive: { needs: 'role-alone', refusal: 'sensitive record' },
      basis: 'role',
    },
  },
  billing: {
    needsPractitioner: false,
    registersPatients: true,
    way: {
      conditions: [
        { holds: 'consent-permits', purpose: 'HPAYMT', refusal: CONSENT },
        { holds: 'patient', facts: ['has-encounter', 'not-restricted'], refusal: BILLING },
      ],
      sensitive: { needs: 'role-alone', refusal: BILLING },
      basis: 'role',
    },
  },
  lab: {
    needsPractitioner: true,
    registersPatients: true,
    way: {
      conditions: [
        { holds: 'assigned-order', refusal: LAB },
        { holds: 'consent-permits', purpose: 'TREAT', refusal: LAB },
      ],
      sensitive: { needs: 'role-alone', refusal: LAB },
      basis: 'relationship',
    },
  },
};

/** How an order assigned to the caller covers a row of this type: its patient has one, it is one, or it answers one (a result). */
export function orderReach(type: string): 'patient' | 'order' | 'result' {
  return type === 'Patient' ? 'patient' : type === 'ServiceRequest' ? 'order' : 'result';
}

/** Whether the scope's way in asks about the row itself (its order), not only about its patient. */
export function ruleAsksAboutTheRow(rule: ScopeRule): boolean {
  return 'conditions' in rule.way && rule.way.conditions.some((c) => c.holds === 'assigned-order');
}

/** Whether a grant of the scope's kind would open the chart to these roles of the scope in this mode. */
export function grantApplies(rules: RuleInputs, g: GrantRule, rolesOfScope: readonly Role[], mode: Mode): boolean {
  if (g.modes === 'read' && mode !== 'read') return false;
  if (g.rolesSetting === undefined) return true;
  const listed = rules.settings[g.rolesSetting];
  return rolesOfScope.some((r) => listed.includes(r));
}

/** Whether the grant shows rows of every sensitive category (else only the roles' own). */
export function grantRevealsSensitive(rules: RuleInputs, g: GrantRule): boolean {
  return g.revealsSensitive === true || rules.settings[g.revealsSensitive];
}
