/** Staff awareness (http/awarenessRoutes): campaigns, their figures, reports and the triage queue. */
import { Type, type Static } from '@sinclair/typebox';
import { Nullable, OneOf, Time } from './shapes.js';

/** The contract of GET /api/awareness/campaigns/{id}/results (README). */
export const AwarenessResults = Type.Object({
  sent: Type.Integer(),
  delivered: Type.Integer(),
  opened: Type.Integer(),
  clicked: Type.Integer(),
  clickedByScanners: Type.Integer(),
  submitted: Type.Integer(),
  reported: Type.Integer(),
  trained: Type.Integer(),
  phishProne: Type.Number(),
  reportRate: Type.Number(),
  medianMinutesToFirstReport: Nullable(Type.Number()),
});
export type AwarenessResults = Static<typeof AwarenessResults>;

const Reason = Type.Object({ code: Type.String(), text: Type.String() });

/** The contract of POST /api/awareness/reports (README). */
export const AwarenessReportAnswer = Type.Object({
  id: Type.String(),
  verdict: OneOf(['phishing', 'suspicious', 'clean']),
  reasons: Type.Array(Reason),
  simulation: Type.Optional(Type.Boolean()),
});
export type AwarenessReportAnswer = Static<typeof AwarenessReportAnswer>;

export const AwarenessCampaigns = Type.Array(
  Type.Object({
    id: Type.String(),
    name: Type.String(),
    groupId: Type.String(),
    groupName: Type.String(),
    templates: Type.Array(Type.String()),
    plan: Type.Object({
      window: Type.Object({ start: Type.String(), end: Type.String(), from: Type.String(), to: Type.String(), days: Type.Array(Type.Integer()) }),
      landingPage: Type.Boolean(),
      dryRun: Type.Boolean(),
    }),
    state: OneOf(['scheduled', 'sending', 'finished', 'cancelled']),
    createdBy: Type.String(),
    createdAt: Time,
    targets: Type.Integer(),
  }),
);
export type AwarenessCampaigns = Static<typeof AwarenessCampaigns>;

export const AwarenessTrend = Type.Array(
  Type.Intersect([Type.Object({ campaign: Type.String(), name: Type.String(), sentFrom: Type.Optional(Time), trainedShare: Type.Number() }), AwarenessResults]),
);
export type AwarenessTrend = Static<typeof AwarenessTrend>;

export const AwarenessDepartments = Type.Array(Type.Intersect([Type.Object({ department: Type.String(), people: Type.Integer() }), AwarenessResults]));
export type AwarenessDepartments = Static<typeof AwarenessDepartments>;

const PersonLine = Type.Object({
  sentAt: Nullable(Time),
  delivered: Type.Boolean(),
  opened: Type.Boolean(),
  clicked: Type.Boolean(),
  submitted: Type.Boolean(),
  reported: Type.Boolean(),
  trained: Type.Boolean(),
  scannerClicks: Type.Integer(),
});

export const AwarenessPeopleResults = Type.Array(
  Type.Intersect([Type.Object({ person: Type.Object({ name: Type.String(), email: Type.String(), department: Type.String() }) }), PersonLine]),
);
export type AwarenessPeopleResults = Static<typeof AwarenessPeopleResults>;

export const AwarenessMine = Type.Object({
  enrolled: Type.Boolean(),
  coursePassed: Type.Boolean(),
  history: Type.Array(Type.Intersect([Type.Object({ campaign: Type.String(), message: Type.String() }), PersonLine])),
});
export type AwarenessMine = Static<typeof AwarenessMine>;

export const AwarenessReport = Type.Object({
  id: Type.String(),
  reporter: Type.String(),
  receivedAt: Time,
  via: OneOf(['button', 'mailbox']),
  simulation: Type.Boolean(),
  verdict: Type.String(),
  score: Type.Number(),
  reasons: Type.Array(Reason),
  sender: Type.String(),
  subject: Type.String(),
  links: Type.Array(Type.String()),
  fingerprint: Type.String(),
  outcome: Type.Optional(Type.String()),
  outcomeNote: Type.Optional(Type.String()),
  decidedBy: Type.Optional(Type.String()),
  decidedAt: Type.Optional(Time),
});
export type AwarenessReport = Static<typeof AwarenessReport>;

export const AwarenessQueue = Type.Object({
  reports: Type.Array(AwarenessReport),
  clusters: Type.Array(
    Type.Object({
      fingerprint: Type.String(),
      reports: Type.Integer(),
      reporters: Type.Integer(),
      first: Time,
      verdict: Type.String(),
      subject: Type.String(),
      sender: Type.String(),
      ids: Type.Array(Type.String()),
    }),
  ),
});
export type AwarenessQueue = Static<typeof AwarenessQueue>;

/** GET /api/awareness/reports/mine: what one has reported and what became of it. */
export const AwarenessMyReports = Type.Array(AwarenessReport);
export type AwarenessMyReports = Static<typeof AwarenessMyReports>;

/** POST /api/awareness/reports/{id}/decision: how many reports of the same message were decided. */
export const AwarenessDecided = Type.Object({ decided: Type.Integer() });

const Group = Type.Object({ id: Type.String(), name: Type.String(), members: Type.Integer(), departments: Type.Array(Type.String()) });
/** GET and POST /api/awareness/groups. */
export const AwarenessGroups = Type.Array(Group);
export type AwarenessGroups = Static<typeof AwarenessGroups>;
export const AwarenessGroup = Group;

/** POST /api/awareness/campaigns: the campaign made and how many people it will reach. */
export const AwarenessCreated = Type.Object({ id: Type.String(), targets: Type.Integer() });

/** GET /api/awareness/people (the awareness officer's): everyone the programme knows, as stored. */
export const AwarenessPeople = Type.Array(
  Type.Object({
    id: Type.String(),
    email: Type.String(),
    firstName: Type.String(),
    lastName: Type.String(),
    department: Type.String(),
    position: Type.String(),
    timeZone: Type.String(),
    username: Type.Optional(Type.String()),
    source: Type.Union([Type.Literal('accounts'), Type.Literal('csv')]),
    active: Type.Boolean(),
    courseEnrolledAt: Type.Optional(Time),
    coursePassedAt: Type.Optional(Time),
  }),
);
export type AwarenessPeople = Static<typeof AwarenessPeople>;

/** GET /api/awareness/templates: every template, shipped or the clinic's own, whole. */
export const AwarenessTemplates = Type.Array(
  Type.Object({
    id: Type.String(),
    name: Type.String(),
    difficulty: Type.Union([Type.Literal(1), Type.Literal(2), Type.Literal(3)]),
    subject: Type.String(),
    fromName: Type.String(),
    fromAddress: Type.String(),
    html: Type.String(),
    text: Type.String(),
    lesson: Type.String(),
    landingPage: Type.String(),
    tells: Type.Array(
      Type.Object({
        marker: Type.String(),
        in: Type.Union([Type.Literal('from'), Type.Literal('subject'), Type.Literal('body')]),
        explanation: Type.String(),
      }),
    ),
    shipped: Type.Boolean(),
  }),
);
export type AwarenessTemplates = Static<typeof AwarenessTemplates>;

/** GET /api/awareness/lessons: the lessons (trusted HTML fragments shipped with Carewall) and their quizzes. */
export const AwarenessLessons = Type.Array(
  Type.Object({
    id: Type.String(),
    title: Type.String(),
    minutes: Type.Number(),
    html: Type.String(),
    quiz: Type.Array(Type.Object({ question: Type.String(), choices: Type.Array(Type.String()), answer: Type.Integer(), why: Type.String() })),
    course: Type.Optional(Type.Boolean()),
  }),
);
export type AwarenessLessons = Static<typeof AwarenessLessons>;

/** POST /api/awareness/people/sync and /import: how many people were added and updated. */
export const AwarenessSynced = Type.Object({ added: Type.Integer(), updated: Type.Integer() });
export type AwarenessSynced = Static<typeof AwarenessSynced>;

/** GET /api/awareness/mailboxes/search: where a message still sits (security admin). */
export const AwarenessMailboxHits = Type.Object({
  hits: Type.Array(
    Type.Object({ mailbox: Type.String(), date: Type.Optional(Time), from: Type.Optional(Type.String()), subject: Type.Optional(Type.String()) }),
  ),
  searched: Type.Integer(),
  failed: Type.Integer(),
});
export type AwarenessMailboxHits = Static<typeof AwarenessMailboxHits>;
