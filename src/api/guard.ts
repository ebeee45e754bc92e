/** The ransomware guard's state and alarms (counts and share names, never paths), and where backups stand (http/guardRoutes). */
import { Type, type Static } from '@sinclair/typebox';
import { Nullable, OneOf, Time } from './shapes.js';

export const GuardAlarm = Type.Object({
  id: Type.String(),
  at: Time,
  severity: OneOf(['critical', 'high']),
  reason: Type.String(),
  since: Time,
  shares: Type.Array(Type.String()),
  files: Type.Integer(),
  affected: Type.Integer(),
});
export type GuardAlarm = Static<typeof GuardAlarm>;

/** Where the protective snapshot went (or why it failed), in counts. */
export const GuardSnapshot = Type.Object({
  location: Type.Optional(Type.String()),
  files: Type.Optional(Type.Integer()),
  bytes: Type.Optional(Type.Integer()),
  changedMeanwhile: Type.Optional(Type.Integer()),
  error: Type.Optional(Type.String()),
});
export type GuardSnapshot = Static<typeof GuardSnapshot>;

/** GET /api/guard */
export const GuardView = Type.Object({
  enabled: Type.Boolean(),
  watching: Type.Boolean(),
  shares: Type.Array(Type.String()),
  decoys: Type.Boolean(),
  readOnlyOnAlarm: Type.Boolean(),
  readOnly: Type.Boolean(),
  incident: Type.Optional(Type.Object({ since: Time, affected: Type.Integer(), snapshot: Type.Optional(GuardSnapshot) })),
  alarms: Type.Array(GuardAlarm),
  /** What "undo the attack" is typed with, once a backup repository exists (the shares' folders and the recovery key's file in the demo only). */
  undo: Type.Optional(
    Type.Object({
      repository: Type.String(),
      folders: Type.Optional(Type.Record(Type.String(), Type.String())),
      recoveryKeyFile: Type.Optional(Type.String()),
    }),
  ),
});
export type GuardView = Static<typeof GuardView>;

/** POST /api/guard/release */
export const GuardReleased = Type.Object({ writable: Type.Integer(), incidentFile: Type.Optional(Type.String()) });
export type GuardReleased = Static<typeof GuardReleased>;

/** GET /api/backups/status: where backups stand (administrators and security administrators). */
export const BackupStatusView = Type.Object({
  setUp: Type.Boolean(),
  everyHours: Type.Number(),
  repository: Nullable(Type.String()),
  lastRun: Nullable(Type.Object({ at: Time, ok: Type.Boolean(), seconds: Type.Number(), error: Type.Optional(Type.String()) })),
  lastSuccessAt: Nullable(Time),
  lastRestoreTest: Nullable(Type.Object({ at: Time, ok: Type.Boolean(), seconds: Type.Number() })),
});
export type BackupStatusView = Static<typeof BackupStatusView>;
