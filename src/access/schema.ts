/**
 * The access module's tables. The first five are a projection of FHIR resources (kept by
 * projection.ts in the transaction that writes the resource), so the rules run as indexed SQL and a
 * search can be filtered in the database. The others are the access module's own records:
 * emergency and investigation grants, the uses that need review, and notifications.
 */
import type { Migration } from '../db/index.js';
import { contextFunctionSql } from './contextFunction.js';

export const accessMigrations: Migration[] = [
  {
    module: 'access',
    version: 1,
    description: 'care relationships, memberships, consent rules, grants and review queue',
    sql: `
      create table access_relationship (
        source_type text not null,
        source_id text not null,
        patient_id text not null,
        principal text not null,
        kind text not null,
        role text not null,
        direct boolean not null,
        starts_at timestamptz,
        ends_at timestamptz,
        primary key (source_type, source_id, principal, kind));
      create index access_relationship_principal on access_relationship (principal, patient_id);
      create index access_relationship_patient on access_relationship (patient_id, principal);

      create table access_membership (
        source_type text not null,
        source_id text not null,
        member text not null,
        group_ref text not null,
        kind text not null,
        direct boolean not null,
        starts_at timestamptz,
        ends_at timestamptz,
        primary key (source_type, source_id, member, group_ref));
      create index access_membership_member on access_membership (member);

      create table access_patient (
        patient_id text primary key,
        restricted boolean not null default false,
        has_encounter boolean not null default false);

      create table access_consent (
        consent_id text not null,
        seq int not null,
        patient_id text not null,
        effect text not null check (effect in ('deny', 'permit-only')),
        actors text[],
        purposes text[],
        starts_at timestamptz,
        ends_at timestamptz,
        primary key (consent_id, seq));
      create index access_consent_patient on access_consent (patient_id);

      create table access_result_link (
        resource_type text not null,
        id text not null,
        order_id text not null,
        primary key (resource_type, id, order_id));
      create index access_result_link_order on access_result_link (order_id);

      create table access_grant (
        id text primary key,
        kind text not null check (kind in ('break-glass', 'investigation')),
        account_id text not null,
        username text not null,
        patient_id text not null,
        reason_code text not null,
        -- free text may name the patient's condition: sealed with the general data key
        justification bytea not null,
        starts_at timestamptz not null default now(),
        expires_at timestamptz not null,
        reviewed_at timestamptz,
        reviewer text,
        decision text,
        note bytea,
        check (expires_at > starts_at));
      create index access_grant_account on access_grant (account_id, patient_id, expires_at);

      create table access_use (
        id bigint generated always as identity primary key,
        kind text not null check (kind in ('break-glass', 'investigation', 'restricted-patient')),
        grant_id text references access_grant (id),
        account_id text not null,
        username text not null,
        patient_id text not null,
        action text not null,
        resource_type text not null,
        resource_id text,
        at timestamptz not null default now(),
        reviewed_at timestamptz,
        reviewer text,
        decision text,
        note bytea);
      create index access_use_unreviewed on access_use (kind, at) where reviewed_at is null;
      create index access_use_grant on access_use (grant_id);

      create table access_notification (
        id bigint generated always as identity primary key,
        created_at timestamptz not null default now(),
        audience text not null,
        kind text not null,
        grant_id text,
        -- names the user and the grant, never the patient or the justification
        message text not null);
    `,
  },
  {
    module: 'access',
    version: 2,
    description: 'access_context(): the context of one decision in one call',
    sql: contextFunctionSql(),
  },
  {
    module: 'access',
    version: 3,
    description: 'access_context(): care teams joined, not listed among the principals',
    sql: contextFunctionSql(),
  },
  {
    module: 'access',
    version: 4,
    description: 'membership by (member, group): is the caller on this care team',
    sql: `create index access_membership_member_group on access_membership (member, group_ref);`,
  },
  {
    module: 'access',
    version: 5,
    description: 'relationships that name a care team, for reaching a caller through the teams they are on',
    sql: `create index access_relationship_team on access_relationship (principal) where principal like 'CareTeam/%';`,
  },
  {
    module: 'access',
    version: 6,
    description: "a caller's own groups (wards, departments, organizations) without their care teams",
    // A physician is on a care team per patient: the principal lookup must not wade through those.
    sql: `create index access_membership_member_groups on access_membership (member) where kind <> 'care-team';`,
  },
  {
    module: 'access',
    version: 7,
    description: 'access_context(): the patient row read once, generic plans kept, how long the context holds',
    sql: contextFunctionSql(),
  },
  {
    module: 'access',
    version: 8,
    description: 'access_context(): care teams that name the caller through a PractitionerRole',
    sql: contextFunctionSql(),
  },
  {
    module: 'access',
    version: 9,
    description:
      "self-made relationships and memberships give their author nothing; appointments bounded; results belong to their order's patient; consents naming groups",
    // made_by, made_as: the author's practitioner, and what let them write it, when the write was not
    // made from within the patient's care (policy.selfMadeBy). Rows already stored have no known author and keep counting. Appointments
    // already stored are cut to the window relationships.ts now gives them.
    sql: `
      alter table access_relationship add column made_by text, add column made_as text;
      alter table access_membership add column made_by text;
      delete from access_relationship where kind = 'appointment' and starts_at is null;
      update access_relationship set ends_at = starts_at + interval '24 hours'
        where kind = 'appointment' and (ends_at is null or ends_at > starts_at + interval '24 hours');
      ${contextFunctionSql()}`,
  },
  {
    module: 'access',
    version: 10,
    description: 'how far each reader has read the notifications (the console shows the unread count)',
    sql: `
      create table access_notification_read (
        account_id text primary key,
        read_up_to bigint not null
      );
    `,
  },
];
