/** Advisories matched to equipment (http/advisoryRoutes). */
import { Type, type Static } from '@sinclair/typebox';
import { Nullable, OneOf, Time } from './shapes.js';

export const DeviceAdvisories = Type.Object({
  advisories: Type.Array(
    Type.Object({
      advisory: Type.String(),
      title: Type.String(),
      vulnerability: Type.String(),
      vulnerabilityTitle: Type.String(),
      severity: Nullable(Type.String()),
      certainty: OneOf(['exact', 'range', 'uncertain']),
      decision: Nullable(OneOf(['confirmed', 'rejected'])),
      via: Type.String(),
      productId: Type.String(),
      status: OneOf(['affected', 'not_affected', 'fixed', 'under_investigation']),
      statusFrom: OneOf(['advisory', 'engineer', 'fixing-release']),
      justification: Nullable(Type.String()),
      fixedBy: Type.Array(Type.String()),
      fixes: Type.Array(Type.String()),
    }),
  ),
  history: Type.Array(
    Type.Object({
      advisory: Type.String(),
      vulnerability: Type.String(),
      status: Type.String(),
      justification: Nullable(Type.String()),
      note: Type.String(),
      by: Type.String(),
      at: Time,
    }),
  ),
});
export type DeviceAdvisories = Static<typeof DeviceAdvisories>;

export const AdvisoryList = Type.Array(
  Type.Object({
    id: Type.String(),
    version: Type.String(),
    title: Type.String(),
    severity: Nullable(Type.String()),
    vulnerabilities: Type.Integer(),
    devices: Type.Integer(),
  }),
);
export type AdvisoryList = Static<typeof AdvisoryList>;
