/**
 * The shapes every posture check shares: the facts they read, what they find, and the helpers for
 * ages and thresholds. Kept apart from the checks themselves (checksIdentity.ts, checksRecovery.ts,
 * checksOperations.ts) so that each group reads on its own and none imports another.
 */
import type { ItemStatus } from './types.js';

export interface AccountFact {
  username: string;
  roles: string[];
  totpRequired: boolean;
  disabled: boolean;
  lastLoginAt?: string;
  validUntil?: string;
  createdAt: string;
  /** false when the account's practitioner is no longer active (staff who left); undefined when unknown. */
  practitionerActive?: boolean;
  /** Whether the account is bound to a practitioner (a person in the directory). */
  boundToPerson?: boolean;
  /** Its sign-ins over the last 30 days: how many came from outside the clinic's networks, and the most addresses it was signed in from at once. */
  signIns?: { remote: number; mostAddressesAtOnce: number };
}

export interface PostureFacts {
  now: Date;
  /** The clinic's own targets (carewall.json `posture`). */
  targets: { recoveryHours: number; keyRotationDays: number };
  accounts: AccountFact[];
  backups: {
    setUp: boolean;
    everyHours: number;
    lastSuccess?: string;
    lastRestoreTest?: { at: string; ok: boolean; seconds?: number };
  };
  guard: { enabled: boolean; watching: boolean; shares: number; configuredShares: number; decoys: boolean };
  awareness: { lastCampaign?: { name: string; sentFrom: string; delivered: number; phishProne: number; reportRate: number; trainedShare: number } };
  /** Break-the-glass grants: how many in the last 90 days, how many still unreviewed after a week. */
  breakGlass: { last90Days: number; unreviewedOverWeek: number };
  /** Chart openings (read, version read, history; refused attempts too) in the last 30 days, and how many of them were made under an emergency grant. */
  chartAccess: { reads30Days: number; emergencyReads30Days: number };
  /** Insider-monitor cases: open ones and the age in days of the oldest. */
  insiderCases: { open: number; oldestOpenDays: number };
  /** The audit log: outside witnesses configured, how often checkpoints are signed (0: only on demand), the last full verification. */
  audit: { witnesses: number; checkpointSeconds: number; lastVerification?: { at: string; ok: boolean } };
  /** Encryption at rest: where the master key lives, whether its file is private, since when the current one is in use. */
  keys: { source: 'file' | 'env'; keyFilePrivate: boolean; currentKeySince: string };
  /** Equipment: devices, those with open advisories (life-critical among them), those that never reported. */
  equipment: { devices: number; withOpenAdvisories: number; lifeCriticalWithOpenAdvisories: number; neverReported: number };
  /** Carewall's own version against the clinic's release feed (none configured: not measured). */
  software: { version: string; feed: 'none' | 'read' | 'unreachable'; latest?: string };
}

export interface CheckResult {
  id: string;
  title: string;
  status: ItemStatus;
  /** The finding in words, with its figures. */
  text: string;
  figures: Record<string, number | string>;
  /** What the check shows, and what it cannot (said with every finding). */
  proves: string;
  cannot: string;
  /** The next step, when not compliant: what to do and where. */
  next?: string;
}

/** What a check found (the service adds its id, title and what it proves and cannot). */
export type Finding = Omit<CheckResult, 'id' | 'title' | 'proves' | 'cannot'>;

export interface Check {
  id: string;
  title: string;
  proves: string;
  cannot: string;
  run(f: PostureFacts): Finding;
}

export const DAY = 86_400_000;

/** Whole days from an instant to now; Infinity when there is none. */
export const days = (from: string | undefined, now: Date) => (from ? Math.floor((now.getTime() - Date.parse(from)) / DAY) : Infinity);
/** An account that can sign in today. */
export const active = (a: AccountFact, now: Date) => !a.disabled && !(a.validUntil && Date.parse(a.validUntil) <= now.getTime());
