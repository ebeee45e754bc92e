/**
 * The one enforcement point. Every FHIR interaction and every API call asks `authorize` before any
 * data is touched; the FHIR service, the HTTP routes and the CLI have no other way in.
 *
 * Foundation rule (issue #2): an authenticated, enabled user may do everything that is not
 * administration; administration needs the admin role. The care-relationship rules replace the
 * body of `decide` without changing its callers.
 */

export const ROLES = [
  'physician',
  'nurse',
  'receptionist',
  'billing',
  'lab',
  'biomedical-engineer',
  'privacy-officer',
  'security-admin',
  'admin',
] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** The authenticated caller. */
export interface Who {
  accountId: string;
  username: string;
  roles: Role[];
  /** 'Practitioner/<id>' when the account is linked to one. */
  practitioner?: string;
  /** The system itself (seeding, migrations run by the CLI); never given to an HTTP caller. */
  system?: boolean;
}

export type FhirAction = 'read' | 'vread' | 'history' | 'search' | 'create' | 'update' | 'delete';
export type AdminAction = 'user.create' | 'user.disable' | 'user.list' | 'keys.rotate';
export type Action = FhirAction | AdminAction;

export interface Target {
  resourceType?: string;
  id?: string;
  /** Patient id of the compartment the data belongs to, when known. */
  patientId?: string;
}

export interface Decision {
  allowed: boolean;
  /** Why: handed to the audit log with the access, and to the caller when refused (without patient data). */
  reason: string;
}

export class AccessDeniedError extends Error {
  constructor(readonly decision: Decision) {
    super(decision.reason);
  }
}

export const SYSTEM: Who = { accountId: 'system', username: 'system', roles: ['admin'], system: true };

export function decide(who: Who | undefined, action: Action, target: Target = {}): Decision {
  void target;
  if (!who) return { allowed: false, reason: 'not authenticated' };
  if (who.system) return { allowed: true, reason: 'system process' };
  if (isAdminAction(action)) {
    return who.roles.includes('admin')
      ? { allowed: true, reason: 'admin role' }
      : { allowed: false, reason: 'administration requires the admin role' };
  }
  return { allowed: true, reason: 'authenticated user (foundation rule: all non-administrative access)' };
}

/** Throws AccessDeniedError unless allowed; returns the decision so callers can record its reason. */
export function authorize(who: Who | undefined, action: Action, target: Target = {}): Decision {
  const decision = decide(who, action, target);
  if (!decision.allowed) throw new AccessDeniedError(decision);
  return decision;
}

function isAdminAction(action: Action): action is AdminAction {
  return action.includes('.');
}
