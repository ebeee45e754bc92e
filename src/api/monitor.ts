/** The live insider-misuse monitor's alerts and cases, for privacy officers (http/monitorRoutes). */
import { Type, type Static } from '@sinclair/typebox';
import { Nullable, OneOf, Time } from './shapes.js';

export const StoredAlert = Type.Object({
  id: Type.String(),
  user: Type.String(),
  patients: Type.Array(Type.String()),
  scenario: Type.String(),
  score: Type.Number(),
  firstAccess: Time,
  lastAccess: Time,
  evidence: Type.Array(Type.String()),
  caseId: Nullable(Type.String()),
  createdAt: Time,
});
export type StoredAlert = Static<typeof StoredAlert>;

/** GET /api/monitor/alerts?status= */
export const AlertsQuery = Type.Object({ status: Type.Optional(OneOf(['new', 'cased', 'all'])) });
export type AlertsQuery = Static<typeof AlertsQuery>;
export const AlertList = Type.Object({ alerts: Type.Array(StoredAlert) });
export type AlertList = Static<typeof AlertList>;

export const CaseStatus = OneOf(['open', 'investigating', 'closed']);
export const Resolution = OneOf(['violation', 'legitimate', 'false-positive']);

export const CaseSummary = Type.Object({
  id: Type.String(),
  title: Type.String(),
  status: CaseStatus,
  resolution: Nullable(Resolution),
  assignee: Nullable(Type.String()),
  user: Type.String(),
  scenarios: Type.Array(Type.String()),
  alertCount: Type.Integer(),
  createdAt: Time,
  updatedAt: Time,
});
export type CaseSummary = Static<typeof CaseSummary>;

/** GET /api/monitor/cases?status= */
export const CasesQuery = Type.Object({ status: Type.Optional(OneOf(['open', 'investigating', 'closed', 'all'])) });
export type CasesQuery = Static<typeof CasesQuery>;
export const CaseList = Type.Object({ cases: Type.Array(CaseSummary) });
export type CaseList = Static<typeof CaseList>;

/** GET /api/monitor/cases/:id */
export const CaseDetail = Type.Composite([
  CaseSummary,
  Type.Object({
    alerts: Type.Array(StoredAlert),
    timeline: Type.Array(Type.Object({ at: Time, by: Type.String(), kind: OneOf(['opened', 'assigned', 'status', 'note']), text: Type.String() })),
    accesses: Type.Array(Type.Object({ time: Time, action: Type.String(), patient: Type.String(), resource: Nullable(Type.String()), outcome: Type.String() })),
  }),
]);
export type CaseDetail = Static<typeof CaseDetail>;

/** POST /api/monitor/cases: the alerts' existence and their one user are the service's to check. */
export const NewCaseBody = Type.Object({ alerts: Type.Array(Type.String(), { minItems: 1 }), title: Type.Optional(Type.String()) });
export type NewCaseBody = Static<typeof NewCaseBody>;

/** POST /api/monitor/cases/:id/assign */
export const AssignBody = Type.Object({ assignee: Type.String() });

/** GET /api/monitor/assignees: who a case may be given to (active privacy officers), by name. */
export const AssigneeList = Type.Object({ assignees: Type.Array(Type.Object({ username: Type.String(), name: Type.String() })) });
export type AssigneeList = Static<typeof AssigneeList>;
export type AssignBody = Static<typeof AssignBody>;

/** POST /api/monitor/cases/:id/notes */
export const NoteBody = Type.Object({ text: Type.String() });
export type NoteBody = Static<typeof NoteBody>;

/** POST /api/monitor/cases/:id/status: which combinations are allowed is the service's to check. */
export const CaseStatusBody = Type.Object({
  status: OneOf(['investigating', 'closed']),
  resolution: Type.Optional(Resolution),
  note: Type.Optional(Type.String()),
});
export type CaseStatusBody = Static<typeof CaseStatusBody>;

/** GET /api/monitor/watch: what the alert budget held back, most improbable first (not accusations). */
export const WatchItem = Type.Object({
  id: Type.String(),
  user: Type.String(),
  scenario: Type.String(),
  patients: Type.Array(Type.String()),
  p: Type.Number(),
  level: Type.Number(),
  weight: Type.Optional(Type.Number()),
  firstAccess: Time,
  lastAccess: Time,
  evidence: Type.Array(Type.String()),
  scannedAt: Time,
});
export type WatchItem = Static<typeof WatchItem>;
export const WatchList = Type.Object({ watch: Type.Array(WatchItem) });
export type WatchList = Static<typeof WatchList>;

/** POST /api/monitor/watch/:id/case: why the entry is worth a case (sealed in its timeline). */
export const WatchCaseBody = Type.Object({ reason: Type.String(), title: Type.Optional(Type.String()) });
export type WatchCaseBody = Static<typeof WatchCaseBody>;

/** GET /api/monitor/learning: what closed cases taught (patterns weighed down) and every change. */
export const LearningList = Type.Object({
  weights: Type.Array(
    Type.Object({
      scenario: Type.String(),
      role: Type.String(),
      department: Nullable(Type.String()),
      departmentName: Nullable(Type.String()),
      weight: Type.Number(),
      updatedAt: Time,
    }),
  ),
  changes: Type.Array(
    Type.Object({
      at: Time,
      by: Type.String(),
      caseId: Type.String(),
      resolution: Resolution,
      scenario: Type.String(),
      role: Type.String(),
      department: Nullable(Type.String()),
      departmentName: Nullable(Type.String()),
      before: Type.Number(),
      after: Type.Number(),
    }),
  ),
});
export type LearningList = Static<typeof LearningList>;
