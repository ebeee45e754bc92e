/**
 * The director's tables (docs/director.md). Like the image repository, everything is in the
 * database, so any Carewall process serves a device; metadata rows are written once.
 */
import type { Migration } from '../db/index.js';

export const directorMigrations: Migration[] = [
  {
    module: 'director',
    version: 1,
    description: "the director: its root (offline keys), its online key (sealed), each device's metadata, rollouts and their waves",
    sql: `
      -- The director's root, as published (signed by a threshold of its offline root keys).
      create table director_root (
        version int primary key check (version >= 1),
        body bytea not null,
        expires_at timestamptz not null,
        published_at timestamptz not null default now());

      -- A root awaiting the offline holders' signatures (one open at a time) and those signatures.
      create table director_root_pending (
        id text primary key,
        version int not null,
        signed text not null,
        created_at timestamptz not null default now(),
        published_at timestamptz,
        withdrawn_at timestamptz);
      create unique index director_root_pending_open on director_root_pending ((true)) where published_at is null and withdrawn_at is null;
      create table director_root_signature (
        pending_id text not null references director_root_pending (id),
        keyid text not null,
        sig text not null,
        primary key (pending_id, keyid));

      -- The online key that signs every device's targets, snapshot and timestamp; private half sealed.
      create table director_online_key (
        keyid text primary key,
        public_hex text not null,
        sealed_private bytea not null,
        created_at timestamptz not null default now());

      -- Each device's metadata, exactly as served. 'instruction' (targets only) is what it says in
      -- words the server compares with what the device should be told now.
      create table director_device_metadata (
        device_id text not null,
        role text not null check (role in ('targets', 'snapshot', 'timestamp')),
        version int not null check (version >= 1),
        body bytea not null,
        expires_at timestamptz not null,
        instruction jsonb,
        created_at timestamptz not null default now(),
        primary key (device_id, role, version));

      -- A rollout of one published release to a class's devices, in waves (the first: the canary).
      create table director_rollout (
        id text primary key,
        class text not null,
        target text not null,
        sha256 text not null,
        waves jsonb not null,
        open_waves int not null default 1,
        state text not null check (state in ('active', 'halted', 'replaced')),
        created_by text not null,
        created_at timestamptz not null default now());
      create unique index director_rollout_live on director_rollout (class) where state <> 'replaced';

      -- What happened to a rollout: waves opened, halts and resumes, by whom and why.
      create table director_rollout_event (
        n bigint generated always as identity primary key,
        rollout_id text not null references director_rollout (id),
        action text not null,
        by_user text not null,
        reason text,
        at timestamptz not null default now());
    `,
  },
];
