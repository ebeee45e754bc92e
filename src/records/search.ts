/**
 * Turns FHIR search parameters into one SQL query over the index tables. Values are matched as
 * blind-index digests, so the query never carries a readable name or identifier to the database.
 */
import type { BlindIndex } from '../keys/blindIndex.js';
import { words } from '../keys/blindIndex.js';
import { badRequest } from './outcome.js';
import { CONTROL_PARAMS, dateRange, paramDef, datePrecisions } from './searchParams.js';

export type SearchQuery = Record<string, string[]>;

export interface CompiledSearch {
  /** SQL condition over `r` (records_resource) and the parameters it uses. */
  where: string;
  params: unknown[];
  count: number;
  offset: number;
  summaryCount: boolean;
}

export const DEFAULT_COUNT = 20;
export const MAX_COUNT = 1000;

const DATE_PREFIXES = ['eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb'] as const;
type DatePrefix = (typeof DATE_PREFIXES)[number];

export function compileSearch(type: string, query: SearchQuery, blind: BlindIndex): CompiledSearch {
  const params: unknown[] = [type];
  const conds: string[] = ['r.resource_type = $1', 'not r.deleted'];
  const bind = (v: unknown) => {
    params.push(v);
    return `$${params.length}`;
  };
  let count = DEFAULT_COUNT;
  let offset = 0;
  let summaryCount = false;

  for (const [rawName, values] of Object.entries(query)) {
    const [name, modifier] = rawName.split(':', 2);
    if ((CONTROL_PARAMS as readonly string[]).includes(name)) {
      const v = values[values.length - 1];
      if (name === '_count') count = intParam('_count', v, 0, MAX_COUNT);
      else if (name === '_offset') offset = intParam('_offset', v, 0, 1_000_000);
      else if (name === '_summary') {
        if (v === 'count') summaryCount = true;
        else if (v !== 'false') throw badRequest('_summary supports only count and false');
      } else if (name === '_total' && !['none', 'estimate', 'accurate'].includes(v)) throw badRequest('_total must be none, estimate or accurate');
      continue;
    }
    if (modifier !== undefined && modifier !== '') throw badRequest(`search modifiers are not supported (${rawName})`);
    for (const value of values) {
      // Repeating a parameter ANDs its occurrences; commas inside one occurrence OR the values.
      const alternatives = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
      if (alternatives.length === 0) throw badRequest(`search parameter ${name} has no value`);
      conds.push(condition(type, name, alternatives, blind, bind));
    }
  }
  return { where: conds.join(' and '), params, count, offset, summaryCount };
}

function condition(type: string, name: string, values: string[], blind: BlindIndex, bind: (v: unknown) => string): string {
  if (name === '_id') return `r.id = any(${bind(values)}::text[])`;
  if (name === '_lastUpdated') {
    return `(${values.map((v) => dateCondition('_lastUpdated', v, 'r.last_updated', `r.last_updated + interval '1 millisecond'`, bind)).join(' or ')})`;
  }
  const def = paramDef(type, name);
  if (!def) throw badRequest(`unknown search parameter for ${type}: ${name}`);
  const tokenMatch = (hashes: Buffer[]) =>
    `exists (select 1 from records_token t where t.resource_type = r.resource_type and t.id = r.id and t.hash = any(${bind(hashes)}::bytea[]))`;

  switch (def.kind) {
    case 'reference': {
      const ids = values.map((v) => {
        const m = /(?:^|\/)(?:Patient\/)?([A-Za-z0-9\-.]{1,64})$/.exec(v);
        if (!m || (v.includes('/') && !/Patient\/[^/]+$/.test(v))) throw badRequest(`${name} must be Patient/<id> or <id>`);
        return m[1];
      });
      return `r.patient_id = any(${bind(ids)}::text[])`;
    }
    case 'token':
      return tokenMatch(values.map((v) => blind.token(name, v)));
    case 'blind-date':
      return tokenMatch(
        values.map((v) => {
          const prefixed = /^(eq)?(\d{4}(-\d{2}(-\d{2})?)?)$/.exec(v);
          if (!prefixed || datePrecisions(prefixed[2]).length === 0) {
            throw badRequest(`${name} matches a year, year-month or full date (YYYY, YYYY-MM, YYYY-MM-DD); ranges are not supported because birth dates are stored only as blind indexes`);
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
            `exists (select 1 from records_date d where d.resource_type = r.resource_type and d.id = r.id and d.param = ${p}::text and ${dateCondition(name, v, 'd.low', 'd.high', bind)})`,
        )
        .join(' or ')})`;
    }
  }
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

function intParam(name: string, value: string, min: number, max: number): number {
  if (!/^\d+$/.test(value)) throw badRequest(`${name} must be a whole number`);
  return Math.min(Math.max(Number(value), min), max);
}
