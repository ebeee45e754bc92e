/**
 * The vocabulary of access decisions: what a decision is about, which state of it, what it says
 * and on what grounds, and the event every decision becomes for the audit log. Also what the rules
 * read besides a patient's context (settings, sensitive-category digests), so that the rules over
 * one context (waysIn.ts) and their SQL form (predicateSql.ts) are given the same inputs.
 */
import type { AccessSettings } from '../config.js';
import type { Queryable } from '../db/index.js';
import type { Decision, FhirAction } from './authorize.js';
import type { Role, Who } from '../shared/index.js';
import type { Interaction } from './roles.js';
import type { ScopeRules } from './rules.js';

export type Bind = (value: unknown) => string;

/** What a decision is about. For writes, `basedOn` lists the orders a new result answers. */
export interface AccessTarget {
  resourceType: string;
  id?: string;
  patientId?: string | null;
  /** Label digests of the stored version (reads, and the version a write replaces). */
  labels?: string[];
  basedOn?: string[];
  /** The version read, or written (for the audit record). */
  version?: number;
}

/**
 * Which state a decision is about: a stored version being read, the stored version a write
 * replaces or deletes, or the new state a create or update would store (its labels do not restrict
 * who may write it: a nurse may file a note a colleague labels sensitive).
 */
export type Mode = 'read' | 'replace' | 'delete' | 'new';

export interface Grounds {
  /** 'relationship', 'role', 'break-glass', 'investigation', 'registration', 'directory', 'identify', 'system', 'client-scope'. */
  basis: string;
  /** For a system client: the scope that allowed it. */
  scope?: string;
  /** For a person: which reach of their roles let them in ('clinical', 'front-desk', 'lab', ...; 'registration'). */
  roleScope?: string;
  purposeOfUse?: string;
  relationships?: Array<{ kind: string; source: string; principal: string; direct: boolean }>;
  grantId?: string;
  /** The patient is very restricted or a staff member: the access is queued for review. */
  flagged?: boolean;
}

export interface AccessDecision extends Decision {
  grounds?: Grounds;
}

export interface AccessEvent {
  who: Who;
  action: FhirAction;
  resourceType: string;
  id?: string;
  patientId?: string | null;
  version?: number;
  decision: AccessDecision;
  /**
   * The write transaction the decision belongs to, when it was taken inside one: its record joins
   * that transaction (committed or rolled back with the write).
   */
  tx?: Queryable;
}

/** Where a decision goes once taken: the audit log, the review queue. Awaited in the caller's transaction when it has one. */
export type AccessSink = (e: AccessEvent) => Promise<void>;

/** What the rules read besides a patient's context; AccessPolicy provides it (digests cached per process). */
export interface RuleInputs {
  readonly settings: AccessSettings;
  /** The rules of each scope (rules.ts), read by both interpreters. */
  readonly scopeRules: ScopeRules;
  /** Digests of every sensitive category. */
  readonly sensitiveDigests: string[];
  /** Sensitive-category digests the given roles may see over a direct relationship. */
  allowedSensitive(roles: readonly Role[]): string[];
  /** (department, category digest) pairs from settings.sensitiveByDepartment. */
  departmentAllowances(): Array<{ group: string; digest: string }>;
}

export function interactionOf(mode: Mode, action: FhirAction): Interaction {
  if (mode === 'read') return 'read';
  if (mode === 'delete') return 'delete';
  return action === 'create' ? 'create' : 'update';
}
