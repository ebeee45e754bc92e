/**
 * The FHIR interactions that answer with a Bundle of many rows (search, history) and the look-up of
 * conditional interactions. The access rule joins each statement's WHERE clause, so totals, pages
 * and matches count only what the caller may see; each patient returned is one recorded access.
 */
import crypto from 'node:crypto';
import type { Bundle, BundleEntry } from '@medplum/fhirtypes';
import type { Who } from '../shared/index.js';
import type { Database, Queryable } from '../db/index.js';
import type { Keyring } from '../keys/index.js';
import type { AccessGate } from './accessGate.js';
import { fetchIncluded, MAX_INCLUDED } from './include.js';
import { notFound, outcome } from '../shared/index.js';
import { requireId, requireType } from './requestChecks.js';
import { compileSearch, instantParam, intParam, MAX_COUNT, MAX_OFFSET, type SearchQuery, type Visible } from './search.js';
import { bindTo } from '../db/index.js';
import type { RecordStore, VersionRow } from './store.js';
import { showMembers } from './groupMembers.js';
import { searchByRows } from './searchByRows.js';
import { parseElements, withElements } from './elements.js';

/** What these interactions use of the FHIR service. */
export interface ReadParts {
  db: Database;
  keyring: Keyring;
  store: RecordStore;
  gate: AccessGate;
}

/** A search by more patients than this uses the general access rule (one context per patient otherwise). */
const MAX_PINNED_PATIENTS = 20;

export async function search(s: ReadParts, who: Who, type: string, query: SearchQuery, selfUrl: URL): Promise<Bundle> {
  requireType(type);
  await s.gate.requireRole(who, 'search', type);
  // One rule for every row a search looks at: the matches, _has sub-queries and inclusions.
  let conditionsLook = false;
  const visible: Visible = (t, alias, bind) => {
    conditionsLook = true;
    return s.gate.visibleSql(who, t, 'search', alias, bind);
  };
  const compiled = compileSearch(type, query, s.keyring.blindIndex, visible);
  // Whether the search's own conditions look at other rows (_has, a reference to a visible target): each under the rule.
  const conditionsLookAtOthers = conditionsLook;
  // The access rule joins the WHERE clause: totals and pages count only what the caller may see.
  // Confined to a few patients (a chart's searches), the rule is those patients' own: cheaper to
  // plan than the rule for every patient, and the same as a read of each row would apply.
  const pinned =
    compiled.patientIds && compiled.patientIds.length <= MAX_PINNED_PATIENTS
      ? await s.gate.visibleSqlForPatients(who, type, compiled.patientIds, 'r', bindTo(compiled.params))
      : undefined;
  // A replica when one may answer for this caller (db/replica.ts: within a second, after their own writes).
  const reader = s.db.reader(who.readsAfter);
  const wantTotal = compiled.total !== 'none' || compiled.summaryCount;
  const wantRows = !compiled.summaryCount && compiled.count > 0;
  // Across patients, a page asked for by a name, an identifier or an id: first the search's own
  // conditions alone, each row they find then decided as a read of it is (searchByRows.ts).
  // Undefined when they found too many rows. Codes, statuses and dates match too many to try.
  const byRows =
    !pinned && compiled.narrow && !conditionsLookAtOthers && wantRows && s.gate.decidesRowsByPatient(who, type)
      ? await searchByRows(reader, s.gate, who, type, compiled)
      : undefined;
  compiled.where = `${compiled.where} and ${pinned ?? visible(type, 'r', bindTo(compiled.params))}`;
  let total: number | undefined;
  let rows: VersionRow[] = [];
  let more = false;
  const p = compiled.params.length;
  if (byRows) {
    total = wantTotal ? byRows.total : undefined;
    rows = byRows.rows;
    more = compiled.offset + compiled.count < byRows.total;
  } else if (wantTotal && wantRows) {
    // The total and the page in one statement: the matches are found (and the access predicate,
    // which costs milliseconds to plan, planned) once; only the page's versions are read.
    const found = await reader.query<VersionRow & { total_matches: number }>(
      `with m as materialized (select r.resource_type, r.id, r.version_id, r.last_updated from records_resource r where ${compiled.where}),
            page as (select * from m order by last_updated desc, id limit $${p + 1} offset $${p + 2})
       select t.total_matches, v.*
         from (select count(*)::int as total_matches from m) t
         left join (page join records_version v on v.resource_type = page.resource_type and v.id = page.id and v.version_id = page.version_id) on true
        order by page.last_updated desc, page.id`,
      [...compiled.params, compiled.count, compiled.offset],
    );
    total = found.rows[0].total_matches;
    rows = found.rows.filter((r) => r.id !== null).map(({ total_matches: _, ...row }) => row as VersionRow);
    more = compiled.offset + compiled.count < total;
  } else if (wantTotal) {
    total = (await reader.query<{ n: number }>(`select count(*)::int as n from records_resource r where ${compiled.where}`, compiled.params)).rows[0].n;
  } else if (wantRows) {
    // Without a total, one row beyond the page says whether there is a next page.
    rows = (
      await reader.query<VersionRow>(
        `select v.* from records_resource r
         join records_version v on v.resource_type = r.resource_type and v.id = r.id and v.version_id = r.version_id
         where ${compiled.where}
         order by r.last_updated desc, r.id
         limit $${p + 1} offset $${p + 2}`,
        [...compiled.params, compiled.count + 1, compiled.offset],
      )
    ).rows;
    more = rows.length > compiled.count;
    rows = rows.slice(0, compiled.count);
  }
  const included = rows.length > 0 ? await fetchIncluded(reader, compiled.includes, type, rows, visible) : { rows: [], truncated: false };
  await s.gate.recordReads(who, 'search', [...rows, ...included.rows]);
  await s.store.loadKeys([...rows, ...included.rows]);
  const all = [...rows, ...included.rows];
  // A Group's members are shown as the caller may see each patient (groupMembers.ts).
  const resources = await showMembers(
    s.gate,
    who,
    all.map((row) => s.store.decrypt(row).resource),
  );
  const entries: BundleEntry[] = all.map((row, i) => ({
    fullUrl: resourceUrl(selfUrl, row.resource_type, row.id),
    resource: withElements(compiled.elements, resources[i]),
    search: { mode: i < rows.length ? 'match' : 'include' },
  }));
  if (included.truncated) {
    entries.push({ resource: outcome('informational', `more than ${MAX_INCLUDED} resources to include: the rest were left out`), search: { mode: 'outcome' } });
  }
  const reach = more ? compiled.offset + compiled.count + 1 : compiled.offset + rows.length;
  return {
    resourceType: 'Bundle',
    id: crypto.randomUUID(),
    type: 'searchset',
    ...(total === undefined ? {} : { total }),
    link: pageLinks(selfUrl, compiled.offset, compiled.count, total ?? reach),
    entry: entries,
  };
}

/**
 * The current resources of `type` that match conditional criteria and that the caller may see; at
 * most two, since none, one or several is all a conditional interaction asks. Hidden records do
 * not match, so a conditional request tells the caller nothing a search would not.
 */
export async function conditionalMatches(s: ReadParts, who: Who, type: string, criteria: SearchQuery, q: Queryable = s.db): Promise<VersionRow[]> {
  requireType(type);
  const visible: Visible = (t, alias, bind) => s.gate.visibleSql(who, t, 'search', alias, bind);
  const compiled = compileSearch(type, criteria, s.keyring.blindIndex, visible);
  const where = `${compiled.where} and ${visible(type, 'r', bindTo(compiled.params))}`;
  return (
    await q.query<VersionRow>(
      `select v.* from records_resource r
       join records_version v on v.resource_type = r.resource_type and v.id = r.id and v.version_id = r.version_id
       where ${where} order by r.id limit 2`,
      compiled.params,
    )
  ).rows;
}

/** Instance history (with id) or type history; newest first, deletions included. */
export async function history(s: ReadParts, who: Who, type: string, id: string | undefined, query: SearchQuery, selfUrl: URL): Promise<Bundle> {
  requireType(type);
  if (id !== undefined) requireId(id);
  const count = query._count ? Math.min(intParam('_count', query._count[0], 0, Number.MAX_SAFE_INTEGER), MAX_COUNT) : 20;
  const offset = query._offset ? intParam('_offset', query._offset[0], 0, MAX_OFFSET) : 0;
  const since = query._since ? instantParam('_since', query._since[0]) : undefined;
  // As on a search: checked before anything is read, applied to every version returned.
  const elements = parseElements(query._elements, [type]);
  const conds = ['resource_type = $1'];
  const params: unknown[] = [type];
  if (id !== undefined) {
    params.push(id);
    conds.push(`id = $${params.length}`);
    const current = await s.store.currentRow(s.db, type, id);
    await s.gate.check(who, 'history', 'read', type, id, current);
    if (!current) throw notFound();
  } else {
    await s.gate.requireRole(who, 'history', type);
  }
  // Versions are filtered by the same rule: an old version may carry a label the current one does not.
  conds.push(s.gate.visibleSql(who, type, 'history', 'records_version', bindTo(params)));
  if (since !== undefined) {
    params.push(since);
    conds.push(`last_updated >= $${params.length}`);
  }
  const where = conds.join(' and ');
  const reader = s.db.reader(who.readsAfter);
  const total = (await reader.query<{ n: number }>(`select count(*)::int as n from records_version where ${where}`, params)).rows[0].n;
  const rows = (
    await reader.query<VersionRow>(
      `select * from records_version where ${where} order by last_updated desc, id, version_id desc limit $${params.length + 1} offset $${params.length + 2}`,
      [...params, count, offset],
    )
  ).rows;
  await s.gate.recordReads(who, 'history', rows);
  await s.store.loadKeys(rows);
  const resources = await showMembers(
    s.gate,
    who,
    rows.map((row) => s.store.decrypt(row).resource),
  );
  const entries: BundleEntry[] = rows.map((row, i) => {
    const url = `${type}/${row.id}`;
    return {
      fullUrl: resourceUrl(selfUrl, type, row.id),
      resource: withElements(elements, resources[i]),
      request: { method: row.deleted ? 'DELETE' : row.version_id === 1 ? 'POST' : 'PUT', url: row.version_id === 1 ? type : url },
      response: {
        status: row.deleted ? '204' : row.version_id === 1 ? '201' : '200',
        etag: `W/"${row.version_id}"`,
        lastModified: new Date(row.last_updated).toISOString(),
      },
    };
  });
  return { resourceType: 'Bundle', id: crypto.randomUUID(), type: 'history', total, link: pageLinks(selfUrl, offset, count, total), entry: entries };
}

function resourceUrl(selfUrl: URL, type: string, id: string): string {
  return `${selfUrl.origin}/fhir/${type}/${id}`;
}

function pageLinks(selfUrl: URL, offset: number, count: number, total: number): Bundle['link'] {
  const at = (o: number) => {
    const u = new URL(selfUrl);
    u.searchParams.set('_offset', String(o));
    u.searchParams.set('_count', String(count));
    return u.toString();
  };
  const links: NonNullable<Bundle['link']> = [{ relation: 'self', url: selfUrl.toString() }];
  if (count > 0) {
    links.push({ relation: 'first', url: at(0) });
    if (offset > 0) links.push({ relation: 'previous', url: at(Math.max(0, offset - count)) });
    if (offset + count < total) links.push({ relation: 'next', url: at(offset + count) });
  }
  return links;
}
