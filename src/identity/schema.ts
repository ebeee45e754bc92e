/**
 * Identity's tables. Every piece of state that decides whether someone gets in (failure counts,
 * lock-outs, last TOTP step, sessions) lives here rather than in process memory, because several
 * Carewall processes may serve one database and each must see what the others decided.
 */
import type { Migration } from '../db/index.js';

export const identityMigrations: Migration[] = [
  {
    module: 'identity',
    version: 1,
    description: 'accounts and sessions',
    sql: `
      create table identity_account (
        id text primary key,
        -- stored lower-case so that uniqueness is case-insensitive without a functional index
        username text not null unique check (username = lower(username)),
        password_hash text not null,
        roles text[] not null check (cardinality(roles) > 0),
        practitioner text,
        totp_secret bytea,
        totp_required boolean not null default false,
        totp_last_step bigint,
        disabled boolean not null default false,
        disabled_at timestamptz,
        valid_until timestamptz,
        failed_count int not null default 0 check (failed_count >= 0),
        locked_until timestamptz,
        last_login_at timestamptz,
        created_at timestamptz not null default now(),
        check (not totp_required or totp_secret is not null)
      );

      create table identity_session (
        -- SHA-256 of the bearer token: a copy of this table does not let anyone act as its users
        token_hash bytea primary key,
        account_id text not null references identity_account (id),
        created_at timestamptz not null default now(),
        last_seen timestamptz not null default now(),
        expires_at timestamptz not null,
        revoked_at timestamptz,
        client_ip text,
        user_agent text
      );
      create index identity_session_account on identity_session (account_id);
    `,
  },
  {
    module: 'identity',
    version: 2,
    description: 'practitioner bindings that wait for a second person; sign-in throttles for unknown names and addresses',
    sql: `
      alter table identity_account add column practitioner_pending text, add column practitioner_requested_by text;
      create index identity_account_practitioner on identity_account (practitioner);
      create index identity_account_practitioner_pending on identity_account (practitioner_pending) where practitioner_pending is not null;

      -- key: HMAC of a user name that names no account, or of an address (throttle.ts)
      create table identity_login_throttle (
        key bytea primary key,
        failed_count int not null default 0 check (failed_count >= 0),
        window_start timestamptz not null default now(),
        locked_until timestamptz
      );
    `,
  },
  {
    module: 'identity',
    version: 3,
    description: "each account's WAL position after its last write: reads from a replica wait for it (read-your-writes)",
    sql: `
      create table identity_write_position (
        account_id text primary key,
        wal_position pg_lsn not null
      );
    `,
  },
];
