/**
 * Personal ties between a member of staff and a patient: the patient is the user, of the user's
 * household, a colleague, a neighbour, or a VIP. Such a tie turns an unexplained access (or one
 * explained only by the role, ward or department) into a personal scenario.
 */
import type { Scenario } from '../catalog.js';
import type { Patient, ReferenceData, User } from './reference.js';

const VIP_LABELS = ['VIP', 'CEL', 'CELEB', 'CELEBRITY'];
const STAFF_LABELS = ['EMP', 'EMPLOYEE', 'STAFF'];

/** The relationship between a user and a patient that makes an unexplained access personal. */
export function relation(ref: ReferenceData, u: User, p: Patient): { scenario: Scenario; evidence: string } | undefined {
  if (u.selfPatients.has(p.idx)) return { scenario: 'self', evidence: "the patient record has the user's own name and birth date" };
  const a = u.identity;
  const b = p.identity;
  const share = (x: string[], y: string[]) => x.some((v) => y.includes(v));
  const sameFamily = Boolean(a.family && a.family === b.family);
  const phone = share(a.phones, b.phones);
  const address = share(a.addresses, b.addresses);
  const street = share(a.streets, b.streets);
  if (phone || address || (sameFamily && street)) {
    const what = [sameFamily && 'family name', address && 'address', phone && 'phone number', !address && street && 'street'].filter(Boolean) as string[];
    return { scenario: 'family', evidence: `same ${joinWords(what)} as the user` };
  }
  if (STAFF_LABELS.some((l) => p.labels.has(l)) || ref.staffMatching(p, u.idx).length > 0)
    return { scenario: 'coworker', evidence: 'the patient is a member of staff' };
  if (street) return { scenario: 'neighbour', evidence: "the patient lives on the user's street" };
  if (VIP_LABELS.some((l) => p.labels.has(l))) return { scenario: 'vip', evidence: 'the patient is labelled VIP / celebrity' };
  return undefined;
}

function joinWords(words: string[]): string {
  return words.length <= 1 ? (words[0] ?? '') : `${words.slice(0, -1).join(', ')} and ${words[words.length - 1]}`;
}
