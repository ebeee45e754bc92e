/**
 * SMART Backend Services scopes: what a registered system client (a lab system, an admission feed,
 * a reporting tool) may do, enforced at the same point as people's roles. System scopes cover every
 * patient of the types they name: that is what a system integration is for, and why each client is
 * registered with only the scopes it needs.
 *
 * Accepted forms (SMART App Launch 1 and 2): `system/<Type|*>.read`, `.write`, `.*`, and the v2
 * letters `.c .r .u .d .s` in that order (`system/Observation.rs`, `system/Patient.cruds`).
 */
import type { Interaction } from './roles.js';
import { EQUIPMENT_TYPES, isSupportedType } from '../shared/index.js';

const AUDIT_TYPE = 'AuditEvent';

/** Whether a scope asks for no more than one of `registered` grants (the same type or a wildcard covering it, and no more interactions). */
export function scopeWithin(asked: string, registered: readonly string[]): boolean {
  const a = parse(asked);
  if (!a) return false;
  return [...a.interactions].every((i) =>
    a.type !== '*' ? scopeAllowing(registered, i, a.type) !== undefined : registered.some((r) => parse(r)?.type === '*' && parse(r)!.interactions.has(i)),
  );
}

/** Whether a caller is a client registered to read the audit log (an outside verifier or witness). */
export function isAuditorClient(who: { client?: { scopes: readonly string[] } }): boolean {
  return who.client !== undefined && scopeAllowing(who.client.scopes, 'read', AUDIT_TYPE) !== undefined;
}

const SHAPE = /^system\/([A-Za-z]+|\*)\.(read|write|\*|c?r?u?d?s?)$/;

/** The interactions a scope grants, or undefined when it is not a system scope this server knows. */
function parse(scope: string): { type: string; interactions: Set<Interaction> } | undefined {
  const m = SHAPE.exec(scope);
  if (!m || m[2] === '') return undefined;
  const [, type, what] = m;
  // The audit log is read, never written, by a client: an outside verifier or witness (`system/AuditEvent.read` or `.rs`).
  if (type === AUDIT_TYPE) return ['read', 'r', 's', 'rs'].includes(what) ? { type, interactions: new Set<Interaction>(['read']) } : undefined;
  if (type !== '*' && !isSupportedType(type)) return undefined;
  const interactions = new Set<Interaction>();
  if (what === 'read' || what === '*') interactions.add('read');
  if (what === 'write' || what === '*') ['create', 'update', 'delete'].forEach((i) => interactions.add(i as Interaction));
  if (!['read', 'write', '*'].includes(what)) {
    if (what.includes('c')) interactions.add('create');
    if (what.includes('r') || what.includes('s')) interactions.add('read');
    if (what.includes('u')) interactions.add('update');
    if (what.includes('d')) interactions.add('delete');
  }
  return { type, interactions };
}

export function isSystemScope(scope: string): boolean {
  return parse(scope) !== undefined;
}

/**
 * The scope that grants `interaction` on `type`, if any of `scopes` does. The equipment inventory
 * (Device, DeviceDefinition) is no patient's data: a wildcard given for patients' data does not
 * reach it, a client is given it by name (`system/Device.rs`), and no scope deletes a device (a
 * retired device is kept, as byRoleAlone in roles.ts keeps it for people).
 */
export function scopeAllowing(scopes: readonly string[], interaction: Interaction, type: string): string | undefined {
  // A wildcard for patients' data does not reach the equipment inventory or the audit log.
  const equipment = (EQUIPMENT_TYPES as readonly string[]).includes(type) || type === AUDIT_TYPE;
  if (equipment && interaction === 'delete') return undefined;
  return scopes.find((s) => {
    const p = parse(s);
    return p !== undefined && (p.type === type || (p.type === '*' && !equipment)) && p.interactions.has(interaction);
  });
}
