/**
 * The awareness capability's tables (docs/awareness.md). Individual results are personal data: the
 * tables hold who clicked, never what anyone typed (a landing page's fields never leave the browser)
 * and never a message's content in the clear (a reported message is sealed with the general key).
 */
import type { Migration } from '../db/index.js';

export const awarenessMigrations: Migration[] = [
  {
    module: 'awareness',
    version: 1,
    description: 'staff, groups, templates, campaigns, their targets and events; reported mail and its triage',
    sql: `
      -- The people simulations go to: from staff accounts (username set) or from a CSV file.
      create table awareness_person (
        id text primary key,
        email text not null unique check (email = lower(email)),
        first_name text not null,
        last_name text not null,
        department text not null default '',
        position text not null default '',
        time_zone text not null,
        username text unique,
        source text not null check (source in ('accounts', 'csv')),
        active boolean not null default true,
        -- Enrolled in the longer course after repeated mistakes; harder simulations only once passed.
        course_enrolled_at timestamptz,
        course_passed_at timestamptz,
        updated_at timestamptz not null default now());

      create table awareness_group (
        id text primary key,
        name text not null unique,
        created_by text not null,
        created_at timestamptz not null default now());
      create table awareness_group_member (
        group_id text not null references awareness_group (id),
        person_id text not null references awareness_person (id),
        primary key (group_id, person_id));

      -- Templates and landing pages a clinic adds (or imports from GoPhish); shipped ones live in code.
      create table awareness_template (
        id text primary key,
        kind text not null check (kind in ('template', 'page')),
        body jsonb not null,
        created_by text not null,
        created_at timestamptz not null default now());

      create table awareness_campaign (
        id text primary key,
        name text not null,
        group_id text not null references awareness_group (id),
        templates text[] not null check (cardinality(templates) > 0),
        -- window, business hours, time zone default, landing-page choice, dry run
        plan jsonb not null,
        seed bigint not null,
        state text not null check (state in ('scheduled', 'sending', 'finished', 'cancelled')),
        created_by text not null,
        created_at timestamptz not null default now());

      -- One message to one person. The token is in the message's links and pixel; only its hash is
      -- kept, so a copy of the database cannot click for anyone.
      create table awareness_target (
        id text primary key,
        campaign_id text not null references awareness_campaign (id),
        person_id text not null references awareness_person (id),
        template_id text not null,
        token_hash bytea not null unique,
        -- The token itself, sealed: the sender needs it once, to write the message.
        token_sealed bytea not null,
        send_at timestamptz not null,
        sent_at timestamptz,
        unique (campaign_id, person_id));
      create index awareness_target_due on awareness_target (send_at) where sent_at is null;

      -- What happened to a message: sent, delivered, bounced, opened, clicked, submitted, reported,
      -- trained, quiz-failed, beacon. A click judged automatic keeps why (automatic_reasons).
      create table awareness_event (
        n bigint generated always as identity primary key,
        target_id text not null references awareness_target (id),
        kind text not null,
        at timestamptz not null,
        facts jsonb not null default '{}');
      create index awareness_event_target on awareness_event (target_id, kind);

      -- A message someone reported (the report button or the report mailbox), with its triage.
      create table awareness_report (
        id text primary key,
        reporter text not null,
        received_at timestamptz not null,
        via text not null check (via in ('button', 'mailbox')),
        -- A reported simulation is credited to its target; it is not triaged.
        target_id text references awareness_target (id),
        verdict text not null,
        score real not null,
        reasons jsonb not null,
        sender text not null,
        subject text not null,
        links text[] not null,
        fingerprint text not null,
        message_sealed bytea,
        -- The officer's decision (confirmed phishing, harmless, spam) and its note; told to the reporter.
        outcome text,
        outcome_note text,
        decided_by text,
        decided_at timestamptz);
      create index awareness_report_fingerprint on awareness_report (fingerprint);
      create index awareness_report_reporter on awareness_report (reporter);
    `,
  },
];
