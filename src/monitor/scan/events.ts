/**
 * One AuditEvent reduced to what the monitor uses: when, who (the requesting agent), from which
 * address, what kind of interaction, whether emergency access was claimed, and which patients.
 * Tolerant of the shapes BALP allows (codes in `subtype` or `type`, purpose on the event or the
 * agent, the patient as an entity reference), strict about what must be there (a time).
 */
export type Interaction = 'read' | 'search' | 'write' | 'export' | 'print' | 'other';

export interface AccessEvent {
  t: number;
  user?: string;
  address?: string;
  interaction: Interaction;
  breakGlass: boolean;
  patients: string[];
}

import type { Json } from '../ndjson.js';

const EMERGENCY_PURPOSES = new Set(['ETREAT', 'BTG', 'ERTREAT', 'EMERGENCY']);
const READS = new Set(['read', 'vread', 'history', 'history-instance', 'history-type', 'history-system', '110110']);
const SEARCHES = new Set(['search', 'search-type', 'search-system', 'search-compartment', '110112']);
const WRITES = new Set(['create', 'update', 'patch', 'delete', 'transaction', 'batch']);
const EXPORTS = new Set(['export', '110106', 'bulk-export', 'export.run', 'export.download']);
const PRINTS = new Set(['print', 'printout']);

function interactionOf(r: Json): Interaction {
  const codes: string[] = [];
  for (const s of r.subtype ?? []) if (s && typeof s.code === 'string') codes.push(s.code.toLowerCase());
  if (r.type && typeof r.type.code === 'string') codes.push(r.type.code.toLowerCase());
  for (const c of codes) if (EXPORTS.has(c)) return 'export';
  for (const c of codes) if (PRINTS.has(c)) return 'print';
  for (const c of codes) if (WRITES.has(c)) return 'write';
  for (const c of codes) if (SEARCHES.has(c)) return 'search';
  for (const c of codes) if (READS.has(c)) return 'read';
  switch (r.action) {
    case 'C':
    case 'U':
    case 'D':
      return 'write';
    case 'R':
      return 'read';
  }
  return codes.includes('rest') ? 'read' : 'other';
}

function hasEmergencyPurpose(list: unknown): boolean {
  if (!Array.isArray(list)) return false;
  for (const cc of list) for (const c of cc?.coding ?? []) if (typeof c?.code === 'string' && EMERGENCY_PURPOSES.has(c.code.toUpperCase())) return true;
  return false;
}

/** Throws a short message (the caller adds file:line) when the event cannot be used at all. */
export function toAccessEvent(r: Json): AccessEvent {
  if (r.resourceType !== 'AuditEvent') throw new Error('not an AuditEvent');
  const t = typeof r.recorded === 'string' ? Date.parse(r.recorded) : NaN;
  if (Number.isNaN(t)) throw new Error('AuditEvent without a valid recorded time');
  let user: string | undefined;
  let address: string | undefined;
  let breakGlass = hasEmergencyPurpose(r.purposeOfEvent);
  const agents: Json[] = Array.isArray(r.agent) ? r.agent : [];
  let chosen = agents.find((a) => a?.requestor === true && typeof a.who?.reference === 'string' && /Practitioner(Role)?\//.test(a.who.reference));
  chosen ??= agents.find((a) => typeof a?.who?.reference === 'string' && /Practitioner(Role)?\//.test(a.who.reference));
  if (chosen) {
    user = chosen.who.reference;
    if (typeof chosen.network?.address === 'string') address = chosen.network.address;
    if (hasEmergencyPurpose(chosen.purposeOfUse)) breakGlass = true;
  }
  if (!address) for (const a of agents) if (typeof a?.network?.address === 'string') address = a.network.address;
  // No address, but the workstation's place (agent.location, a Location reference): the same evidence of where.
  if (!address && typeof chosen?.location?.reference === 'string') address = chosen.location.reference;
  for (const s of r.subtype ?? []) if (s?.code === '110127') breakGlass = true;
  const patients: string[] = [];
  for (const e of Array.isArray(r.entity) ? r.entity : []) {
    const ref = e?.what?.reference;
    if (typeof ref !== 'string') continue;
    const i = ref.indexOf('Patient/');
    if (i === 0 || (i > 0 && ref[i - 1] === '/')) {
      const id = ref.slice(i).split('/').slice(0, 2).join('/');
      if (!patients.includes(id)) patients.push(id);
    }
  }
  return { t, user, address, interaction: interactionOf(r), breakGlass, patients };
}

/** The network an address belongs to: a /24 for IPv4, a /64 for IPv6, else the address itself. */
export function networkOf(address: string): string {
  const v4 = /^(\d{1,3}\.\d{1,3}\.\d{1,3})\.\d{1,3}$/.exec(address);
  if (v4) return `${v4[1]}.0/24`;
  if (address.includes(':')) return `${address.split(':').slice(0, 4).join(':')}::/64`;
  return address;
}
