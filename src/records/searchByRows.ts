/**
 * A search across patients whose own conditions find few rows (the common case: a clinician
 * looking up a patient by name): one indexed statement finds the rows by their blind-index digests
 * alone, with their versions, and each row is then decided as a read of it is, from its patient's
 * decision context (AccessGate.admitted; cached after a first look) and its labels. The set
 * predicate that a search across patients otherwise joins is the same rule written as SQL over
 * every patient (test/access-rules.test.ts holds the forms to each other), and planning it cost
 * more than the whole search (docs/benchmarks.md).
 *
 * Nothing a row that is not admitted holds leaves this module: not its body, not its count; the
 * total and the page are of admitted rows only, as under the set predicate. A search whose
 * conditions find more rows than MAX_ROWS goes the set predicate's way, as before. Only searches by
 * a name (or another string), an identifier or an id come here (CompiledSearch.narrow): a code, a
 * status or a date matches a share of the clinic, and finding that out first cost such a search a
 * tenth of its requests on PostgreSQL and a quarter on the embedded database (docs/benchmarks.md).
 */
import type { Who } from '../shared/index.js';
import type { Queryable } from '../db/index.js';
import type { CompiledSearch } from './search.js';
import type { VersionRow } from './store.js';
import type { AccessGate } from './accessGate.js';

/**
 * Rows the search's conditions may find for them to be decided one by one. A name that many
 * patients share goes the set predicate's way: deciding each row costs about what planning that
 * predicate does once past a few hundred rows whose contexts are not cached.
 */
export const MAX_ROWS = 100;

export interface RowsFound {
  /** The admitted rows of the page asked for, newest first. */
  rows: VersionRow[];
  /** How many rows in all are admitted. */
  total: number;
}

export async function searchByRows(reader: Queryable, gate: AccessGate, who: Who, type: string, compiled: CompiledSearch): Promise<RowsFound | undefined> {
  const p = compiled.params.length;
  // Unordered, so that conditions matching many rows stop at the first MAX_ROWS + 1 (then the set
  // predicate's way) instead of sorting them all; the versions are read only when the rows are few
  // (an uncorrelated condition: checked once, before the join).
  const found = await reader.query<VersionRow & { found_patient: string | null; found_labels: string[] | null; found_updated: Date; found_n: number }>(
    `with c as (select r.resource_type, r.id, r.version_id, r.last_updated, r.patient_id, r.labels from records_resource r
                 where ${compiled.where} limit $${p + 1}),
          n as (select count(*)::int as found_n from c)
     select n.found_n, x.* from n left join (
       select c.patient_id as found_patient, c.labels as found_labels, c.last_updated as found_updated, v.*
         from c join records_version v on v.resource_type = c.resource_type and v.id = c.id and v.version_id = c.version_id
        where (select found_n from n) <= $${p + 2}) x on true
      order by x.found_updated desc, x.id`,
    [...compiled.params, MAX_ROWS + 1, MAX_ROWS],
  );
  const n = found.rows[0]?.found_n ?? 0;
  if (n > MAX_ROWS) return undefined;
  const candidates = found.rows.filter((r) => r.id !== null);
  // A row of no patient is the set predicate's to decide (never the case for the clinical types this serves).
  if (candidates.some((r) => r.found_patient === null)) return undefined;
  const allowed = await gate.admitted(
    who,
    type,
    candidates.map((r) => ({ resourceType: type, id: r.id, patientId: r.found_patient, labels: r.found_labels ?? [] })),
  );
  const admitted = candidates
    .filter((_, i) => allowed[i])
    .map(({ found_patient: _p, found_labels: _l, found_updated: _u, found_n: _n, ...row }) => row as VersionRow);
  return { rows: admitted.slice(compiled.offset, compiled.offset + compiled.count), total: admitted.length };
}
