/** Rows of identity_account: the statements, and the shapes the rest of the module sees. */
import type { Queryable } from '../db/index.js';
import { toBuffer } from '../db/index.js';
import { isRole, type Role } from '../shared/index.js';

/** What an administrator may see about an account: no hash, no secret. */
export interface AccountSummary {
  id: string;
  username: string;
  roles: Role[];
  practitioner?: string;
  /** A binding to this practitioner waiting for a second person's approval (binding.ts). */
  pendingPractitioner?: string;
  totpRequired: boolean;
  disabled: boolean;
  validUntil?: string;
  /** Set while the account is locked after failed logins. */
  lockedUntil?: string;
  failedCount: number;
  lastLoginAt?: string;
  createdAt: string;
}

export interface NewAccountRow {
  id: string;
  username: string;
  passwordHash: string;
  roles: Role[];
  practitioner?: string;
  /** Requested instead of bound, and by whom (an account id, or 'system' for the command line). */
  pendingPractitioner?: { practitioner: string; requestedBy: string };
  totpSecretSealed?: Buffer;
  totpRequired: boolean;
  validUntil?: Date;
}

/** What login needs, with every time comparison already made by the database clock. */
export interface LoginRow {
  id: string;
  username: string;
  passwordHash: string;
  roles: Role[];
  totpRequired: boolean;
  totpSecretSealed?: Buffer;
  /** Disabled, or past its end date. */
  inactive: boolean;
  lockedForSeconds: number;
}

export const asRoles = (value: unknown): Role[] => (Array.isArray(value) ? value.filter(isRole) : []);
const iso = (value: unknown): string | undefined => (value instanceof Date ? value.toISOString() : undefined);

/** Inserts the account; false when the username is taken (by any process, at any moment). */
export async function insertAccount(q: Queryable, a: NewAccountRow): Promise<boolean> {
  const r = await q.query(
    `insert into identity_account
       (id, username, password_hash, roles, practitioner, totp_secret, totp_required, valid_until, practitioner_pending, practitioner_requested_by)
     values ($1, $2, $3, $4::text[], $5, $6, $7, $8, $9, $10)
     on conflict (username) do nothing
     returning id`,
    [
      a.id,
      a.username,
      a.passwordHash,
      a.roles,
      a.practitioner ?? null,
      a.totpSecretSealed ?? null,
      a.totpRequired,
      a.validUntil ?? null,
      a.pendingPractitioner?.practitioner ?? null,
      a.pendingPractitioner?.requestedBy ?? null,
    ],
  );
  return r.rows.length === 1;
}

export async function findForLogin(q: Queryable, username: string): Promise<LoginRow | undefined> {
  const r = await q.query<{
    id: string;
    username: string;
    password_hash: string;
    roles: unknown;
    totp_required: boolean;
    totp_secret: unknown;
    inactive: boolean;
    locked_for: number | null;
  }>(
    `select id, username, password_hash, roles, totp_required, totp_secret,
       (disabled or coalesce(valid_until <= now(), false)) as inactive,
       case when locked_until > now() then ceil(extract(epoch from (locked_until - now())))::int end as locked_for
     from identity_account where username = $1`,
    [username],
  );
  const row = r.rows[0];
  if (!row) return undefined;
  return {
    id: row.id,
    username: row.username,
    passwordHash: row.password_hash,
    roles: asRoles(row.roles),
    totpRequired: row.totp_required,
    totpSecretSealed: row.totp_secret == null ? undefined : toBuffer(row.totp_secret),
    inactive: row.inactive,
    lockedForSeconds: Math.max(0, row.locked_for ?? 0),
  };
}

/**
 * Clears the failure count and records the TOTP step — only if, at this instant, the account is
 * still active and unlocked and the step is newer than any used before. Two logins racing with one
 * code both reach this UPDATE; the row lock makes the second see the first's step and match nothing.
 */
export async function recordSuccess(q: Queryable, accountId: string, totpStep: number | null): Promise<boolean> {
  const r = await q.query(
    `update identity_account set
       failed_count = 0, locked_until = null, last_login_at = now(),
       totp_last_step = coalesce($2::bigint, totp_last_step)
     where id = $1
       and not disabled and (valid_until is null or valid_until > now())
       and (locked_until is null or locked_until <= now())
       and ($2::bigint is null or totp_last_step is null or totp_last_step < $2::bigint)
     returning id`,
    [accountId, totpStep],
  );
  return r.rows.length === 1;
}

export async function updatePasswordHash(q: Queryable, accountId: string, oldHash: string, newHash: string): Promise<void> {
  // Conditional on the old hash so that a concurrent password change is never overwritten.
  await q.query('update identity_account set password_hash = $3 where id = $1 and password_hash = $2', [accountId, oldHash, newHash]);
}

/** Replaces the TOTP secret and requires it from now on; returns the username, or undefined when no such account. */
export async function setTotpSecret(q: Queryable, accountId: string, sealed: Buffer): Promise<string | undefined> {
  const r = await q.query<{ username: string }>(
    `update identity_account set totp_secret = $2, totp_required = true, totp_last_step = null
     where id = $1 returning username`,
    [accountId, sealed],
  );
  return r.rows[0]?.username;
}

export async function findIdByUsername(q: Queryable, username: string): Promise<string | undefined> {
  const r = await q.query<{ id: string }>('select id from identity_account where username = $1', [username]);
  return r.rows[0]?.id;
}

/** Marks the account disabled; returns its id, or undefined when there is no such account. */
export async function disableByUsername(q: Queryable, username: string): Promise<string | undefined> {
  const r = await q.query<{ id: string }>(
    `update identity_account set disabled = true, disabled_at = coalesce(disabled_at, now())
     where username = $1 returning id`,
    [username],
  );
  return r.rows[0]?.id;
}

/** The account row an enabling locks: whether it is disabled, and the practitioner it acts as. */
export async function lockForEnable(q: Queryable, username: string): Promise<{ id: string; disabled: boolean; practitioner: string | null } | undefined> {
  const r = await q.query<{ id: string; disabled: boolean; practitioner: string | null }>(
    'select id, disabled, practitioner from identity_account where username = $1 for update',
    [username],
  );
  return r.rows[0];
}

/** Enables a disabled account; failed sign-ins counted before are forgotten. */
export async function enableById(q: Queryable, id: string): Promise<void> {
  await q.query('update identity_account set disabled = false, disabled_at = null, failed_count = 0, locked_until = null where id = $1', [id]);
}

/** Whether the practitioner has accounts and every one is disabled. */
export async function onlyDisabled(q: Queryable, practitioner: string): Promise<boolean> {
  const r = await q.query<{ n: number; active: number }>(
    'select count(*)::int as n, count(*) filter (where not disabled)::int as active from identity_account where practitioner = $1',
    [practitioner],
  );
  return r.rows[0].n > 0 && r.rows[0].active === 0;
}

export async function listAccounts(q: Queryable): Promise<AccountSummary[]> {
  const r = await q.query<{
    id: string;
    username: string;
    roles: unknown;
    practitioner: string | null;
    practitioner_pending: string | null;
    totp_required: boolean;
    disabled: boolean;
    valid_until: unknown;
    locked_until: unknown;
    failed_count: number;
    last_login_at: unknown;
    created_at: unknown;
  }>(
    `select id, username, roles, practitioner, practitioner_pending, totp_required, disabled, valid_until,
       case when locked_until > now() then locked_until end as locked_until,
       failed_count, last_login_at, created_at
     from identity_account order by username`,
  );
  return r.rows.map((row) => ({
    id: row.id,
    username: row.username,
    roles: asRoles(row.roles),
    practitioner: row.practitioner ?? undefined,
    ...(row.practitioner_pending ? { pendingPractitioner: row.practitioner_pending } : {}),
    totpRequired: row.totp_required,
    disabled: row.disabled,
    validUntil: iso(row.valid_until),
    lockedUntil: iso(row.locked_until),
    failedCount: row.failed_count,
    lastLoginAt: iso(row.last_login_at),
    createdAt: iso(row.created_at) ?? '',
  }));
}
