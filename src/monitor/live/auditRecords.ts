/**
 * Carewall's own audit records as the detectors' events: which audit actions are a user touching
 * a chart, and how each becomes the scan's event shape.
 */
import type { AuditRecord } from '../../audit/index.js';
import type { AccessEvent, Interaction } from '../scan/events.js';

/** Audit actions that are a user touching a chart: the monitor's events. */
export const ACCESS_ACTIONS = ['read', 'vread', 'history', 'search', 'lookup', 'create', 'update', 'patch', 'delete', 'export', 'print', 'break-glass.start'];
const INTERACTION: Record<string, Interaction> = {
  read: 'read',
  vread: 'read',
  history: 'read',
  search: 'search',
  // A clinician's emergency look-up names the people it found: a search, not a chart opened.
  lookup: 'search',
  create: 'write',
  update: 'write',
  patch: 'write',
  delete: 'write',
  export: 'export',
  print: 'print',
  'break-glass.start': 'other',
};

/**
 * An audit record as the detectors see it, or undefined when it is not a person's access to a
 * chart: refused attempts (nothing was seen), records without a practitioner, and privacy officers'
 * investigations (purpose HCOMPL: looking is their job, and their grant is reviewed elsewhere).
 */
export function toMonitorEvent(r: AuditRecord): AccessEvent | undefined {
  const interaction = INTERACTION[r.action];
  if (!interaction || r.outcome !== 'success' || !r.patient || !r.user?.practitioner || r.purposeOfUse === 'HCOMPL') return undefined;
  const t = Date.parse(r.time);
  if (Number.isNaN(t)) return undefined;
  return {
    t,
    user: r.user.practitioner,
    address: r.client?.ip,
    interaction,
    breakGlass: r.purposeOfUse === 'ETREAT',
    patients: [`Patient/${r.patient}`],
  };
}
