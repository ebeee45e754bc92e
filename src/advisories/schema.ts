/** The advisories capability's tables (docs/advisories.md): documents kept whole, decisions kept as history. */
import type { Migration } from '../db/index.js';

export const advisoriesMigrations: Migration[] = [
  {
    module: 'advisories',
    version: 1,
    description: 'CSAF advisories (every revision, whole), match decisions, VEX statements and the releases that fix them',
    sql: `
      create table advisories_document (
        id text not null,
        version text not null,
        title text not null,
        severity text,
        document jsonb not null,
        imported_by text not null,
        imported_at timestamptz not null default now(),
        primary key (id, version));

      -- An engineer's word on an uncertain match: confirmed or rejected, with why. The last counts.
      create table advisories_decision (
        n bigint generated always as identity primary key,
        advisory text not null,
        device_id text not null,
        product_id text not null,
        decision text not null check (decision in ('confirmed', 'rejected')),
        note text not null,
        by_user text not null,
        at timestamptz not null default now());

      -- VEX per device and vulnerability, as engineers state it; the last counts, all are kept.
      create table advisories_vex (
        n bigint generated always as identity primary key,
        advisory text not null,
        vulnerability text not null,
        device_id text not null,
        status text not null check (status in ('affected', 'not_affected', 'fixed', 'under_investigation')),
        justification text,
        note text not null,
        by_user text not null,
        at timestamptz not null default now());

      create table advisories_fix (
        advisory text not null,
        target text not null,
        by_user text not null,
        at timestamptz not null default now(),
        primary key (advisory, target));
    `,
  },
  {
    module: 'advisories',
    version: 2,
    description: 'a match decision names the product by what it is, not only by its id in one revision',
    sql: `
      -- A later revision may number its products anew: the decision follows the product (vendor,
      -- name, version or range, CPE, purl), not the number. Null on decisions made before.
      alter table advisories_decision add column product_key text;
    `,
  },
];
