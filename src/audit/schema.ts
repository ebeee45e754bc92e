/**
 * The audit module's tables: the log's leaves in order, the hashes of its complete subtrees, its
 * current size and root, the checkpoints it has signed, and its signing key (sealed).
 *
 * Why complete-subtree hashes: every inclusion or consistency proof, and the root at any size, is
 * made of O(log n) complete subtrees, so storing each one as it completes (about 2n rows) makes
 * every proof a handful of primary-key lookups however large the log grows. Tiles (C2SP
 * tlog-tiles) pack the same hashes 256 to a row; one row per hash keeps the SQL obvious, and the
 * table can be re-packed into tiles later without changing a single hash.
 */
import type { Migration } from '../db/migrations.js';

export const auditMigrations: Migration[] = [
  {
    module: 'audit',
    version: 1,
    description: 'Merkle log of audit records: leaves, complete-subtree hashes, tree head, checkpoints, signer',
    sql: `
      create table audit_leaf (
        leaf_index bigint primary key,
        -- the exact bytes hashed into the tree (docs/audit.md)
        leaf bytea not null,
        appended_at timestamptz not null default now());

      create table audit_node (
        level smallint not null,
        idx bigint not null,
        hash bytea not null,
        primary key (level, idx));

      -- One row: the size and root of the tree as the last append left it.
      create table audit_tree (
        id smallint primary key default 1 check (id = 1),
        size bigint not null,
        root bytea not null,
        updated_at timestamptz not null default now());

      create table audit_checkpoint (
        size bigint primary key,
        root bytea not null,
        note text not null,
        signed_at timestamptz not null default now());

      -- The checkpoint signing key, sealed with the installation's general data key.
      create table audit_signer (
        id smallint primary key default 1 check (id = 1),
        name text not null,
        vkey text not null,
        sealed_key bytea not null,
        created_at timestamptz not null default now());
    `,
  },
  {
    module: 'audit',
    version: 2,
    description: 'Search columns for audit records (patient, user, time, action, outcome) and the last configuration seen',
    sql: `
      -- Derived from the leaves, in the same transaction, for searching (AuditEvent, access reports).
      -- Not trusted for integrity: verification reads the leaves alone.
      create table audit_entry (
        leaf_index bigint primary key,
        at timestamptz not null,
        patient_id text,
        account_id text,
        practitioner text,
        action text not null,
        outcome text not null);
      create index audit_entry_patient on audit_entry (patient_id, at) where patient_id is not null;
      create index audit_entry_account on audit_entry (account_id, at);
      create index audit_entry_practitioner on audit_entry (practitioner, at) where practitioner is not null;
      create index audit_entry_at on audit_entry (at);

      -- The configuration the last start recorded (its fingerprint and non-secret values).
      create table audit_config_seen (
        id smallint primary key default 1 check (id = 1),
        fingerprint text not null,
        settings jsonb not null,
        seen_at timestamptz not null default now());
    `,
  },
];
