/**
 * Bearer sessions. The token is 32 random bytes shown once to the client; the database keeps only its
 * SHA-256, so a copy of the table does not let anyone act as its users. (A plain hash suffices: the
 * token has 256 bits of entropy, so there is nothing to brute-force and no need for a slow hash.)
 */
import crypto from 'node:crypto';
import type { Queryable } from '../db/index.js';
import type { Who } from '../shared/index.js';
import { asRoles } from './accounts.js';
import type { Lookup } from './sessionCache.js';

const TOKEN_BYTES = 32;
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;
/** last_seen is written at most this often: a write per request would double the cost of every call. */
const TOUCH_SECONDS = 30;
/** Ended sessions are kept this long (for investigating what a session did), then deleted. */
const RETENTION_DAYS = 30;
const MAX_USER_AGENT = 256;

export interface ClientInfo {
  ip?: string;
  userAgent?: string;
}

export interface SessionTiming {
  idleMinutes: number;
  maxHours: number;
}

export function newToken(): string {
  return crypto.randomBytes(TOKEN_BYTES).toString('base64url');
}

export function hashToken(token: string): Buffer {
  return crypto.createHash('sha256').update(token, 'utf8').digest();
}

export function isWellFormedToken(token: unknown): token is string {
  return typeof token === 'string' && TOKEN_SHAPE.test(token);
}

export async function createSession(q: Queryable, accountId: string, timing: SessionTiming, client: ClientInfo): Promise<{ token: string; expiresAt: Date }> {
  const token = newToken();
  const r = await q.query<{ expires_at: Date }>(
    `insert into identity_session (token_hash, account_id, expires_at, client_ip, user_agent)
     values ($1, $2, now() + make_interval(secs => $3::float8), $4, $5)
     returning expires_at`,
    [hashToken(token), accountId, timing.maxHours * 3600, client.ip ?? null, client.userAgent?.slice(0, MAX_USER_AGENT) ?? null],
  );
  return { token, expiresAt: new Date(r.rows[0].expires_at) };
}

/**
 * The caller behind a token, or null. Runs on every authenticated request: one indexed join decides
 * everything (revoked, expired, idle, account disabled or ended), and a second statement runs only when
 * last_seen is due for a refresh. The refresh interval shrinks with very short idle limits so that a
 * session in steady use never idles out between refreshes.
 */
export async function sessionWho(q: Queryable, token: string, timing: SessionTiming): Promise<Lookup | null> {
  if (!isWellFormedToken(token)) return null;
  const hash = hashToken(token);
  const idleSeconds = timing.idleMinutes * 60;
  const touchSeconds = Math.min(TOUCH_SECONDS, idleSeconds / 4);
  const r = await q.query<{
    account_id: string;
    username: string;
    roles: unknown;
    practitioner: string | null;
    stale: boolean;
    reads_after: string;
    seconds_left: number;
  }>(
    `select s.account_id, a.username, a.roles, a.practitioner,
       s.last_seen < now() - make_interval(secs => $3::float8) as stale,
       extract(epoch from least(s.expires_at, s.last_seen + make_interval(secs => $2::float8), coalesce(a.valid_until, 'infinity')) - now())::float8
         as seconds_left,
       coalesce(w.wal_position, '0/0')::text as reads_after
     from identity_session s join identity_account a on a.id = s.account_id
       left join identity_write_position w on w.account_id = s.account_id
     where s.token_hash = $1
       and s.revoked_at is null
       and s.expires_at > now()
       and s.last_seen > now() - make_interval(secs => $2::float8)
       and not a.disabled
       and (a.valid_until is null or a.valid_until > now())`,
    [hash, idleSeconds, touchSeconds],
  );
  const row = r.rows[0];
  if (!row) return null;
  if (row.stale) {
    // greatest(): a process with an older view never moves last_seen backwards.
    await q.query('update identity_session set last_seen = greatest(last_seen, now()) where token_hash = $1 and revoked_at is null', [hash]);
  }
  const who: Who = { accountId: row.account_id, username: row.username, roles: asRoles(row.roles), readsAfter: row.reads_after };
  if (row.practitioner) who.practitioner = row.practitioner;
  return { who, secondsLeft: Number(row.seconds_left) };
}

/** Ends one session; false when the token named no live session. */
export async function revokeSession(q: Queryable, token: string): Promise<boolean> {
  if (!isWellFormedToken(token)) return false;
  const r = await q.query('update identity_session set revoked_at = now() where token_hash = $1 and revoked_at is null returning account_id', [
    hashToken(token),
  ]);
  return r.rows.length === 1;
}

export async function revokeAccountSessions(q: Queryable, accountId: string): Promise<number> {
  const r = await q.query('update identity_session set revoked_at = now() where account_id = $1 and revoked_at is null returning account_id', [accountId]);
  return r.rows.length;
}

/** A session as the posture's sign-in facts see it: whose, from where, and when it was in use. */
export interface SessionSpan {
  username: string;
  address?: string;
  from: Date;
  to: Date;
}

/** Sessions in use at any time since `since` (kept for RETENTION_DAYS after they end), oldest first. */
export async function sessionsSince(q: Queryable, since: Date): Promise<SessionSpan[]> {
  const r = await q.query<{ username: string; client_ip: string | null; created_at: Date; ended: Date }>(
    `select a.username, s.client_ip, s.created_at, least(s.last_seen, coalesce(s.revoked_at, s.expires_at), s.expires_at) as ended
     from identity_session s join identity_account a on a.id = s.account_id
     where s.last_seen >= $1
     order by s.created_at`,
    [since],
  );
  return r.rows.map((row) => ({
    username: row.username,
    ...(row.client_ip ? { address: row.client_ip } : {}),
    from: new Date(row.created_at),
    to: new Date(row.ended),
  }));
}

/**
 * Deletes sessions that ended more than the retention period ago. Called for one account at each of its
 * logins (so the table stays bounded without a scheduler) or for all accounts by maintenance.
 */
export async function purgeEndedSessions(q: Queryable, accountId?: string): Promise<number> {
  const r = await q.query(
    `delete from identity_session
     where ($1::text is null or account_id = $1)
       and least(coalesce(revoked_at, expires_at), expires_at) < now() - make_interval(days => $2::int)
     returning account_id`,
    [accountId ?? null, RETENTION_DAYS],
  );
  return r.rows.length;
}

/** An account's WAL position after a write (read-your-writes with a replica); never moves backwards. */
export async function noteWritePosition(q: Queryable, accountId: string, position: string): Promise<void> {
  await q.query(
    `insert into identity_write_position (account_id, wal_position) values ($1, $2::pg_lsn)
     on conflict (account_id) do update set wal_position = greatest(identity_write_position.wal_position, excluded.wal_position)`,
    [accountId, position],
  );
}
