/**
 * What kind of data each role may touch ("roles decide what kind of data, relationships decide
 * whose"). Whose data is decided by the scope's predicate in policy.ts.
 */
import { ADMINISTRATIVE_TYPES, EQUIPMENT_TYPES, GROUP_TYPES, PATIENT_REFERENCE_PATHS } from '../shared/index.js';
import type { Role } from '../shared/index.js';

/** How a role reaches patients. */
export type Scope =
  /** Physician, nurse: related patients' whole chart (and break-the-glass). */
  | 'clinical'
  /** Receptionist: demographics and appointments across the clinic, except restricted patients. */
  | 'front-desk'
  /** Billing: encounters and diagnoses of patients who had an encounter. */
  | 'billing'
  /** Lab: orders assigned to the lab, their results, and the patient's demographics to label specimens. */
  | 'lab'
  /** Privacy officer: read-only, only within an investigation opened with a reason. */
  | 'investigation';

export interface RoleRights {
  scope?: Scope;
  /** HL7 PurposeOfUse of an access under this role. */
  purpose: string;
  read: readonly string[];
  create: readonly string[];
  update: readonly string[];
  delete: readonly string[];
}

export const CLINICAL_TYPES: readonly string[] = Object.keys(PATIENT_REFERENCE_PATHS);
export const DIRECTORY_TYPES: readonly string[] = ADMINISTRATIVE_TYPES;

/**
 * Types reached by role alone, whoever the patient (they belong to none): the clinic's directory
 * (every role reads it, admins change it) and its equipment inventory (biomedical engineers read
 * and keep it, security admins read it; nobody deletes a device: it is retired, kept). Undefined
 * for a patient's data, which care relationships decide.
 */
export function byRoleAlone(type: string, roles: readonly Role[], interaction: Interaction): { allowed: boolean; reason: string; basis: string } | undefined {
  if (DIRECTORY_TYPES.includes(type)) {
    const allowed = interaction === 'read' ? roles.length > 0 : roles.includes('admin');
    return {
      allowed,
      basis: 'directory',
      reason: allowed ? 'clinic directory' : interaction === 'read' ? 'no role' : 'changing the clinic directory requires the admin role',
    };
  }
  if ((EQUIPMENT_TYPES as readonly string[]).includes(type)) {
    const allowed = roles.includes('biomedical-engineer') ? interaction !== 'delete' : roles.includes('security-admin') && interaction === 'read';
    return {
      allowed,
      basis: 'equipment',
      reason: allowed ? 'equipment inventory' : 'the equipment inventory is kept by biomedical engineers; devices are retired, not deleted',
    };
  }
  if ((GROUP_TYPES as readonly string[]).includes(type)) {
    // Lists of patients (cohorts, panels, the patients of a Group-level export) are clinical work:
    // physicians and nurses keep them. The role reaches the list; each member in it is shown only to
    // those whose care reaches that patient (records/groupMembers.ts), so the role alone tells no one
    // who is in a group. Nobody else, not even a privacy officer: deny unless a rule allows.
    const allowed = roles.includes('physician') || roles.includes('nurse');
    return {
      allowed,
      basis: 'patient-list',
      reason: allowed ? 'list of patients (each member shown as its patient allows)' : 'lists of patients are kept by physicians and nurses',
    };
  }
  return undefined;
}

const NONE: RoleRights = { purpose: 'HOPERAT', read: [], create: [], update: [], delete: [] };

export const ROLE_RIGHTS: Record<Role, RoleRights> = {
  physician: { scope: 'clinical', purpose: 'TREAT', read: CLINICAL_TYPES, create: CLINICAL_TYPES, update: CLINICAL_TYPES, delete: CLINICAL_TYPES },
  nurse: { scope: 'clinical', purpose: 'TREAT', read: CLINICAL_TYPES, create: CLINICAL_TYPES, update: CLINICAL_TYPES, delete: CLINICAL_TYPES },
  receptionist: {
    scope: 'front-desk',
    purpose: 'HOPERAT',
    read: ['Patient', 'Appointment'],
    create: ['Patient', 'Appointment'],
    update: ['Patient', 'Appointment'],
    delete: ['Appointment'],
  },
  billing: { scope: 'billing', purpose: 'HPAYMT', read: ['Patient', 'Encounter', 'Condition'], create: [], update: [], delete: [] },
  lab: {
    scope: 'lab',
    purpose: 'TREAT',
    read: ['Patient', 'ServiceRequest', 'Observation', 'DiagnosticReport'],
    create: ['Observation', 'DiagnosticReport'],
    update: ['ServiceRequest', 'Observation', 'DiagnosticReport'],
    delete: [],
  },
  'privacy-officer': { scope: 'investigation', purpose: 'HCOMPL', read: CLINICAL_TYPES, create: [], update: [], delete: [] },
  'biomedical-engineer': NONE,
  'security-admin': NONE,
  'awareness-officer': NONE,
  admin: NONE,
};

export type Interaction = 'read' | 'create' | 'update' | 'delete';

export function rolesAllowing(roles: readonly Role[], interaction: Interaction, type: string): Role[] {
  return roles.filter((r) => ROLE_RIGHTS[r][interaction].includes(type));
}

/** The roles grouped by the scope of patients they reach, scopes in the order their first role comes. */
export function rolesByScope(roles: readonly Role[]): Map<Scope, Role[]> {
  const byScope = new Map<Scope, Role[]>();
  for (const r of roles) {
    const scope = ROLE_RIGHTS[r].scope;
    if (scope === undefined) continue;
    const list = byScope.get(scope) ?? [];
    list.push(r);
    byScope.set(scope, list);
  }
  return byScope;
}
