/** The bulk module's tables: export jobs (with their approval) and the files they produced. */
import type { Migration } from '../db/index.js';

export const bulkMigrations: Migration[] = [
  {
    module: 'bulk',
    version: 1,
    description: 'Bulk Data export jobs, approved by a second person, and their files (sealed, for a limited time)',
    sql: `
      create table bulk_export_job (
        id text primary key,
        level text not null check (level in ('system', 'patient')),
        -- a patient-level export confined to these patients (none: every patient the requester may see)
        patients text[],
        types text[] not null,
        since timestamptz,
        -- the requester as they were authenticated (account or client, roles, scopes): the export
        -- runs under their access rules, never wider
        requester jsonb not null,
        status text not null check (status in ('awaiting-approval', 'running', 'completed', 'failed', 'rejected')),
        requested_at timestamptz not null default now(),
        decided_by text,
        decided_at timestamptz,
        decision_note text,
        transaction_time timestamptz,
        completed_at timestamptz,
        expires_at timestamptz,
        error text,
        summary jsonb);

      -- One NDJSON file per type (or per 10,000 resources), sealed under the general data key;
      -- deleted once the job expires.
      create table bulk_export_file (
        job_id text not null references bulk_export_job (id),
        seq int not null,
        resource_type text not null,
        count int not null,
        body bytea not null,
        primary key (job_id, seq));
    `,
  },
  {
    module: 'bulk',
    version: 2,
    description: 'The kick-off request as sent, for the manifest',
    sql: `alter table bulk_export_job add column request text;`,
  },
  {
    module: 'bulk',
    version: 3,
    description: 'A job its requester cancelled (DELETE on the status URL): files gone, approval request withdrawn',
    sql: `
      alter table bulk_export_job drop constraint bulk_export_job_status_check;
      alter table bulk_export_job add constraint bulk_export_job_status_check
        check (status in ('awaiting-approval', 'running', 'completed', 'failed', 'rejected', 'cancelled'));
    `,
  },
  {
    module: 'bulk',
    version: 4,
    description: 'Group-level export (Group/{id}/$export): over the members of a Group the requester may see',
    sql: `
      alter table bulk_export_job drop constraint bulk_export_job_level_check;
      alter table bulk_export_job add constraint bulk_export_job_level_check check (level in ('system', 'patient', 'group'));
      -- the Group whose members the export covers, resolved when it runs (its members as of then)
      alter table bulk_export_job add column group_id text;
    `,
  },
  {
    module: 'bulk',
    version: 5,
    description: '_elements on export, and the patients each file holds (counted before _elements may drop their references)',
    sql: `
      alter table bulk_export_job add column elements text[];
      alter table bulk_export_file add column patients int;
    `,
  },
  {
    module: 'bulk',
    version: 6,
    description: 'Parameters ignored at the request of the client (Prefer: handling=lenient), reported in the manifest',
    sql: `
      alter table bulk_export_job add column ignored text[];
    `,
  },
];
