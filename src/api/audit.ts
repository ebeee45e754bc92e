/** The console's views of the audit log: a patient's access report and the log's health (http/auditRoutes, consoleRoutes). */
import { Type, type Static } from '@sinclair/typebox';
import { Nullable, Time } from './shapes.js';

/** GET /api/patients/:id/access-report?from=&to= */
export const AccessReportQuery = Type.Object({ from: Type.Optional(Type.String()), to: Type.Optional(Type.String()) });
export type AccessReportQuery = Static<typeof AccessReportQuery>;

/** One access to the patient's record: who, when, in which role, what, and why in words. */
export const ReportLine = Type.Object({
  record: Type.Integer(),
  time: Time,
  user: Type.String(),
  /** The user as colleagues and patients know them (the staff directory's name), when the reader may see it. */
  userName: Type.Optional(Type.String()),
  practitioner: Type.Optional(Type.String()),
  roles: Type.Array(Type.String()),
  action: Type.String(),
  resource: Type.Optional(Type.String()),
  outcome: Type.String(),
  purposeOfUse: Type.Optional(Type.String()),
  why: Type.String(),
  /** The care relationships that allowed it, by kind (general-practitioner, care-team, encounter, ward, ...). */
  relationships: Type.Optional(Type.Array(Type.String())),
  basis: Type.Optional(Type.String()),
  grant: Type.Optional(Type.String()),
});
export type ReportLine = Static<typeof ReportLine>;

export const AccessReport = Type.Object({
  patient: Type.String(),
  generated: Time,
  period: Type.Object({ from: Nullable(Type.String()), to: Nullable(Type.String()) }),
  total: Type.Integer(),
  byUser: Type.Array(
    Type.Object({
      user: Type.String(),
      userName: Type.Optional(Type.String()),
      practitioner: Type.Optional(Type.String()),
      roles: Type.Array(Type.String()),
      accesses: Type.Integer(),
      refused: Type.Integer(),
      first: Time,
      last: Time,
    }),
  ),
  accesses: Type.Array(ReportLine),
});
export type AccessReport = Static<typeof AccessReport>;

/** POST /api/audit/verify: `carewall audit verify` run by the server. */
export const AuditVerification = Type.Object({
  ok: Type.Boolean(),
  size: Type.Integer(),
  checkpointsChecked: Type.Integer(),
  firstBadIndex: Nullable(Type.Integer()),
  /** At most ten, in Carewall's words. */
  problems: Type.Array(Type.String()),
  seconds: Type.Number(),
  at: Time,
  latestCheckpointSize: Type.Integer(),
});
export type AuditVerification = Static<typeof AuditVerification>;
