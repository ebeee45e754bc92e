/** Rollouts of equipment releases (http/directorRoutes). */
import { Type, type Static } from '@sinclair/typebox';
import { Nullable, OneOf, Time } from './shapes.js';

export const RolloutBody = Type.Object(
  {
    target: Type.String({ maxLength: 200 }),
    canary: Type.String({ maxLength: 64 }),
    /** Sizes of the waves after the canary; the devices left over form the last wave. */
    waves: Type.Array(Type.Integer({ minimum: 1 }), { maxItems: 20 }),
  },
  { additionalProperties: false },
);
export type RolloutBody = Static<typeof RolloutBody>;

export const Rollout = Type.Object({
  id: Type.String(),
  deviceClass: Type.String(),
  target: Type.String(),
  state: OneOf(['active', 'halted', 'replaced']),
  openWaves: Type.Integer(),
  waves: Type.Array(Type.Object({ devices: Type.Array(Type.Object({ id: Type.String(), installed: Type.Boolean() })) })),
  createdBy: Type.String(),
  createdAt: Time,
  events: Type.Array(Type.Object({ action: Type.String(), by: Type.String(), reason: Nullable(Type.String()), at: Time })),
});
export type Rollout = Static<typeof Rollout>;
export const RolloutList = Type.Array(Rollout);
export type RolloutList = Static<typeof RolloutList>;

export const ReasonBody = Type.Object({ reason: Type.String({ maxLength: 2000 }) }, { additionalProperties: false });
export type ReasonBody = Static<typeof ReasonBody>;
