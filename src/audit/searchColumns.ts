/**
 * The records' search columns (table audit_entry_batch): what the AuditEvent search, the access
 * report and the insider monitor find records by (time, patient, user, action, outcome). Derived
 * from the records in the same transaction that appends them; not trusted for integrity
 * (verification reads the leaf bytes alone).
 *
 * One row per user (account) and append, of up to BATCH_ROWS records: the records' indexes and
 * their columns as arrays in the same order, instead of a row per record. Why: a row and five index
 * entries per record were about 60% of an append's cost on the embedded database and half of it on
 * a server, all of it while the sequencer lock is held (docs/benchmarks.md). A row is found by one
 * GIN index over the patients and users it names and one index over its time range; a search then
 * unpacks the rows it finds. The price: a search by patient or by time unpacks every record of the
 * rows it finds. A row holds a record or a few at a clinic's usual pace (so a search reads about
 * what it returns), and up to BATCH_ROWS of one user's under heavy load; per user, so that a search
 * for one user's records unpacks theirs alone (measured in docs/benchmarks.md).
 */
import type { WriteBatch } from '../db/index.js';
import type { EntryColumns } from './log.js';
import type { AuditRecord } from './record.js';

/** At most this many records' columns to a row. */
export const BATCH_ROWS = 256;

/** A record's search columns, as every append stores them. */
export function searchColumnsOf(record: AuditRecord): EntryColumns {
  return {
    at: record.time,
    patient: record.patient,
    account: record.user?.account,
    practitioner: record.user?.practitioner,
    action: record.action,
    outcome: record.outcome,
  };
}

/** What a search filters by. */
export interface SearchFilter {
  patient?: string;
  /** An account id, or a 'Practitioner/<id>' reference. */
  agent?: string;
  actions?: string[];
  outcome?: string;
  /** ISO instants, inclusive from, exclusive to. */
  from?: string;
  to?: string;
}

/**
 * The keys a row is found by: each patient, account and practitioner it names, told apart by a
 * prefix (an account id and a patient id may be the same text).
 */
const patientKey = (id: string) => `p${id}`;
const accountKey = (id: string) => `a${id}`;
const practitionerKey = (ref: string) => `r${ref}`;

/**
 * Adds to `writes` the search columns of records [first, first + columns.length): a row per user
 * (account) of the append, of at most BATCH_ROWS records. Split by user because a user's records
 * are searched together (a privacy officer's question about one clinician): such a search unpacks
 * that user's rows only, however many other users the same appends served. Records without
 * columns are left out.
 */
export function addSearchColumns(writes: WriteBatch, first: number, columns: Array<EntryColumns | undefined>): void {
  const byUser = new Map<string | undefined, number[]>();
  columns.forEach((c, i) => {
    if (!c) return;
    let list = byUser.get(c.account);
    if (!list) byUser.set(c.account, (list = []));
    list.push(i);
  });
  const rows: object[] = [];
  for (const members of byUser.values()) {
    for (let start = 0; start < members.length; start += BATCH_ROWS) {
      const part = members.slice(start, start + BATCH_ROWS);
      const keys = new Set<string>();
      for (const i of part) {
        const c = columns[i]!;
        if (c.patient) keys.add(patientKey(c.patient));
        if (c.account) keys.add(accountKey(c.account));
        if (c.practitioner) keys.add(practitionerKey(c.practitioner));
      }
      const column = (get: (c: EntryColumns) => string | undefined) => part.map((i) => get(columns[i]!) ?? null);
      rows.push({
        i: part.map((i) => first + i),
        k: [...keys],
        a: column((c) => c.at),
        p: column((c) => c.patient),
        ac: column((c) => c.account),
        pr: column((c) => c.practitioner),
        act: column((c) => c.action),
        o: column((c) => c.outcome),
      });
    }
  }
  if (rows.length === 0) return;
  // All rows as one JSON parameter, which the database parses natively: a parameter per row and
  // column cost more to send than the rows cost to store, and grouping in SQL sorted every column.
  writes.add(
    `insert into audit_entry_batch (first_index, at_min, at_max, keys, idxs, ats, patients, accounts, practitioners, actions, outcomes)
       select i[1], (select min(t) from unnest(a) t), (select max(t) from unnest(a) t), k, i, a, p, ac, pr, act, o
         from jsonb_to_recordset(${writes.bind(JSON.stringify(rows))}::jsonb) as v(i bigint[], k text[], a timestamptz[], p text[], ac text[], pr text[], act text[], o text[])`,
  );
}

/**
 * The FROM and WHERE of a search over the records (alias e: leaf_index, at, patient_id,
 * account_id, practitioner, action, outcome), its values bound through `bind`.
 */
export function searchFrom(f: SearchFilter, bind: (v: unknown) => string): string {
  const batch: string[] = [];
  const entry: string[] = ['e.action is not null'];
  if (f.patient) {
    batch.push(`g.keys @> array[${bind(patientKey(f.patient))}]`);
    entry.push(`e.patient_id = ${bind(f.patient)}`);
  }
  if (f.agent) {
    const practitioner = f.agent.startsWith('Practitioner/');
    batch.push(`g.keys @> array[${bind(practitioner ? practitionerKey(f.agent) : accountKey(f.agent))}]`);
    entry.push(practitioner ? `e.practitioner = ${bind(f.agent)}` : `e.account_id = ${bind(f.agent)}`);
  }
  if (f.actions && f.actions.length > 0) entry.push(`e.action = any(${bind(f.actions)}::text[])`);
  if (f.outcome) entry.push(`e.outcome = ${bind(f.outcome)}`);
  const from = f.from ? bind(f.from) : undefined;
  const to = f.to ? bind(f.to) : undefined;
  // A bounded range finds its rows through the GiST index on their time spans: the btree on
  // (at_max, at_min) would read every row after `from` to find the few that start before `to`.
  // A range that ends before it starts holds nothing (and is no valid range for the index).
  if (f.from && f.to && Date.parse(f.from) >= Date.parse(f.to)) batch.push('false');
  else if (from && to) batch.push(`tstzrange(g.at_min, g.at_max, '[]') && tstzrange(${from}::timestamptz, ${to}::timestamptz, '[)')`);
  else if (from) batch.push(`g.at_max >= ${from}::timestamptz`);
  else if (to) batch.push(`g.at_min < ${to}::timestamptz`);
  if (from) entry.push(`e.at >= ${from}::timestamptz`);
  if (to) entry.push(`e.at < ${to}::timestamptz`);
  return `from (select u.*
                  from audit_entry_batch g,
                       unnest(g.idxs, g.ats, g.patients, g.accounts, g.practitioners, g.actions, g.outcomes) as u(leaf_index, at, patient_id, account_id, practitioner, action, outcome)
                  ${batch.length > 0 ? `where ${batch.join(' and ')}` : ''}) e
          where ${entry.join(' and ')}`;
}
