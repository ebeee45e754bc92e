/**
 * The shapes the identity capability takes and gives: what an administrator asks for when making an
 * account, what a sign-in sends and gets back, and what the audit log is told.
 */
import type { RequestDetails, Role, Who } from '../shared/index.js';
import type { Queryable } from '../db/index.js';

export interface CreateAccountInput {
  username: string;
  password: string;
  roles: readonly (Role | string)[];
  /** 'Practitioner/<id>' */
  practitioner?: string | null;
  /** End of the account (e.g. a locum's last day); Date or ISO 8601 string. */
  validUntil?: Date | string | null;
  /** Ask for a second factor even when no role requires one. */
  requireTotp?: boolean;
}

export interface CreatedAccount {
  id: string;
  username: string;
  roles: Role[];
  practitioner?: string;
  /** The practitioner asked for, when it was bound before: waiting for a second person (binding.ts). */
  pendingPractitioner?: string;
  validUntil?: string;
  totpRequired: boolean;
  /** Present when a second factor is required: the otpauth:// URI to enrol an authenticator. Shown once. */
  totpUri?: string;
}

export interface LoginInput {
  username: unknown;
  password: unknown;
  otp?: unknown;
}

export interface Session {
  token: string;
  expiresAt: Date;
}

/**
 * What the audit log is told: sign-ins (and refused ones), sign-outs, accounts made or disabled and
 * second factors (re)enrolled. Never a password, code or token; a refused sign-in names the account
 * only when one exists (a mistyped user name is often a password).
 */
export interface IdentityEvent {
  action:
    | 'login'
    | 'logout'
    | 'user.create'
    | 'user.disable'
    | 'user.enable'
    | 'user.second-factor'
    | 'user.password'
    | 'user.practitioner-request'
    | 'user.practitioner-approve'
    | 'user.practitioner-reject';
  outcome: 'success' | 'denied';
  /** Who acted: the administrator, or the account itself for sign-in and sign-out. */
  actor?: Who;
  /** The account acted on. */
  account?: { id: string; username: string; roles?: string[]; practitioner?: string };
  reason?: string;
  /** The HTTP request it came through, when the actor does not carry it (a sign-in has no caller yet). */
  request?: RequestDetails;
  /** The transaction that made the change: the record joins it. */
  tx?: Queryable;
}

/** Who asks. In-process callers (CLI, seeding, tests) that pass nobody act as the system. */
export interface Acting {
  who?: Who;
}
