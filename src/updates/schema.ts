/**
 * The updates capability's tables: the TUF repository lives in the database, so any Carewall
 * process serves it and none keeps state of its own. Metadata and images are written once: a new
 * version is a new row, never an update of an old one.
 */
import type { Migration } from '../db/index.js';

export const updatesMigrations: Migration[] = [
  {
    module: 'updates',
    version: 1,
    description: 'TUF image repository: published metadata, staged metadata and its signatures, online keys (sealed), images',
    sql: `
      -- Every published metadata file, exactly as served (the bytes snapshot and timestamp hash).
      create table updates_metadata (
        role text not null,
        version int not null check (version >= 1),
        body bytea not null,
        expires_at timestamptz not null,
        published_at timestamptz not null default now(),
        primary key (role, version));

      -- Metadata prepared by the server and waiting for offline signatures (root, targets, a class).
      -- id: SHA-256 of the canonical JSON of its signed part, the very bytes the holders sign.
      create table updates_pending (
        id text primary key,
        role text not null,
        version int not null,
        signed text not null,
        created_at timestamptz not null default now(),
        published_at timestamptz,
        withdrawn_at timestamptz);
      -- One open proposal per role: a second could never be published after the first.
      create unique index updates_pending_open on updates_pending (role) where published_at is null and withdrawn_at is null;

      create table updates_signature (
        pending_id text not null references updates_pending (id),
        keyid text not null,
        sig text not null,
        added_at timestamptz not null default now(),
        primary key (pending_id, keyid));

      -- The snapshot and timestamp keys: generated here, private halves sealed with the general key.
      create table updates_online_key (
        keyid text primary key,
        role text not null check (role in ('snapshot', 'timestamp')),
        public_hex text not null,
        sealed_private bytea not null,
        created_at timestamptz not null default now());

      -- Images, content-addressed (SHA-256), in chunks so that no row is huge.
      create table updates_blob (
        sha256 text primary key,
        length bigint not null,
        created_at timestamptz not null default now());
      create table updates_blob_chunk (
        sha256 text not null references updates_blob (sha256),
        n int not null,
        bytes bytea not null,
        primary key (sha256, n));

      -- Targets of published class metadata: only these images are served.
      create table updates_release (
        path text not null,
        sha256 text not null references updates_blob (sha256),
        role text not null,
        version int not null,
        primary key (path, sha256, role, version));
    `,
  },
  {
    module: 'updates',
    version: 2,
    description: 'devices: registered device keys and the signed manifests they report (write-once)',
    sql: `
      create table updates_device (
        id text primary key,
        device_class text not null,
        hardware_id text not null,
        public_hex text not null,
        registered_at timestamptz not null default now());

      -- Each report as the device signed it: the manifest text, its signature, and what the server
      -- made of it (known_image: the repository released that image for the device's class).
      create table updates_device_manifest (
        device_id text not null references updates_device (id),
        n bigint generated always as identity,
        manifest text not null,
        signature text not null,
        target text,
        sha256 text,
        device_time timestamptz not null,
        known_image boolean not null,
        received_at timestamptz not null default now(),
        primary key (device_id, n));

      -- Written once: a report is evidence of what ran, so no one changes or removes it afterwards.
      create function updates_manifest_write_once() returns trigger language plpgsql as $$
      begin
        raise exception 'updates_device_manifest rows are written once';
      end $$;
      create trigger updates_manifest_write_once before update or delete on updates_device_manifest
        for each row execute function updates_manifest_write_once();
    `,
  },
  {
    module: 'updates',
    version: 3,
    description: 'release pipeline: device classes, engineers and their keys, class assignments, vendor keys, release candidates and their steps',
    sql: `
      -- A device class (a delegated role) and whether it is life-critical (then two engineers sign).
      create table updates_class (
        name text primary key,
        life_critical boolean not null,
        created_by text not null,
        created_at timestamptz not null default now());

      -- An engineer's own public signing key (TUF Ed25519), registered by the engineer; the private
      -- key never reaches the server. One key per account: a key is never replaced in place.
      create table updates_engineer_key (
        account_id text primary key,
        username text not null,
        keyid text not null unique,
        public_hex text not null,
        registered_at timestamptz not null default now());

      -- Which engineers release for which class: assigned by someone else, ended (never deleted).
      create table updates_assignment (
        n bigint generated always as identity primary key,
        class text not null references updates_class (name),
        account_id text not null references updates_engineer_key (account_id),
        assigned_by text not null,
        assigned_at timestamptz not null default now(),
        ended_by text,
        ended_at timestamptz);
      create unique index updates_assignment_open on updates_assignment (class, account_id) where ended_at is null;

      -- Vendors' public keys (PEM) against which their image signatures are checked on import.
      create table updates_vendor_key (
        keyid text primary key,
        vendor text not null,
        public_pem text not null,
        added_by text not null,
        added_at timestamptz not null default now());

      -- A release on its way: uploaded (quarantined), checked, signed off by the test lab, proposed
      -- to the engineers, published or rejected. Each step's who and when is kept on the row.
      create table updates_candidate (
        id text primary key,
        class text not null references updates_class (name),
        name text not null,
        image_version text not null,
        hardware_ids text[] not null,
        release_counter int not null,
        min_upgrade_from text not null,
        vendor_keyid text not null references updates_vendor_key (keyid),
        vendor_signature text not null,
        state text not null check (state in ('awaiting-image', 'quarantined', 'awaiting-approval', 'published', 'rejected', 'withdrawn')),
        sha256 text references updates_blob (sha256),
        length bigint,
        sbom jsonb,
        advisories jsonb,
        created_by text not null,
        created_at timestamptz not null default now(),
        lab_by text,
        lab_at timestamptz,
        lab_note text,
        proposal_id text references updates_pending (id),
        closed_reason text,
        closed_at timestamptz);
      create unique index updates_candidate_name on updates_candidate (class, name) where state not in ('rejected', 'withdrawn');
    `,
  },
];
