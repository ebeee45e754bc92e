/**
 * The guard's table: one row per alarm line the server's guard wrote, so that any Carewall process
 * can show them (the console, the posture dashboard). Counts and share names only: file paths can
 * carry patients' names and stay in the alerts file (0600) on the machine that watches.
 */
import type { Migration } from '../db/index.js';

export const guardMigrations: Migration[] = [
  {
    module: 'guard',
    version: 1,
    description: 'ransomware guard alarms (counts and share names, never paths)',
    sql: `
      create table guard_alarm (
        id bigint generated always as identity primary key,
        raised_at timestamptz not null,
        severity text not null check (severity in ('critical', 'high')),
        reason text not null,
        incident_since timestamptz not null,
        shares text[] not null,
        files int not null,
        affected int not null,
        host text not null);
      create index guard_alarm_raised on guard_alarm (raised_at);
    `,
  },
];
