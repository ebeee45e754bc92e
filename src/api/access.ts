/** Access to patients: my patients, break-the-glass and its review, explaining a decision (http/accessRoutes, consoleRoutes). */
import { Type, type Static } from '@sinclair/typebox';
import { Digits, Nullable, OneOf, Time } from './shapes.js';

/** GET /api/my-patients */
export const MyPatientsQuery = Type.Object({ name: Type.Optional(Type.String()), count: Type.Optional(Digits), offset: Type.Optional(Digits) });
export type MyPatientsQuery = Static<typeof MyPatientsQuery>;

export const MyPatients = Type.Object({
  total: Type.Integer(),
  patients: Type.Array(
    Type.Object({
      id: Type.String(),
      name: Type.String(),
      birthDate: Nullable(Type.String()),
      gender: Nullable(Type.String()),
      /** Why the patient is on the caller's list, in words a clinician reads at a glance. */
      why: Type.Array(Type.String()),
    }),
  ),
});
export type MyPatients = Static<typeof MyPatients>;

/** GET /api/patients/lookup?q= : a name (3 letters or more), a full birth date (YYYY-MM-DD) or a record number. */
export const PatientLookupQuery = Type.Object({ q: Type.String({ maxLength: 100 }) });
export type PatientLookupQuery = Static<typeof PatientLookupQuery>;

/** GET /api/patients/identify?ids=a,b,c: the patients an audit record names, by id (at most 100). */
export const PatientIdentifyQuery = Type.Object({ ids: Type.String({ maxLength: 4000, pattern: '^[A-Za-z0-9\\-.]{1,64}(,[A-Za-z0-9\\-.]{1,64}){0,99}$' }) });
export type PatientIdentifyQuery = Static<typeof PatientIdentifyQuery>;

/** Who each matching person is, and nothing clinical: at most 20, each look-up recorded. */
export const PatientLookup = Type.Object({
  patients: Type.Array(
    Type.Object(
      {
        id: Type.String(),
        name: Type.String(),
        birthDate: Nullable(Type.String()),
        /** The medical record number. */
        mrn: Nullable(Type.String()),
      },
      { additionalProperties: false },
    ),
  ),
});
export type PatientLookup = Static<typeof PatientLookup>;

/** ?status= of the review lists. */
export const ReviewStatusQuery = Type.Object({ status: Type.Optional(OneOf(['unreviewed', 'reviewed', 'all'])) });
export type ReviewStatusQuery = Static<typeof ReviewStatusQuery>;

/**
 * POST /api/break-glass and /api/investigations. Types only: the reason codes, lengths and the
 * patient's existence are the grants service's to check (the CLI calls it too).
 */
export const GrantBody = Type.Object({
  patient: Type.String(),
  reason: Type.String(),
  justification: Type.Optional(Type.String()),
});
export type GrantBody = Static<typeof GrantBody>;

export const GrantOpened = Type.Object({ id: Type.String(), patient: Type.String(), expiresAt: Time });
export type GrantOpened = Static<typeof GrantOpened>;

const Review = Type.Object({ by: Type.String(), at: Time, decision: Type.String(), note: Type.String() });

/** One access made under a grant, or to a restricted patient. */
export const UseSummary = Type.Object({
  id: Type.String(),
  kind: Type.String(),
  username: Type.String(),
  patient: Type.String(),
  action: Type.String(),
  resource: Type.String(),
  at: Time,
  reviewed: Type.Boolean(),
  review: Type.Optional(Review),
});
export type UseSummary = Static<typeof UseSummary>;

/** A member of staff as colleagues know them: the directory's name and the account's roles. */
export const StaffName = Type.Object({ name: Type.String(), roles: Type.Array(Type.String()) });
export type StaffName = Static<typeof StaffName>;

/** Who a patient is and nothing more (records/identify.ts). */
export const PatientIdentity = Type.Object({ name: Type.String(), birthDate: Nullable(Type.String()), mrn: Nullable(Type.String()) });
export type PatientIdentity = Static<typeof PatientIdentity>;

export const GrantSummary = Type.Object({
  id: Type.String(),
  kind: OneOf(['break-glass', 'investigation']),
  username: Type.String(),
  /** The user by name (absent for an account the directory no longer has). */
  user: Type.Optional(StaffName),
  patient: Type.String(),
  /** Who the patient is, for a caller who may identify patients (a privacy officer); each one named is recorded. */
  patientIdentity: Type.Optional(PatientIdentity),
  /** The reviewer by name, once reviewed. */
  reviewerName: Type.Optional(Type.String()),
  reason: Type.String(),
  justification: Type.String(),
  startedAt: Time,
  expiresAt: Time,
  active: Type.Boolean(),
  status: OneOf(['unreviewed', 'reviewed']),
  review: Type.Optional(Review),
  uses: Type.Array(UseSummary),
});
export type GrantSummary = Static<typeof GrantSummary>;

/** GET /api/break-glass, /api/investigations */
export const GrantList = Type.Object({ grants: Type.Array(GrantSummary) });
export type GrantList = Static<typeof GrantList>;

/** POST /api/break-glass/:id/review (and the other reviews): the decision's words are the service's to check. */
export const ReviewBody = Type.Object({ decision: Type.String(), note: Type.Optional(Type.String()) });
export type ReviewBody = Static<typeof ReviewBody>;

export const IdParams = Type.Object({ id: Type.String() });
export type IdParams = Static<typeof IdParams>;

/** Why an access was allowed (access/decision.ts Grounds). */
export const Grounds = Type.Object({
  basis: Type.String(),
  scope: Type.Optional(Type.String()),
  roleScope: Type.Optional(Type.String()),
  purposeOfUse: Type.Optional(Type.String()),
  relationships: Type.Optional(Type.Array(Type.Object({ kind: Type.String(), source: Type.String(), principal: Type.String(), direct: Type.Boolean() }))),
  grantId: Type.Optional(Type.String()),
  flagged: Type.Optional(Type.Boolean()),
});

/** GET /api/access/explain?user=&patient= */
export const ExplainQuery = Type.Object({ user: Type.String(), patient: Type.String() });
export type ExplainQuery = Static<typeof ExplainQuery>;

export const Explanation = Type.Object({
  user: Type.String(),
  /** Absent when the account is disabled or expired. */
  roles: Type.Optional(Type.Array(Type.String())),
  practitioner: Type.Optional(Nullable(Type.String())),
  patient: Type.String(),
  allowed: Type.Boolean(),
  reason: Type.String(),
  grounds: Type.Optional(Grounds),
});
export type Explanation = Static<typeof Explanation>;

/** GET /api/notifications: the latest 200, newest first, each read or not by the caller; how many are unread. */
export const NotificationList = Type.Object({
  notifications: Type.Array(
    Type.Object({ id: Type.String(), at: Time, kind: Type.String(), grant: Nullable(Type.String()), message: Type.String(), read: Type.Boolean() }),
  ),
  unread: Type.Integer(),
});
export type NotificationList = Static<typeof NotificationList>;

/** POST /api/notifications/read: everything up to this notification (one the caller was shown) is read. */
export const NotificationsRead = Type.Object({ upTo: Type.String() });
export type NotificationsRead = Static<typeof NotificationsRead>;
