/**
 * Identifying a patient for emergency care: a clinician finds anyone by name, full birth date or
 * record number, and learns only who they are (name, birth date, record number) to ask for the
 * chart or break the glass. Decided by the access rules (access/identify.ts) through the gate, and
 * each patient named is a recorded 'lookup': there is no other way to a patient the caller may not see.
 */
import type { Patient } from '@medplum/fhirtypes';
import type { Who } from '../shared/index.js';
import { badRequest, writtenName } from '../shared/index.js';
import { compileSearch, type SearchQuery } from './search.js';
import type { ReadParts } from './searchInteractions.js';
import type { VersionRow } from './store.js';

/** At most this many people per look-up: enough to pick one, too few to list the directory. */
export const MAX_IDENTIFIED = 20;
const MIN_NAME = 3;

export interface Identified {
  id: string;
  name: string;
  birthDate: string | null;
  mrn: string | null;
}

/**
 * The search a look-up runs: a full birth date, a record number (a word with a digit in it, matched
 * exactly), or a name of at least three letters. The error never repeats what was typed.
 */
export function lookupQuery(raw: string): SearchQuery {
  const q = raw.trim().replace(/\s+/g, ' ');
  if (q.length > 100) throw badRequest('the look-up is too long (at most 100 characters)');
  if (/^\d{4}-\d{2}-\d{2}$/.test(q)) {
    if (Number.isNaN(Date.parse(q))) throw badRequest('the birth date is not a date (YYYY-MM-DD)');
    return { birthdate: [q] };
  }
  if (/\d/.test(q) && !q.includes(' ') && q.length >= MIN_NAME) return { identifier: [q] };
  if (q.replace(/[^\p{L}]/gu, '').length < MIN_NAME) {
    throw badRequest(`give at least ${MIN_NAME} letters of a name, a full birth date (YYYY-MM-DD) or a record number`);
  }
  return { name: [q] };
}

/** The record number: the identifier typed MR (medical record number), else the first. */
function mrnOf(p: Patient): string | null {
  const ids = p.identifier ?? [];
  const mr = ids.find((i) => i.type?.coding?.some((c) => c.code === 'MR')) ?? ids[0];
  return mr?.value ?? null;
}

export async function identify(s: ReadParts, who: Who, raw: string): Promise<Identified[]> {
  const decision = await s.gate.requireIdentify(who);
  const query = lookupQuery(raw);
  // The decision above is the rule for these rows: every current patient matches, and only who
  // they are leaves this function. The chart stays under the care-relationship rules.
  const compiled = compileSearch('Patient', query, s.keyring.blindIndex, () => 'false');
  const p = compiled.params.length;
  const rows = (
    await s.db.query<VersionRow>(
      `select v.* from records_resource r
       join records_version v on v.resource_type = r.resource_type and v.id = r.id and v.version_id = r.version_id
       where ${compiled.where}
       order by r.id
       limit $${p + 1}`,
      [...compiled.params, MAX_IDENTIFIED],
    )
  ).rows;
  await s.gate.recordIdentified(who, decision, rows);
  return identities(s, rows);
}

/**
 * Who these patients are, by id (a privacy officer's review queue names the patient of each
 * emergency access): the same role-level decision as a look-up, each patient named recorded the
 * same way; ids of no current patient are left out.
 */
export async function identifyById(s: ReadParts, who: Who, ids: string[]): Promise<Identified[]> {
  const decision = await s.gate.requireIdentify(who);
  const unique = [...new Set(ids)];
  if (unique.length === 0) return [];
  const rows = (
    await s.db.query<VersionRow>(
      `select v.* from records_resource r
       join records_version v on v.resource_type = r.resource_type and v.id = r.id and v.version_id = r.version_id
       where r.resource_type = 'Patient' and r.id = any($1::text[]) and not r.deleted
       order by r.id`,
      [unique],
    )
  ).rows;
  await s.gate.recordIdentified(who, decision, rows);
  return identities(s, rows);
}

/** Name, birth date and record number from each stored version: nothing else leaves. */
async function identities(s: ReadParts, rows: VersionRow[]): Promise<Identified[]> {
  await s.store.loadKeys(rows);
  return rows.map((row) => {
    const patient = s.store.decrypt(row).resource as Patient;
    return { id: row.id, name: writtenName(patient.name) ?? '(no name recorded)', birthDate: patient.birthDate ?? null, mrn: mrnOf(patient) };
  });
}
