/**
 * Staff by name: accounts as people know them (their practitioner's written name, else the user
 * name), for the staff directory of those who investigate and explain accesses, and for the privacy
 * officers a case may be given to. Identity keeps the accounts; the names live in the records, read
 * through `practitionerName` (wired in runtime.ts).
 */
import type { Role } from '../shared/index.js';
import type { Queryable } from '../db/index.js';
import { listAccounts, type AccountSummary } from './accounts.js';

/** The written name of a practitioner ('Practitioner/<id>'), or undefined. */
export type PractitionerName = (practitioner: string) => Promise<string | undefined>;

export interface StaffMember {
  accountId: string;
  username: string;
  name: string;
  roles: Role[];
  practitioner: string | null;
  active: boolean;
}

/** Not disabled and not past its end date. */
export function isActive(a: Pick<AccountSummary, 'disabled' | 'validUntil'>, now = Date.now()): boolean {
  return !a.disabled && (a.validUntil === undefined || Date.parse(a.validUntil) > now);
}

/** An account's name as people know it: its practitioner's written name, else the user name. */
export async function nameOf(a: Pick<AccountSummary, 'username' | 'practitioner'>, practitionerName: PractitionerName): Promise<string> {
  return (a.practitioner && (await practitionerName(a.practitioner).catch(() => undefined))) || a.username;
}

/** Every account by name, sorted by name; no secret. */
export async function staffDirectory(q: Queryable, practitionerName: PractitionerName): Promise<StaffMember[]> {
  const now = Date.now();
  const out: StaffMember[] = [];
  for (const a of await listAccounts(q)) {
    out.push({
      accountId: a.id,
      username: a.username,
      name: await nameOf(a, practitionerName),
      roles: a.roles,
      practitioner: a.practitioner ?? null,
      active: isActive(a, now),
    });
  }
  return out.sort((x, y) => x.name.localeCompare(y.name));
}

/** The active accounts that hold `role`, by name. */
export async function activeWithRole(q: Queryable, role: Role, practitionerName: PractitionerName): Promise<Array<{ username: string; name: string }>> {
  const now = Date.now();
  const active = (await listAccounts(q)).filter((a) => isActive(a, now) && a.roles.includes(role));
  return Promise.all(active.map(async (a) => ({ username: a.username, name: await nameOf(a, practitionerName) })));
}
