/**
 * Turns FHIR search parameters into one SQL query over the index tables. Values are matched as
 * blind-index digests, so the query never carries a readable name or identifier to the database.
 */
import type { BlindIndex } from '../keys/index.js';
import { words } from '../keys/index.js';
import { parseInclude, type IncludeSpec, type Visible } from './include.js';
import { badRequest, notFound, notSupported } from '../shared/index.js';
import { ID_PATTERN, isSupportedType } from '../shared/index.js';
import { CONTROL_PARAMS, dateRange, paramDef, datePrecisions, localReference, type SearchParamDef } from './searchParams.js';
import { bindTo } from '../db/index.js';
import { parseElements, type ElementSelection } from './elements.js';

export type SearchQuery = Record<string, string[]>;

/**
 * Search parameters by name, from what a caller sent: an object without a prototype, so that a
 * parameter named `constructor`, `toString` or `__proto__` is a name like any other (on a plain
 * object it found Object.prototype's member, and the search failed with a 500).
 */
export function searchQuery(entries: Iterable<[string, string]> = []): SearchQuery {
  const out: SearchQuery = Object.create(null) as SearchQuery;
  for (const [k, v] of entries) (out[k] ??= []).push(v);
  return out;
}
export type { Visible } from './include.js';

export type TotalMode = 'none' | 'estimate' | 'accurate';

export interface CompiledSearch {
  /** SQL condition over `r` (records_resource) and the parameters it uses. */
  where: string;
  params: unknown[];
  count: number;
  offset: number;
  summaryCount: boolean;
  total: TotalMode;
  includes: IncludeSpec[];
  /**
   * When a compartment parameter (patient=, subject=Patient/...) confines the matches to these
   * patients: the access rule can then be the rule of those patients rather than the general one.
   */
  patientIds?: string[];
  /** `_elements`: what of each resource is returned (records/elements.ts). */
  elements?: ElementSelection;
  /**
   * A condition that picks out a few rows by its nature: a name or other string, an identifier,
   * an id. A code, a status or a date matches a share of the clinic (records/searchByRows.ts).
   */
  narrow: boolean;
}

export const DEFAULT_COUNT = 20;
export const MAX_COUNT = 1000;

const DATE_PREFIXES = ['eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb'] as const;
type DatePrefix = (typeof DATE_PREFIXES)[number];

type Bind = (v: unknown) => string;

/**
 * `visible` returns the access predicate for a type over a row alias; every sub-query that decides
 * whether a row matches by looking at other rows (_has) must apply it, or the match would tell the
 * caller that a hidden row exists. Without it such sub-queries see nothing.
 */
export function compileSearch(type: string, query: SearchQuery, blind: BlindIndex, visible: Visible = () => 'false'): CompiledSearch {
  const params: unknown[] = [type];
  const conds: string[] = ['r.resource_type = $1', 'not r.deleted'];
  const bind = bindTo(params);
  let count = DEFAULT_COUNT;
  let offset = 0;
  let summaryCount = false;
  let total: TotalMode = 'accurate';
  const includes: IncludeSpec[] = [];
  let hasAliases = 0;
  let patientIds: string[] | undefined;
  let elements: string[] | undefined;
  let narrow = false;

  let position = 0;
  for (const [rawName, values] of Object.entries(query)) {
    // Errors name a parameter by its position, never by what was sent: a name typed into the
    // wrong place may be a patient's name.
    const nth = `search parameter ${++position}`;
    const [name, ...modifiers] = rawName.split(':');
    if (name === '_has') {
      for (const value of values) conds.push(hasCondition(type, modifiers, value, blind, bind, visible, `has${++hasAliases}`));
      continue;
    }
    if (name === '_include' || name === '_revinclude') {
      if (modifiers.length > 0) throw badRequest(`${name} modifiers (such as :iterate) are not supported`);
      for (const value of values) includes.push(parseInclude(type, name, value));
      continue;
    }
    if ((CONTROL_PARAMS as readonly string[]).includes(name)) {
      const v = values[values.length - 1];
      if (name === '_elements') {
        if (modifiers.length > 0) throw badRequest('_elements takes no modifiers');
        elements = values;
        continue;
      }
      // A larger page than the server gives is a smaller page (FHIR allows it); an offset is exact or refused.
      if (name === '_count') count = Math.min(intParam('_count', v, 0, Number.MAX_SAFE_INTEGER), MAX_COUNT);
      else if (name === '_offset') offset = intParam('_offset', v, 0, MAX_OFFSET);
      else if (name === '_summary') {
        if (v === 'count') summaryCount = true;
        else if (v !== 'false') throw badRequest('_summary supports only count and false');
      } else if (name === '_total') {
        if (v !== 'none' && v !== 'estimate' && v !== 'accurate') throw badRequest('_total must be none, estimate or accurate');
        total = v;
      }
      continue;
    }
    if (modifiers.length > 0) throw badRequest(`${nth}: search modifiers are not supported`);
    if (name !== '_id' && name !== '_lastUpdated' && !paramDef(type, name)) throw badRequest(`${nth} is not a search parameter of ${type}`);
    if (name === '_id' || name === 'identifier' || paramDef(type, name)?.kind === 'string') narrow = true;
    for (const value of values) {
      conds.push(condition(type, name, splitValues(nth, value), blind, bind, 'r', visible));
      if (paramDef(type, name)?.kind === 'compartment') {
        const ids = compartmentIds(name, splitValues(name, value));
        patientIds = patientIds ? patientIds.filter((id) => ids.includes(id)) : ids;
      }
    }
  }
  // Checked once every inclusion is known: a name may be an element of an included type.
  const selection = parseElements(elements, [type, ...includes.flatMap((i) => i.fetchTypes)]);
  return {
    where: conds.join(' and '),
    params,
    count,
    offset,
    summaryCount,
    total,
    includes,
    narrow,
    ...(patientIds ? { patientIds } : {}),
    ...(selection ? { elements: selection } : {}),
  };
}

/** The patient ids of a compartment parameter's values (Patient/<id> or <id>). */
function compartmentIds(name: string, values: string[]): string[] {
  return values.map((v) => {
    const m = /(?:^|\/)(?:Patient\/)?([A-Za-z0-9\-.]{1,64})$/.exec(v);
    if (!m || (v.includes('/') && !/Patient\/[^/]+$/.test(v))) throw badRequest(`${name} must be Patient/<id> or <id>`);
    return m[1];
  });
}

/** Repeating a parameter ANDs its occurrences; commas inside one occurrence OR the values. */
function splitValues(which: string, value: string): string[] {
  const alternatives = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (alternatives.length === 0) throw badRequest(`${which} has no value`);
  return alternatives;
}

/**
 * `_has:Inner:ref:param=value` on `type`: rows of `type` that some visible `Inner` resource points
 * to through `ref` and that matches `param=value`. One level only.
 */
function hasCondition(type: string, modifiers: string[], value: string, blind: BlindIndex, bind: Bind, visible: Visible, alias: string): string {
  if (modifiers.includes('_has')) throw badRequest('_has may not be nested');
  if (modifiers.length !== 3) throw badRequest('_has must be _has:Type:reference-parameter:parameter, without modifiers');
  const [innerType, refName, innerParam] = modifiers;
  if (!isSupportedType(innerType)) throw badRequest('_has names a resource type this server does not serve');
  const ref = paramDef(innerType, refName);
  if (!ref || (ref.kind !== 'compartment' && ref.kind !== 'reference')) throw badRequest(`_has: not a reference parameter of ${innerType}`);
  if (!ref.targets!.includes(type)) throw badRequest(`_has: ${innerType}:${ref.name} does not point to ${type}`);
  const link =
    ref.kind === 'compartment'
      ? `${alias}.patient_id = r.id`
      : `${alias}.id in (select x.id from records_reference x where x.target_type = r.resource_type and x.target_id = r.id
          and x.param = ${bind(ref.name)}::text and x.resource_type = ${alias}.resource_type)`;
  const inner = condition(innerType, innerParam, splitValues('_has', value), blind, bind, alias, visible);
  return `exists (select 1 from records_resource ${alias}
    where ${alias}.resource_type = ${bind(innerType)}::text and not ${alias}.deleted and ${link} and ${inner}
      and ${visible(innerType, alias, bind)})`;
}

/** A condition on the row `a` (records_resource) for one occurrence of a parameter. */
function condition(type: string, name: string, values: string[], blind: BlindIndex, bind: Bind, a: string, visible: Visible = () => 'false'): string {
  if (name === '_id') return `${a}.id = any(${bind(values)}::text[])`;
  if (name === '_lastUpdated') {
    return `(${values.map((v) => dateCondition('_lastUpdated', v, `${a}.last_updated`, `${a}.last_updated + interval '1 millisecond'`, bind)).join(' or ')})`;
  }
  const def = paramDef(type, name);
  if (!def) throw badRequest(`a search parameter that ${type} does not have`);
  const tokenMatch = (hashes: Buffer[]) =>
    `exists (select 1 from records_token t where t.resource_type = ${a}.resource_type and t.id = ${a}.id and t.hash = any(${bind(hashes)}::bytea[]))`;

  switch (def.kind) {
    case 'compartment':
      return `${a}.patient_id = any(${bind(compartmentIds(name, values))}::text[])`;
    case 'reference': {
      const pairs = values.flatMap((v) => referenceTargets(def, v));
      // Only through a target the caller may see, by the same rule a search of that type applies.
      const seen = def.visibleTargets
        ? ` and (${def.targets!.map((t) => `(x.target_type = ${bind(t)}::text and exists (select 1 from records_resource vt where vt.resource_type = x.target_type and vt.id = x.target_id and not vt.deleted and ${visible(t, 'vt', bind)}))`).join(' or ')})`
        : '';
      return `exists (select 1 from records_reference x where x.resource_type = ${a}.resource_type and x.id = ${a}.id
        and x.param = ${bind(name)}::text and (x.target_type, x.target_id) in (select * from unnest(${bind(pairs.map((p) => p.type))}::text[], ${bind(pairs.map((p) => p.id))}::text[]))${seen})`;
    }
    case 'token':
      return tokenMatch(values.map((v) => blind.token(name, v)));
    case 'blind-date':
      return tokenMatch(
        values.map((v) => {
          const prefixed = /^(eq)?(\d{4}(-\d{2}(-\d{2})?)?)$/.exec(v);
          if (!prefixed || datePrecisions(prefixed[2]).length === 0) {
            throw badRequest(
              `${name} matches a year, year-month or full date (YYYY, YYYY-MM, YYYY-MM-DD); ranges are not supported because birth dates are stored only as blind indexes`,
            );
          }
          return blind.token(name, prefixed[2]);
        }),
      );
    case 'string': {
      // Each alternative may hold several words; all of a value's words must match some name part.
      const perValue = values.map((v) => {
        const ws = words(v);
        const hashes = ws.map((w) => blind.prefixQuery(name, w));
        if (ws.length === 0 || hashes.some((h) => !h)) throw badRequest(`${name} searches need at least 2 letters per word`);
        return `(${hashes.map((h) => tokenMatch([h!])).join(' and ')})`;
      });
      return `(${perValue.join(' or ')})`;
    }
    case 'date': {
      const p = bind(name);
      return `(${values
        .map(
          (v) =>
            `exists (select 1 from records_date d where d.resource_type = ${a}.resource_type and d.id = ${a}.id and d.param = ${p}::text and ${dateCondition(name, v, 'd.low', 'd.high', bind)})`,
        )
        .join(' or ')})`;
    }
  }
}

/** `Type/id` names one target; a bare id may be any of the parameter's target types. */
function referenceTargets(def: SearchParamDef, value: string): Array<{ type: string; id: string }> {
  const local = localReference(value);
  if (local) {
    if (!def.targets!.includes(local.type)) throw badRequest(`${def.name} cannot point to that resource type`);
    return [local];
  }
  if (!ID_PATTERN.test(value)) throw badRequest(`${def.name} must be Type/<id> or <id>`);
  return def.targets!.map((type) => ({ type, id: value }));
}

/**
 * A search of `type` within one patient's compartment (GET /fhir/Patient/<id>/<type>): the patient
 * itself for Patient, else the records filed under it.
 */
export function compartmentQuery(patientId: string, type: string, query: SearchQuery): SearchQuery {
  if (!ID_PATTERN.test(patientId)) throw notFound();
  const out: SearchQuery = searchQuery(Object.entries(query).flatMap(([k, vs]) => vs.map((v): [string, string] => [k, v])));
  // A type this server does not serve is left to the search, which answers it like /fhir/<type> (404).
  if (!isSupportedType(type)) return out;
  if (type === 'Patient') (out._id ??= []).push(patientId);
  else if (paramDef(type, 'patient')?.kind === 'compartment') (out.patient ??= []).push(patientId);
  else throw notSupported('that resource type is not in the Patient compartment');
  return out;
}

/**
 * The criteria of a conditional create (If-None-Exist) or update (PUT Type?criteria): search
 * parameters only, at least one, no paging or inclusion.
 */
export function conditionQuery(criteria: string | URLSearchParams): SearchQuery {
  const params = typeof criteria === 'string' ? new URLSearchParams(criteria.replace(/^[A-Za-z]*\?/, '')) : criteria;
  for (const [k] of params) {
    const name = k.split(':')[0];
    if ((CONTROL_PARAMS as readonly string[]).includes(name) || name === '_include' || name === '_revinclude') {
      throw badRequest('conditional criteria take search parameters only (no paging, totals or _include)');
    }
  }
  const out = searchQuery(params);
  if (Object.keys(out).length === 0) throw badRequest('conditional create and update need search criteria');
  return out;
}

/**
 * FHIR date comparison between the search value's range [qlo, qhi) and the target's [lo, hi).
 * See https://hl7.org/fhir/R4/search.html#prefix
 */
function dateCondition(name: string, value: string, lo: string, hi: string, bind: (v: unknown) => string): string {
  const m = /^(eq|ne|gt|lt|ge|le|sa|eb)?(.+)$/.exec(value)!;
  const prefix = (m[1] ?? 'eq') as DatePrefix;
  const range = dateRange(m[2]);
  if (!range) throw badRequest(`${name} must be a FHIR date or dateTime, optionally prefixed by ${DATE_PREFIXES.join(', ')}`);
  // Bound only when used: PostgreSQL cannot type a parameter that appears nowhere in the query.
  const qlo = () => `${bind(range.low)}::timestamptz`;
  const qhi = () => `${bind(range.high)}::timestamptz`;
  switch (prefix) {
    case 'eq':
      return `(${lo} >= ${qlo()} and ${hi} <= ${qhi()})`;
    case 'ne':
      return `not (${lo} >= ${qlo()} and ${hi} <= ${qhi()})`;
    case 'gt':
      return `${hi} > ${qhi()}`;
    case 'lt':
      return `${lo} < ${qlo()}`;
    case 'ge':
      return `${hi} > ${qlo()}`;
    case 'le':
      return `${lo} < ${qhi()}`;
    case 'sa':
      return `${lo} >= ${qhi()}`;
    case 'eb':
      return `${hi} <= ${qlo()}`;
  }
}

/** A whole number within [min, max], or a 400 naming the control (never the value). */
export function intParam(name: string, value: string | undefined, min: number, max: number): number {
  const n = value !== undefined && /^\d{1,16}$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw badRequest(`${name} must be a whole number from ${min} to ${max}`);
  return n;
}

/** The instant a FHIR dateTime (an `_since`) starts at, or a 400 naming the control. */
export function instantParam(name: string, value: string): Date {
  const range = dateRange(value);
  if (!range || range.low.endsWith('infinity')) throw badRequest(`${name} must be a FHIR instant such as 2024-03-01T10:00:00Z, within the years 0001-9999`);
  return new Date(range.low);
}

/** The furthest a page may start: beyond it paging is not how to read a table (an export is). */
export const MAX_OFFSET = 10_000_000;
