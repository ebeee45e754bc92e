import type { Migration } from '../db/index.js';

/**
 * records_version keeps every version, encrypted; records_resource points at the current one. The
 * index tables hold only the current, non-deleted version's search values: blind-index digests for
 * tokens and names, plaintext instant ranges for clinical dates.
 */
export const recordMigrations: Migration[] = [
  {
    module: 'records',
    version: 1,
    description: 'versioned encrypted resources and search indexes',
    sql: `
      create table records_resource (
        resource_type text not null,
        id text not null,
        version_id int not null,
        last_updated timestamptz not null,
        deleted boolean not null,
        patient_id text,
        primary key (resource_type, id));
      create index records_resource_patient on records_resource (patient_id, resource_type);
      create index records_resource_updated on records_resource (resource_type, last_updated desc, id);

      create table records_version (
        resource_type text not null,
        id text not null,
        version_id int not null,
        last_updated timestamptz not null,
        deleted boolean not null,
        patient_id text,
        key_scope text,
        body bytea,
        primary key (resource_type, id, version_id),
        check (deleted or body is not null));
      create index records_version_updated on records_version (resource_type, last_updated desc);

      create table records_token (
        resource_type text not null,
        id text not null,
        hash bytea not null,
        primary key (resource_type, id, hash));
      create index records_token_lookup on records_token (hash, resource_type);

      create table records_date (
        resource_type text not null,
        id text not null,
        param text not null,
        low timestamptz not null,
        high timestamptz not null);
      create index records_date_resource on records_date (resource_type, id);
      create index records_date_lookup on records_date (resource_type, param, low, high);
    `,
  },
  {
    module: 'records',
    version: 2,
    description: 'security-label digests per version; reference index for _include, _revinclude and _has',
    // Rows written before this migration carry no labels; Carewall had no labelled data before it.
    sql: `
      alter table records_resource add column labels text[] not null default '{}';
      alter table records_version add column labels text[] not null default '{}';

      create table records_reference (
        resource_type text not null,
        id text not null,
        param text not null,
        target_type text not null,
        target_id text not null,
        primary key (resource_type, id, param, target_type, target_id));
      create index records_reference_target on records_reference (target_type, target_id, param, resource_type);
    `,
  },
];
