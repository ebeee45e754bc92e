/**
 * Staff with accounts, as simulations need them: a name, a work address and a department. Carewall
 * keeps those on the account's Practitioner (name, telecom email) and its PractitionerRole
 * (organization: the department), read through the records service like any other record. An
 * account without a practitioner, or a practitioner without a work address, is left out: such staff
 * come from a staff file instead (people.ts).
 */
import type { Practitioner, PractitionerRole } from '@medplum/fhirtypes';
import type { StaffEntry } from './people.js';

export interface DirectorySources {
  /** Active accounts: user name and the practitioner they act as. */
  accounts: () => Promise<Array<{ username: string; practitioner?: string; disabled: boolean }>>;
  practitioner: (id: string) => Promise<Practitioner | undefined>;
  rolesOf: (practitionerRef: string) => Promise<PractitionerRole[]>;
}

export async function staffDirectory(src: DirectorySources): Promise<StaffEntry[]> {
  const out: StaffEntry[] = [];
  for (const account of await src.accounts()) {
    if (account.disabled || !account.practitioner?.startsWith('Practitioner/')) continue;
    const p = await src.practitioner(account.practitioner.slice('Practitioner/'.length));
    const email = p?.telecom?.find((t) => t.system === 'email' && t.value && t.use !== 'home')?.value ?? p?.telecom?.find((t) => t.system === 'email')?.value;
    if (!p || !email) continue;
    const name = p.name?.find((n) => n.use === 'official') ?? p.name?.[0];
    const roles = (await src.rolesOf(account.practitioner)).filter((r) => r.active !== false);
    out.push({
      email: email.toLowerCase(),
      firstName: name?.given?.[0] ?? account.username,
      lastName: name?.family ?? '',
      department: roles.find((r) => r.organization?.display)?.organization?.display ?? '',
      position: roles.find((r) => r.code?.[0]?.text)?.code?.[0]?.text ?? '',
      username: account.username,
    });
  }
  return out;
}
