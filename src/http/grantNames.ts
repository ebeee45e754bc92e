/**
 * The review queues name people: the user who opened each emergency access and its reviewer by the
 * staff directory's name (with their roles), the patient by who they are (name, birth date, record
 * number). A privacy officer works on "Dr Anna Parker opened Maria Lopez's chart", not on a user name
 * and a patient id. The patient's identity comes through the records' look-up rule (each patient named
 * is a recorded 'lookup', compliance work); a caller that may not identify patients gets ids only.
 */
import { identifyDecision } from '../access/index.js';
import type { GrantSummary } from '../api/index.js';
import type { Carewall } from '../runtime.js';
import type { Who } from '../shared/index.js';

export async function withNames(who: Who, grants: GrantSummary[], cw: Pick<Carewall, 'identity' | 'fhir'>): Promise<GrantSummary[]> {
  if (grants.length === 0) return grants;
  const staff = new Map((await cw.identity.staffDirectory(who)).map((m) => [m.username, m]));
  const patients = identifyDecision(who).allowed
    ? new Map(
        (
          await cw.fhir.identifyById(
            who,
            grants.map((g) => g.patient),
          )
        ).map((p) => [p.id, p]),
      )
    : new Map();
  return grants.map((g) => {
    const user = staff.get(g.username);
    const patient = patients.get(g.patient);
    const reviewer = g.review ? staff.get(g.review.by) : undefined;
    return {
      ...g,
      ...(user ? { user: { name: user.name, roles: user.roles } } : {}),
      ...(patient ? { patientIdentity: { name: patient.name, birthDate: patient.birthDate, mrn: patient.mrn } } : {}),
      ...(reviewer ? { reviewerName: reviewer.name } : {}),
    };
  });
}
