/** The posture capability's tables (docs/posture.md): attestations kept as history, and the daily snapshots. */
import type { Migration } from '../db/index.js';

export const postureMigrations: Migration[] = [
  {
    module: 'posture',
    version: 1,
    description: 'attestations (every one kept; the last per item counts) and the scorecard snapshots',
    sql: `
      create table posture_attestation (
        n bigint generated always as identity primary key,
        item text not null,
        status text not null check (status in ('compliant', 'partial', 'not-applicable')),
        owner text not null,
        note text not null,
        attested_at timestamptz not null,
        expires_at timestamptz not null check (expires_at > attested_at),
        -- the evidence file, sealed with the general key; its SHA-256 goes into the audit log too
        evidence_sealed bytea,
        evidence_sha256 text,
        evidence_name text);
      create index posture_attestation_item on posture_attestation (item, n desc);

      -- One scorecard a day (and on demand); its SHA-256 is recorded in the audit log, so the trend cannot be rewritten unseen.
      create table posture_snapshot (
        taken_at timestamptz primary key,
        card jsonb not null,
        sha256 text not null);
    `,
  },
];
