/**
 * _include and _revinclude: the resources a page of matches points to, and those that point to it.
 * Each inclusion is fetched by its own query under the access predicate of the type it fetches, so
 * an included resource is only ever one the caller could have read or searched for directly.
 */
import type { Queryable } from '../db/index.js';
import { badRequest } from '../shared/index.js';
import { isSupportedType, SUPPORTED_TYPES } from '../shared/index.js';
import { linkParamsFor, paramDef, paramsFor, type SearchParamDef } from './searchParams.js';
import { bindTo } from '../db/index.js';
import type { VersionRow } from './store.js';

/** Included resources per search page, all inclusions together: a page cannot fan out without bound. */
export const MAX_INCLUDED = 1000;

/** A visibility predicate over a row alias (see AccessPolicy.predicate); bind appends a parameter. */
export type Visible = (type: string, alias: string, bind: (v: unknown) => string) => string;

export interface IncludeSpec {
  reverse: boolean;
  /** The type whose reference parameter is followed. */
  sourceType: string;
  param: SearchParamDef;
  /** The types this inclusion fetches: the parameter's targets for _include, the source type for _revinclude. */
  fetchTypes: string[];
}

/**
 * `Source:param` or `Source:param:Target`. _include follows a parameter of the searched type;
 * _revinclude a parameter of another type that can point at the searched type. Messages name only
 * what was found in the server's own tables, never the text sent.
 */
export function parseInclude(searchType: string, name: '_include' | '_revinclude', value: string): IncludeSpec {
  const parts = value.split(':');
  if (parts.length < 2 || parts.length > 3) throw badRequest(`${name} must be SourceType:parameter or SourceType:parameter:TargetType`);
  const [sourceType, paramName, target] = parts;
  if (!isSupportedType(sourceType)) throw badRequest(`${name} names a resource type this server does not serve`);
  const param = paramDef(sourceType, paramName);
  if (!param || (param.kind !== 'compartment' && param.kind !== 'reference')) throw badRequest(`${name}: not a reference parameter of ${sourceType}`);
  if (target !== undefined && !param.targets!.includes(target)) throw badRequest(`${name}: ${sourceType}:${param.name} cannot point to that type`);
  if (name === '_include') {
    if (sourceType !== searchType) throw badRequest(`_include must follow a parameter of the searched type (${searchType})`);
    return { reverse: false, sourceType, param, fetchTypes: target ? [target] : [...param.targets!] };
  }
  if (!param.targets!.includes(searchType) || (target !== undefined && target !== searchType)) {
    throw badRequest(`_revinclude: ${sourceType}:${param.name} does not point to ${searchType}`);
  }
  return { reverse: true, sourceType, param, fetchTypes: [sourceType] };
}

/**
 * The query for one inclusion, given the ids of the page's matches; undefined when the caller may
 * see none of the types it would fetch. Rows are records_version rows of current versions.
 */
export function includeQuery(
  spec: IncludeSpec,
  searchType: string,
  ids: string[],
  visible: Visible,
  limit: number,
): { sql: string; params: unknown[] } | undefined {
  const params: unknown[] = [];
  const bind = bindTo(params);
  // Each fetched type under its own predicate: one type's rule never admits another type's rows.
  const allowed = spec.fetchTypes
    .map((t) => ({ t, p: visible(t, 'i', bind) }))
    .filter((x) => x.p !== 'false')
    .map((x) => `(i.resource_type = ${bind(x.t)}::text and ${x.p})`);
  if (allowed.length === 0) return undefined;
  const idList = `${bind(ids)}::text[]`;
  let link: string;
  if (!spec.reverse && spec.param.kind === 'compartment') {
    link = `i.resource_type = 'Patient' and i.id in (select s.patient_id from records_resource s where s.resource_type = ${bind(spec.sourceType)}::text and s.id = any(${idList}))`;
  } else if (!spec.reverse) {
    link = `(i.resource_type, i.id) in (select x.target_type, x.target_id from records_reference x
      where x.resource_type = ${bind(spec.sourceType)}::text and x.id = any(${idList}) and x.param = ${bind(spec.param.name)}::text
        and x.target_type = any(${bind(spec.fetchTypes)}::text[]))`;
  } else if (spec.param.kind === 'compartment') {
    link = `i.resource_type = ${bind(spec.sourceType)}::text and i.patient_id = any(${idList})`;
  } else {
    link = `i.resource_type = ${bind(spec.sourceType)}::text and i.id in (select x.id from records_reference x
      where x.target_type = ${bind(searchType)}::text and x.target_id = any(${idList}) and x.param = ${bind(spec.param.name)}::text
        and x.resource_type = ${bind(spec.sourceType)}::text)`;
  }
  const sql = `select v.* from records_resource i
    join records_version v on v.resource_type = i.resource_type and v.id = i.id and v.version_id = i.version_id
    where not i.deleted and ${link} and (${allowed.join(' or ')})
    order by i.resource_type, i.last_updated desc, i.id
    limit ${bind(limit)}`;
  return { sql, params };
}

/** For the CapabilityStatement: `Type:param` values _include accepts on a search of `type`. */
export function includesFor(type: string): string[] {
  return linkParamsFor(type).map((p) => `${type}:${p.name}`);
}

/** For the CapabilityStatement: `Source:param` values _revinclude accepts on a search of `type`. */
export function revIncludesFor(type: string): string[] {
  return SUPPORTED_TYPES.flatMap((source) =>
    paramsFor(source)
      .filter((p) => (p.kind === 'compartment' || p.kind === 'reference') && p.targets!.includes(type))
      .map((p) => `${source}:${p.name}`),
  );
}

/**
 * Runs the inclusions for a page of matches, in the order asked, until MAX_INCLUDED rows. A
 * resource appears once: matches are not repeated as inclusions, nor inclusions twice.
 */
export async function fetchIncluded(
  q: Queryable,
  specs: IncludeSpec[],
  searchType: string,
  matches: VersionRow[],
  visible: Visible,
): Promise<{ rows: VersionRow[]; truncated: boolean }> {
  const seen = new Set(matches.map((r) => `${r.resource_type}/${r.id}`));
  const ids = matches.map((r) => r.id);
  const rows: VersionRow[] = [];
  let truncated = false;
  for (const spec of specs) {
    const room = MAX_INCLUDED - rows.length;
    if (room <= 0) {
      truncated = true;
      break;
    }
    const query = includeQuery(spec, searchType, ids, visible, room + 1);
    if (!query) continue;
    const found = (await q.query<VersionRow>(query.sql, query.params)).rows;
    for (const row of found) {
      const key = `${row.resource_type}/${row.id}`;
      if (seen.has(key)) continue;
      if (rows.length >= MAX_INCLUDED) {
        truncated = true;
        break;
      }
      seen.add(key);
      rows.push(row);
    }
  }
  return { rows, truncated };
}
