/**
 * A step of the equipment capabilities (issue 25: inventory, update releases, the director,
 * advisories) for the tamper-evident audit log. Those capabilities emit it; the audit log records
 * it (AuditService.onEquipment). It lives here so neither side imports the other's files.
 */
import type { Queryable } from '../db/index.js';
import type { RequestDetails, Who } from './who.js';

export interface EquipmentEvent {
  /** Dotted, stable names: 'inventory.import', 'release.approve', 'rollout.halt', 'advisory.import', 'device.manifest'... */
  action: string;
  outcome: 'success' | 'denied' | 'failure';
  /** The person (or the system, a device) acting. A device reporting is `{ device: id }`, with the request it reported by. */
  who: Who | { device: string; request?: RequestDetails };
  /** What the step was about: a Device, a release, a rollout, an advisory. */
  resource?: { type: string; id: string };
  /** Why it was refused, or what was decided; never patient data (equipment has none). */
  reason?: string;
  /** Small facts worth keeping with the record (class, version, counts, key ids). */
  details?: Record<string, string | number | boolean | string[]>;
  /** A transaction the record must commit with. */
  tx?: Queryable;
}

/** Where equipment events go: the audit log in the server, a list in a test. */
export type EquipmentAudit = (event: EquipmentEvent) => Promise<void>;
