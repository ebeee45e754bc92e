/**
 * The live monitor's tables: the cursor into the audit log, alerts, cases with their timeline, and
 * the suppressions that cases closed as legitimate leave behind.
 */
import type { Migration } from '../../db/index.js';

export const monitorMigrations: Migration[] = [
  {
    module: 'monitor',
    version: 1,
    description: 'live insider-misuse monitor: audit cursor (with a lease), alerts, cases, case timeline, suppressions',
    sql: `
      -- One row: the next audit index to read. The lease lets one process scan at a time on a
      -- shared PostgreSQL without holding a transaction open while it reads the log and records.
      create table monitor_cursor (
        id int primary key check (id = 1),
        next_index bigint not null default 0,
        lease_holder text,
        lease_until timestamptz,
        last_run_at timestamptz);
      insert into monitor_cursor (id) values (1);

      create table monitor_case (
        id text primary key,
        -- sealed (general data key): a title typed by an officer may name the patient
        title_sealed bytea not null,
        status text not null check (status in ('open', 'investigating', 'closed')),
        resolution text check (resolution in ('violation', 'legitimate', 'false-positive')),
        assignee text,
        user_ref text not null,
        created_by text not null,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now());
      create index monitor_case_status on monitor_case (status, updated_at);

      -- Alerts as the detectors write them; patients are references, evidence never names anyone.
      create table monitor_alert (
        id text primary key,
        user_ref text not null,
        patients text[] not null,
        scenario text not null,
        score double precision not null,
        first_access timestamptz not null,
        last_access timestamptz not null,
        evidence jsonb not null,
        case_id text references monitor_case (id),
        created_at timestamptz not null default now());
      create index monitor_alert_new on monitor_alert (created_at) where case_id is null;
      create index monitor_alert_user on monitor_alert (user_ref, scenario);
      create index monitor_alert_case on monitor_alert (case_id);

      -- The timeline; every text sealed (notes and decisions may hold patient details).
      create table monitor_case_event (
        id bigserial primary key,
        case_id text not null references monitor_case (id),
        at timestamptz not null default now(),
        by_user text not null,
        kind text not null check (kind in ('opened', 'assigned', 'status', 'note')),
        text_sealed bytea not null);
      create index monitor_case_event_case on monitor_case_event (case_id, id);

      -- What a case closed as legitimate showed to be normal: not flagged again.
      create table monitor_suppression (
        user_ref text not null,
        patient text not null,
        scenario text not null,
        case_id text not null references monitor_case (id),
        created_at timestamptz not null default now(),
        primary key (user_ref, patient, scenario));
    `,
  },
  {
    module: 'monitor',
    version: 2,
    description: 'live insider-misuse monitor: the watch list (candidates the alert budget held back)',
    sql: `
      -- Stored as monitor_alert stores alerts: patients are references and the evidence never
      -- names anyone, so neither is sealed. Bounded: each scan replaces its users' entries, and
      -- only the most improbable few hundred are kept (watch.ts).
      create table monitor_watch (
        id text primary key,
        user_ref text not null,
        patients text[] not null,
        scenario text not null,
        p double precision not null,
        level double precision not null,
        weight double precision,
        first_access timestamptz not null,
        last_access timestamptz not null,
        evidence jsonb not null,
        scanned_at timestamptz not null default now());
      create index monitor_watch_rank on monitor_watch (p, id);
      create index monitor_watch_user on monitor_watch (user_ref);
    `,
  },
  {
    module: 'monitor',
    version: 3,
    description: 'live insider-misuse monitor: learning from closed cases (pattern weights per scenario, role and department, and every change)',
    sql: `
      -- The weight of a pattern (scenario × role × department) closures taught: 1 to 10 (learning.ts).
      create table monitor_pattern_weight (
        scenario text not null,
        peer_group text not null,
        role text not null,
        department text,
        department_name text,
        weight double precision not null check (weight >= 1 and weight <= 10),
        updated_at timestamptz not null default now(),
        primary key (scenario, peer_group));

      -- Every change: who closed which case, how, and the weight before and after.
      create table monitor_learning (
        id bigserial primary key,
        at timestamptz not null default now(),
        case_id text not null references monitor_case (id),
        by_user text not null,
        resolution text not null check (resolution in ('violation', 'legitimate', 'false-positive')),
        scenario text not null,
        peer_group text not null,
        role text not null,
        department text,
        department_name text,
        weight_before double precision not null,
        weight_after double precision not null);
    `,
  },
];
