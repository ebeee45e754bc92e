/** The equipment inventory (http/inventoryRoutes). */
import { Type, type Static } from '@sinclair/typebox';
import { Nullable, Time } from './shapes.js';

export const FleetDevice = Type.Object({
  id: Type.String(),
  deviceId: Type.String(),
  vendor: Type.String(),
  model: Type.String(),
  deviceClass: Type.String(),
  lifeCritical: Type.Boolean(),
  serial: Nullable(Type.String()),
  location: Nullable(Type.String()),
  networkZone: Nullable(Type.String()),
  windows: Type.Array(Type.Object({ days: Type.Array(Type.String()), start: Type.String(), end: Type.String(), timeZone: Type.String() })),
  reported: Nullable(Type.Object({ version: Type.String(), target: Nullable(Type.String()), at: Time })),
  flags: Type.Array(Type.String()),
  vulnerabilities: Type.Object({ open: Type.Integer(), highestSeverity: Type.Optional(Type.String()) }),
});
export type FleetDevice = Static<typeof FleetDevice>;
export const Fleet = Type.Array(FleetDevice);
export type Fleet = Static<typeof Fleet>;

export const ImportResult = Type.Object({ created: Type.Integer(), updated: Type.Integer() });
export type ImportResult = Static<typeof ImportResult>;
