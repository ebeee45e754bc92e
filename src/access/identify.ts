/**
 * Identifying a patient for emergency care: a clinician who is not (yet) in the patient's care may
 * learn who a person is (name, birth date, record number) to find the chart they must ask for, or
 * break the glass to open. Nothing clinical: the chart itself stays under the care-relationship
 * rules (policy.ts). Each look-up is recorded, like every other access decision.
 */
import type { Role, Who } from '../shared/index.js';
import type { AccessDecision } from './decision.js';

/** The roles that treat patients in an emergency: the ones that may break the glass. */
export const IDENTIFY_ROLES: readonly Role[] = ['physician', 'nurse'];

/** Whether the caller may identify patients outside their care; the reason goes to the audit log. */
export function identifyDecision(who: Who | undefined): AccessDecision {
  if (!who) return { allowed: false, reason: 'not authenticated' };
  if (who.system) return { allowed: true, reason: 'system process', grounds: { basis: 'system' } };
  if (who.client) return { allowed: false, reason: 'a system client may not look up patients by name' };
  const role = who.roles.find((r) => IDENTIFY_ROLES.includes(r));
  // A privacy officer finds the patient whose accesses they examine (a complaint names a person, not
  // an id): identity only, recorded as compliance work (HCOMPL), which the misuse monitor leaves out.
  if (!role && who.roles.includes('privacy-officer'))
    return {
      allowed: true,
      reason: 'privacy-officer role: identifying data only, to find whose accesses to examine',
      grounds: { basis: 'identify', purposeOfUse: 'HCOMPL' },
    };
  return role
    ? { allowed: true, reason: `${role} role: identifying data only (name, birth date, record number)`, grounds: { basis: 'identify' } }
    : { allowed: false, reason: `looking up any patient requires the role ${IDENTIFY_ROLES.join(' or ')}` };
}
