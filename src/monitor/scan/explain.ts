/**
 * Explanation first: for each access, the reason the clinic's own records give for it. Only what is
 * left unexplained (or explained by nothing but the user's own break-the-glass) is material for
 * the detectors.
 */
import { DAY_MS, type Link, type LinkKind, type Patient, type User } from './reference.js';

export const REASONS = ['care-team', 'encounter', 'appointment', 'order', 'ward', 'department', 'role', 'break-glass'] as const;
export type Reason = (typeof REASONS)[number];
export const REASON_TEXT: Record<Reason, string> = {
  'care-team': "member of the patient's care team",
  encounter: 'participant in an encounter of the patient',
  appointment: 'named on an appointment of the patient',
  order: 'an order or referral names the user or their department',
  ward: "the patient had an encounter on the user's ward",
  department: "the patient had an encounter in the user's department",
  role: "the role's normal work (front office or billing, the patient has a visit)",
  'break-glass': 'break-the-glass (emergency access asserted by the user)',
};

/**
 * How long before and after a link's own period it explains an access. Before: preparing a visit
 * or an admission (an appointment is booked weeks ahead); after: follow-up, results and letters
 * (the 30 days of follow-up Carewall's own rules give), and orders stay open while being worked.
 */
const WINDOW: Record<LinkKind, { before: number; after: number }> = {
  encounter: { before: 1 * DAY_MS, after: 30 * DAY_MS },
  appointment: { before: 60 * DAY_MS, after: 7 * DAY_MS },
  'care-team': { before: 1 * DAY_MS, after: 30 * DAY_MS },
  order: { before: 1 * DAY_MS, after: 90 * DAY_MS },
};
/**
 * Front office and billing work from visits: the front office from booking to the visit (and the
 * paperwork of a stay), billing from admission to months after discharge. For restricted patients
 * (VIP, celebrity, staff: the ones worth snooping on) the work must coincide with the visit itself:
 * the booking or check-in hour, the first two weeks after discharge.
 */
const HOUR_MS = 3_600_000;

function roleWork(user: User, patient: Patient, link: Link, t: number): boolean {
  const restricted = patient.restricted;
  if (user.roleKind === 'front-office') {
    if (link.kind === 'appointment') {
      if (!restricted) return t >= link.start - DAY_MS && t <= link.end + DAY_MS;
      return link.anchors.some((a) => Math.abs(t - a) <= 2 * HOUR_MS);
    }
    if (link.kind === 'encounter') return restricted ? Math.abs(t - link.start) <= 2 * HOUR_MS : t >= link.start - DAY_MS && t <= link.end + 7 * DAY_MS;
    return false;
  }
  if (user.roleKind === 'billing' && link.kind === 'encounter') return t >= link.start && t <= link.end + (restricted ? 14 : 90) * DAY_MS;
  return false;
}

function intersects(list: number[], set: Set<number>): boolean {
  for (const x of list) if (set.has(x)) return true;
  return false;
}

/** The strongest reason the records give for `user` opening `patient` at `t`, or undefined. */
export function explain(user: User, patient: Patient, t: number): Reason | undefined {
  let weaker: Reason | undefined;
  const office = user.roleKind === 'front-office' || user.roleKind === 'billing';
  for (const link of patient.links) {
    const w = WINDOW[link.kind];
    if (t >= link.start - w.before && t <= link.end + w.after) {
      if (link.users.includes(user.idx)) return directReason(link);
      if (!office && weaker !== 'ward') {
        if (link.locations.length > 0 && intersects(link.locations, user.locations)) weaker = 'ward';
        else if (link.orgs.length > 0 && intersects(link.orgs, user.orgs)) weaker ??= link.kind === 'order' ? 'order' : 'department';
      }
    }
    if (office && !weaker && roleWork(user, patient, link, t)) weaker = 'role';
  }
  return weaker;
}

function directReason(link: Link): Reason {
  return link.kind;
}

/** The patient is under care (an encounter in progress at `t`) in a department or ward that is not the user's. */
export function underCareElsewhere(user: User, patient: Patient, t: number): boolean {
  for (const link of patient.links) {
    if (link.kind !== 'encounter' || t < link.start || t > link.end) continue;
    const mine = intersects(link.orgs, user.orgs) || intersects(link.locations, user.locations);
    if (!mine && (link.orgs.length > 0 || link.locations.length > 0)) return true;
  }
  return false;
}
