/**
 * The enforcement point for administrative actions (accounts, keys, access reviews): which roles may
 * do each. Patient data is decided by the care-relationship rules in policy.ts, which the FHIR
 * service asks before any record is decrypted or written.
 */

import type { Role, Who } from '../shared/index.js';

/** 'lookup': identifying a patient (name, birth date, record number) for emergency care (identify.ts). */
export type FhirAction = 'read' | 'vread' | 'history' | 'search' | 'create' | 'update' | 'delete' | 'lookup';
export type AdminAction =
  | 'user.create'
  | 'user.disable'
  | 'user.list'
  /** Approve or reject an account's request to act as a practitioner bound before (the second person). */
  | 'user.approve-binding'
  | 'keys.rotate'
  /** Ask whether and why a user can access a patient. */
  | 'access.explain'
  /** The staff by name (who is who), for those who investigate and explain accesses. */
  | 'staff.directory'
  /** Read and review break-the-glass grants, investigations and flagged accesses; read notifications. */
  | 'access.review'
  /** Open an investigation into a patient's chart. */
  | 'access.investigate'
  /** Read the audit log: checkpoints, records, proofs. */
  | 'audit.read'
  /** Search the audit records as AuditEvents, and produce a patient's access report. */
  | 'audit.events'
  /** Approve or reject someone else's bulk export (the second person a mass export needs). */
  | 'export.approve'
  /** See the ransomware guard's state and alarms (counts, never file names). */
  | 'guard.read'
  | 'backup.read'
  /** Give a share its write bits back after an alarm's clean-up, and start watching afresh. */
  | 'guard.release';
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

/** Who may do each administrative action. */
export const ADMIN_ACTION_ROLES: Record<AdminAction, readonly Role[]> = {
  'user.create': ['admin'],
  'user.disable': ['admin'],
  'user.list': ['admin'],
  'user.approve-binding': ['admin', 'privacy-officer'],
  'keys.rotate': ['admin'],
  'access.explain': ['admin', 'privacy-officer'],
  'staff.directory': ['admin', 'privacy-officer', 'security-admin'],
  'access.review': ['privacy-officer'],
  'access.investigate': ['privacy-officer'],
  'audit.read': ['privacy-officer', 'security-admin'],
  'audit.events': ['privacy-officer'],
  'export.approve': ['privacy-officer', 'security-admin'],
  'guard.read': ['security-admin', 'privacy-officer', 'admin'],
  'backup.read': ['admin', 'security-admin'],
  'guard.release': ['security-admin', 'admin'],
};

export function decide(who: Who | undefined, action: Action, target: Target = {}): Decision {
  void target;
  if (!who) return { allowed: false, reason: 'not authenticated' };
  if (who.system) return { allowed: true, reason: 'system process' };
  if (isAdminAction(action)) {
    const roles = ADMIN_ACTION_ROLES[action];
    const role = who.roles.find((r) => roles.includes(r));
    return role ? { allowed: true, reason: `${role} role` } : { allowed: false, reason: `${action} requires the role ${roles.join(' or ')}` };
  }
  // Patient data is never decided here: the FHIR service asks the care-relationship policy.
  return { allowed: false, reason: 'patient data is decided by the access policy' };
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
