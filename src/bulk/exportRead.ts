/**
 * What an export job reads, always through the FHIR service as the requester (so through the
 * access gate, never around it): the resources of one type page by page, and a Group's members.
 */
import type { Group, Resource } from '@medplum/fhirtypes';
import { authorize } from '../access/index.js';
import type { FhirService } from '../records/index.js';
import type { Who } from '../shared/index.js';

/** Resources per page read. */
const PAGE = 1000;
/** Patients per search in a patient-confined export (the rule for a few patients is their own). */
const PATIENTS_PER_SEARCH = 20;

/**
 * The resources of one type the requester may read, as of the transaction time, page by page;
 * confined to `patients` when given (an empty list: none at all).
 */
export async function* exportedResources(
  fhir: FhirService,
  who: Who,
  type: string,
  opts: { since: Date | null; patients?: string[] },
  at: Date,
): AsyncGenerator<Resource> {
  const base: Record<string, string[]> = {
    _lastUpdated: [`le${at.toISOString()}`, ...(opts.since ? [`gt${new Date(opts.since).toISOString()}`] : [])],
    _count: [String(PAGE)],
    _total: ['none'],
  };
  const groups: Array<Record<string, string[]>> = opts.patients
    ? chunks(opts.patients, PATIENTS_PER_SEARCH).map((ids) => ({ [type === 'Patient' ? '_id' : 'patient']: [ids.join(',')] }))
    : [{}];
  const self = new URL(`http://carewall.local/fhir/${type}`);
  for (const confine of groups) {
    for (let offset = 0; ; offset += PAGE) {
      const page = await fhir.search(who, type, { ...base, ...confine, _offset: [String(offset)] }, self);
      const found = (page.entry ?? []).filter((e) => e.search?.mode === 'match' && e.resource).map((e) => e.resource!);
      for (const r of found) yield r;
      if (found.length < PAGE) break;
    }
  }
}

/**
 * The patients of a Group the requester may see: the Group is read as the requester (a read the
 * gate decides and records, members they may not see already left out), then each member's data is
 * searched as the requester too, so a hidden member's data could not leave by either step.
 */
export async function groupMembers(fhir: FhirService, who: Who, groupId: string): Promise<string[]> {
  const group = (await fhir.read(who, 'Group', groupId)).resource as Group;
  const ids = (group.member ?? [])
    .filter((m) => !m.inactive)
    .map((m) => /^Patient\/([A-Za-z0-9\-.]{1,64})$/.exec(m.entity?.reference ?? '')?.[1])
    .filter((p): p is string => p !== undefined);
  return [...new Set(ids)];
}

export function mayApprove(who: Who): boolean {
  try {
    authorize(who, 'export.approve');
    return true;
  } catch {
    return false;
  }
}

export function fileContext(id: string, seq: number): string {
  return `bulk-export:${id}:${seq}`;
}

/** The patients a resource belongs to, as far as its own references say. */
export function patientsOf(r: Resource): string[] {
  if (r.resourceType === 'Patient') return r.id ? [r.id] : [];
  const refs = [(r as { subject?: { reference?: string } }).subject?.reference, (r as { patient?: { reference?: string } }).patient?.reference];
  return refs.filter((x): x is string => typeof x === 'string' && x.startsWith('Patient/')).map((x) => x.slice('Patient/'.length));
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
