/**
 * How many records match a search, without unpacking them: table audit_count keeps, per hour of
 * record time, action and outcome, how many records the log holds, written in the same statement
 * as their search columns (so the two never disagree). Why: a privacy officer's "how many" over a
 * year of a clinic's log (`_summary=count`, every search's total) would otherwise unpack millions
 * of records' columns; summed from these rows it is a few thousand at most, whatever the log's size.
 *
 * Searches by patient or user are counted from the search columns as before: their index finds
 * only the rows that name them. Time ranges that cut an hour count that hour's edge records from
 * the search columns (an hour's records at most), the whole hours between from this table.
 */
import type { Queryable, WriteBatch } from '../db/index.js';
import { bindTo } from '../db/index.js';
import type { EntryColumns } from './log.js';
import { searchFrom, type SearchFilter } from './searchColumns.js';

const HOUR_MS = 3600_000;

/** The start of the hour an instant falls in (UTC: an hour is the same in every time zone that matters here). */
export function hourOf(iso: string): number {
  return Math.floor(Date.parse(iso) / HOUR_MS) * HOUR_MS;
}

/** Adds to `writes` the counts of these records, one row per hour, action and outcome they fall in. */
export function addRecordCounts(writes: WriteBatch, columns: Array<EntryColumns | undefined>): void {
  const counts = new Map<string, { h: string; a: string; o: string; n: number }>();
  for (const c of columns) {
    if (!c) continue;
    const h = new Date(hourOf(c.at)).toISOString();
    const key = `${h}\0${c.action}\0${c.outcome}`;
    const row = counts.get(key);
    if (row) row.n++;
    else counts.set(key, { h, a: c.action, o: c.outcome, n: 1 });
  }
  if (counts.size === 0) return;
  writes.add(
    `insert into audit_count (hour, action, outcome, n)
       select h, a, o, n from jsonb_to_recordset(${writes.bind(JSON.stringify([...counts.values()]))}::jsonb) as v(h timestamptz, a text, o text, n bigint)
       on conflict (hour, action, outcome) do update set n = audit_count.n + excluded.n`,
  );
}

/** How many records match the filter (the same records `searchFrom` finds). */
export async function countMatching(q: Queryable, f: SearchFilter): Promise<number> {
  if (f.patient || f.agent) return exactCount(q, f);
  // The whole hours inside [from, to): from the counts; the parts of hours at either edge: exactly.
  const first = f.from === undefined ? undefined : Math.ceil(Date.parse(f.from) / HOUR_MS) * HOUR_MS;
  const end = f.to === undefined ? undefined : hourOf(f.to);
  if (first !== undefined && end !== undefined && first >= end) return exactCount(q, f);
  const params: unknown[] = [];
  const bind = bindTo(params);
  const where = ['true'];
  if (first !== undefined) where.push(`hour >= ${bind(new Date(first).toISOString())}::timestamptz`);
  if (end !== undefined) where.push(`hour < ${bind(new Date(end).toISOString())}::timestamptz`);
  if (f.actions && f.actions.length > 0) where.push(`action = any(${bind(f.actions)}::text[])`);
  if (f.outcome) where.push(`outcome = ${bind(f.outcome)}`);
  const whole = await q.query<{ n: string | number }>(`select coalesce(sum(n), 0) as n from audit_count where ${where.join(' and ')}`, params);
  let total = Number(whole.rows[0].n);
  if (f.from !== undefined && first !== undefined && Date.parse(f.from) < first) total += await exactCount(q, { ...f, to: new Date(first).toISOString() });
  if (f.to !== undefined && end !== undefined && end < Date.parse(f.to)) total += await exactCount(q, { ...f, from: new Date(end).toISOString() });
  return total;
}

async function exactCount(q: Queryable, f: SearchFilter): Promise<number> {
  const params: unknown[] = [];
  const r = await q.query<{ n: number }>(`select count(*)::int as n ${searchFrom(f, bindTo(params))}`, params);
  return r.rows[0].n;
}
