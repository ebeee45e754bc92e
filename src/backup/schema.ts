/** The backup module's tables: runs, restore-test evidence, and the mass-change counters. */
import type { Migration } from '../db/index.js';

export const backupMigrations: Migration[] = [
  {
    module: 'backup',
    version: 1,
    description: 'backup runs, restore tests, per-account change counters',
    sql: `
      create table backup_run (
        id bigint generated always as identity primary key,
        started_at timestamptz not null,
        seconds double precision not null,
        reason text not null,
        repository text not null,
        snapshot text,
        ok boolean not null,
        -- counts and sizes only; an error message never carries file names or record contents
        stats jsonb not null default '{}',
        error text);
      create table backup_restore_test (
        evidence text primary key,
        snapshot text not null,
        tested_at timestamptz not null,
        ok boolean not null,
        seconds double precision not null,
        report jsonb not null,
        recorded_at timestamptz not null default now());
      create table backup_change_count (
        account_id text not null,
        bucket timestamptz not null,
        changes int not null,
        primary key (account_id, bucket));
      create table backup_suspension (
        id bigint generated always as identity primary key,
        at timestamptz not null default now(),
        account_id text not null,
        username text not null,
        changes int not null,
        window_seconds int not null);
    `,
  },
];
