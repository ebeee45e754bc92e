/**
 * A user's peer group (role × department) for learning from a closed case, worked out exactly as
 * the detectors do (ReferenceData from the user's PractitionerRoles: the latest starting one), so
 * that the weight a closure changes is the one the next scan's budget looks up.
 */
import { SYSTEM } from '../../shared/index.js';
import type { FhirService } from '../../records/index.js';
import { ReferenceData } from '../scan/reference.js';
import type { PeerGroup } from './learning.js';

export async function peerGroupOf(fhir: FhirService, userRef: string): Promise<PeerGroup> {
  const id = userRef.replace(/^Practitioner\//, '');
  const search = async (type: string, query: Record<string, string[]>) =>
    ((await fhir.search(SYSTEM, type, { ...query, _count: ['100'] }, new URL(`http://monitor.invalid/fhir/${type}`))).entry ?? [])
      .filter((e) => e.search?.mode === 'match')
      .map((e) => e.resource as unknown as Record<string, unknown>);
  const roles = /^[A-Za-z0-9\-.]{1,64}$/.test(id) ? await search('PractitionerRole', { practitioner: [id] }) : [];
  const user = ReferenceData.fromResources(roles).userFor(userRef);
  const key = user?.peerKey ?? 'unknown|unknown';
  const [role, org] = key.split('|');
  const department = org === 'none' || org === 'unknown' ? null : org;
  let departmentName: string | null = null;
  if (department) {
    const found = await search('Organization', { _id: [department] });
    departmentName = typeof found[0]?.name === 'string' ? found[0].name : null;
  }
  return { key, role, department, departmentName };
}
