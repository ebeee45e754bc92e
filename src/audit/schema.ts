/**
 * The audit module's tables: the log's leaves in order, the hashes of its complete subtrees, its
 * current size and root, the checkpoints it has signed, and its signing key (sealed).
 *
 * Why complete-subtree hashes: every inclusion or consistency proof, and the root at any size, is
 * made of O(log n) complete subtrees, so storing each one as it completes makes every proof one
 * lookup of a handful of rows however large the log grows. Version 1 stored one row per hash;
 * version 3 packs them into tiles (32 hashes of one level per row, see tiles.ts), the layout of
 * C2SP tlog-tiles with height 1, without changing a single hash; version 6 keeps only every eighth
 * level (tlog-tiles' height 8), the levels between hashed from the one below when needed.
 */
import type { Migration } from '../db/index.js';

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
  {
    module: 'audit',
    version: 3,
    description: 'Subtree hashes packed 32 to a row (tiles); search columns beside each leaf',
    sql: `
      -- Tiles: the hashes of one tree level, 32 consecutive subtrees to a row (1 KiB, stored
      -- inline), so a million records take about 62,500 rows of hashes instead of two million.
      -- Row (level, idx) holds the subtrees idx * 32 .. idx * 32 + 31 of that level in order; the
      -- rightmost tile of a level is partial and grows as subtrees complete.
      create table audit_tile (
        level smallint not null,
        idx bigint not null,
        hashes bytea not null,
        primary key (level, idx));
      insert into audit_tile (level, idx, hashes)
        select level, idx / 32, string_agg(hash, ''::bytea order by idx) from audit_node group by level, idx / 32;
      drop table audit_node;

      -- Search columns in the leaf's own row: one row written per record instead of two.
      -- Derived from the leaf in the same transaction; not trusted for integrity (verification
      -- reads the leaf bytes alone). Null for records appended without them.
      alter table audit_leaf
        add column at timestamptz,
        add column patient_id text,
        add column account_id text,
        add column practitioner text,
        add column action text,
        add column outcome text;
      update audit_leaf l set at = e.at, patient_id = e.patient_id, account_id = e.account_id,
        practitioner = e.practitioner, action = e.action, outcome = e.outcome
        from audit_entry e where e.leaf_index = l.leaf_index;
      drop table audit_entry;
      create index audit_leaf_patient on audit_leaf (patient_id, at) where patient_id is not null;
      create index audit_leaf_account on audit_leaf (account_id, at) where account_id is not null;
      create index audit_leaf_practitioner on audit_leaf (practitioner, at) where practitioner is not null;
      create index audit_leaf_at on audit_leaf (at) where at is not null;
    `,
  },
  {
    module: 'audit',
    version: 4,
    description: 'Leaf bytes in bundles of 256 (entry bundles), the incomplete unit in audit_tail; search columns in audit_entry',
    sql: `
      -- Complete units of 256 leaves, in the bundle format of leafStore.ts (an index of 256
      -- big-endian uint32 ends, then the leaves). Uncompressed and out of line, so that one leaf
      -- is read as two small slices of its bundle.
      create table audit_bundle (
        idx bigint primary key,
        entries bytea not null);
      alter table audit_bundle alter column entries set storage external;
      -- The leaves of the unit not yet complete; they move into its bundle when it completes.
      create table audit_tail (
        leaf_index bigint primary key,
        leaf bytea not null);

      insert into audit_bundle (idx, entries)
        select unit, string_agg(int4send(ends), ''::bytea order by leaf_index) || string_agg(leaf, ''::bytea order by leaf_index)
          from (select leaf_index, leaf_index / 256 as unit, leaf,
                  (sum(length(leaf)) over (partition by leaf_index / 256 order by leaf_index))::int as ends
                from audit_leaf) s
          group by unit
          having count(*) = 256 and min(leaf_index) = unit * 256 and max(leaf_index) = unit * 256 + 255;
      insert into audit_tail (leaf_index, leaf)
        select leaf_index, leaf from audit_leaf l where not exists (select 1 from audit_bundle b where b.idx = l.leaf_index / 256);

      -- What stays is one row of search columns per record.
      alter table audit_leaf drop column leaf;
      alter table audit_leaf rename to audit_entry;
      alter index audit_leaf_pkey rename to audit_entry_pkey;
      alter index audit_leaf_patient rename to audit_entry_patient;
      alter index audit_leaf_account rename to audit_entry_account;
      alter index audit_leaf_practitioner rename to audit_entry_practitioner;
      alter index audit_leaf_at rename to audit_entry_at;
    `,
  },
  {
    module: 'audit',
    version: 5,
    description: 'Bundles stored compressed (raw DEFLATE); those written before stay plain',
    sql: `
      -- 0: the bundle bytes as they are (every bundle written before this step); 1: raw DEFLATE
      -- (RFC 1951) of them (leafStore.ts). Still out of line and never compressed by the database,
      -- which would inflate them again before sending.
      alter table audit_bundle add column codec smallint not null default 0 check (codec in (0, 1));
    `,
  },
  {
    module: 'audit',
    version: 6,
    description: 'Subtree hashes stored for every eighth tree level only (tlog-tiles height 8)',
    sql: `
      -- Levels 0, 8, 16, ... stay; a node of a level in between is hashed from the stored level
      -- below it (tileLayout.ts). What goes is derived data: every hash removed is recomputed from
      -- the hashes kept, and verification recomputes all of them from the records.
      delete from audit_tile where level % 8 <> 0;
    `,
  },
  {
    module: 'audit',
    version: 7,
    description: 'Search columns one row per user and append (at most 256 records, as arrays), found by GIN over patients and users',
    sql: `
      -- searchColumns.ts: a row of search columns per user (account) and append, of at most 256
      -- records, instead of a row and five index entries per record. idxs: the records' indexes;
      -- the columns as arrays in the same order; keys: each patient ('p' || id), account
      -- ('a' || id) and practitioner ('r' || reference) the row names. Derived data, as before.
      create table audit_entry_batch (
        first_index bigint primary key,
        at_min timestamptz,
        at_max timestamptz,
        keys text[] not null,
        idxs bigint[] not null,
        ats timestamptz[] not null,
        patients text[] not null,
        accounts text[] not null,
        practitioners text[] not null,
        actions text[] not null,
        outcomes text[] not null);
      create index audit_entry_batch_keys on audit_entry_batch using gin (keys);
      create index audit_entry_batch_at on audit_entry_batch (at_max, at_min);
      -- The rows so far: per 256 consecutive records, a row per account.
      insert into audit_entry_batch (first_index, at_min, at_max, keys, idxs, ats, patients, accounts, practitioners, actions, outcomes)
        select min(leaf_index), min(at), max(at),
            array_remove(array_agg(distinct 'p' || patient_id) || array_agg(distinct 'a' || account_id) || array_agg(distinct 'r' || practitioner), null),
            array_agg(leaf_index order by leaf_index), array_agg(at order by leaf_index), array_agg(patient_id order by leaf_index),
            array_agg(account_id order by leaf_index), array_agg(practitioner order by leaf_index), array_agg(action order by leaf_index),
            array_agg(outcome order by leaf_index)
          from audit_entry where action is not null
          group by leaf_index / 256, account_id;
      drop table audit_entry;
    `,
  },
  {
    module: 'audit',
    version: 8,
    description: 'Witness cosignatures kept with the checkpoint they sign (C2SP tlog-cosignature)',
    sql: `
      -- Each signature line a witness answered to add-checkpoint ("— <name> <base64>"), kept as
      -- given: the log serves them appended to its checkpoint, and a verifier checks those it trusts.
      create table audit_cosignature (
        size bigint not null,
        witness text not null,
        line text not null,
        received_at timestamptz not null default now(),
        primary key (size, witness, line)
      );
    `,
  },
  {
    module: 'audit',
    version: 9,
    description: 'Each full verification of the log and its outcome, for the posture scorecard',
    sql: `
      -- Also a record in the log itself ('audit.verify'); kept here too so that "when was it last
      -- verified" is one row to read, not a search through a year of records.
      create table audit_verification (
        at timestamptz not null default now(),
        ok boolean not null,
        size bigint not null
      );
      create index audit_verification_at on audit_verification (at desc);
    `,
  },
  {
    module: 'audit',
    version: 10,
    description: 'How many records per hour, action and outcome: counts at any size of the log; rows found by their time span',
    sql: `
      -- A search between two instants finds the rows whose span overlaps it (searchColumns.ts).
      create index audit_entry_batch_span on audit_entry_batch using gist (tstzrange(at_min, at_max, '[]'));
      -- Derived from the search columns, written in the same statement as they are (counts.ts).
      create table audit_count (
        hour timestamptz not null,
        action text not null,
        outcome text not null,
        n bigint not null,
        primary key (hour, action, outcome)
      );
      insert into audit_count (hour, action, outcome, n)
        select date_bin('1 hour', u.at, timestamptz '2000-01-01T00:00:00Z'), u.action, u.outcome, count(*)
          from audit_entry_batch g, unnest(g.ats, g.actions, g.outcomes) as u(at, action, outcome)
         where u.action is not null
         group by 1, 2, 3;
    `,
  },
  {
    module: 'audit',
    version: 11,
    description: 'Records of write transactions staged with the write, moved into the tree by the next append',
    sql: `
      -- log.ts (stageIn, sequenceStaged): a write's records, committed with it without the
      -- sequencer lock; each row leaves in the transaction that appends it to the tree. columns:
      -- the record's search columns (EntryColumns), as the append stores them.
      create table audit_pending (
        id bigserial primary key,
        leaf bytea not null,
        columns jsonb
      );
    `,
  },
];
