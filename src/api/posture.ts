/** The posture scorecard (http/postureRoutes): the contract of GET /api/posture (README). */
import { Type, type Static } from '@sinclair/typebox';
import { OneOf, Time } from './shapes.js';

const Item = Type.Object({
  id: Type.String(),
  title: Type.String(),
  status: OneOf(['compliant', 'partial', 'missing', 'not-applicable']),
  source: OneOf(['measured', 'attested']),
  evidence: Type.Array(Type.Object({ kind: Type.String(), text: Type.String(), at: Time })),
  next: Type.Optional(Type.String()),
});

export const PostureScorecard = Type.Object({
  generatedAt: Time,
  summary: Type.Object({ inPlace: Type.Integer(), total: Type.Integer(), text: Type.String() }),
  threats: Type.Array(Type.Object({ id: Type.String(), title: Type.String(), score: Type.Number() })),
  goals: Type.Optional(Type.Array(Type.Object({ id: Type.String(), kind: OneOf(['essential', 'enhanced']), title: Type.String(), score: Type.Number() }))),
  practices: Type.Array(Type.Object({ id: Type.String(), title: Type.String(), score: Type.Number(), items: Type.Array(Item) })),
});
export type PostureScorecard = Static<typeof PostureScorecard>;

export const PostureHistory = Type.Array(
  Type.Object({ at: Time, inPlace: Type.Integer(), total: Type.Integer(), threats: Type.Record(Type.String(), Type.Number()), sha256: Type.String() }),
);
export type PostureHistory = Static<typeof PostureHistory>;

export const PostureAttestation = Type.Object({
  item: Type.String(),
  status: OneOf(['compliant', 'partial', 'not-applicable']),
  owner: Type.String(),
  note: Type.String(),
  attestedAt: Time,
  expiresAt: Time,
  evidenceSha256: Type.Optional(Type.String()),
});
export type PostureAttestation = Static<typeof PostureAttestation>;
export const PostureAttestations = Type.Array(PostureAttestation);
export type PostureAttestations = Static<typeof PostureAttestations>;

export const PostureNext = Type.Array(
  Type.Object({ item: Type.String(), title: Type.String(), next: Type.String(), practice: Type.String(), practiceId: Type.String() }),
);
export type PostureNext = Static<typeof PostureNext>;
