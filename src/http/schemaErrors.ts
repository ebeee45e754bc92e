/**
 * A request that does not fit its route's schema (src/api) is refused with one sentence. Ajv's own
 * list is for programs: a field that may be one of three words comes back as four errors ("must be
 * equal to constant" thrice, then "must match a schema in anyOf"). The sentence names the field and
 * what it must be, never what was sent (it may be patient data); the words it lists are Carewall's.
 */
import type { FastifySchemaValidationError } from 'fastify';

type SchemaErrorDataVar = 'body' | 'headers' | 'params' | 'querystring';

const TYPE_WORDS: Record<string, string> = {
  string: 'a string',
  integer: 'a whole number',
  number: 'a number',
  boolean: 'true or false',
  null: 'null',
  array: 'a list',
  object: 'an object',
};

export function describeSchemaErrors(errors: FastifySchemaValidationError[], dataVar: SchemaErrorDataVar): string {
  const first = errors.find((e) => e.keyword !== 'anyOf') ?? errors[0];
  if (!first) return `${dataVar} is not valid`;
  const where = `${dataVar}${first.instancePath.replace(/\//g, '.').replace(/^\./, ' field ')}`;
  const here = errors.filter((e) => e.instancePath === first.instancePath);
  // The branches of a union (anyOf) at one place: say them together.
  const words = here.filter((e) => e.keyword === 'const').map((e) => JSON.stringify(e.params.allowedValue));
  const types = here.filter((e) => e.keyword === 'type').map((e) => TYPE_WORDS[String(e.params.type)] ?? String(e.params.type));
  if (words.length > 0 && types.length === 0) return `${where} must be one of ${words.join(', ')}`;
  if (types.length > 1 || (types.length === 1 && words.length > 0)) return `${where} must be ${[...new Set(types)].join(' or ')}`;
  if (first.keyword === 'type') return `${where} must be ${types[0]}`;
  if (first.keyword === 'required') return `${where} is missing the required field ${String(first.params.missingProperty)}`;
  if (first.keyword === 'additionalProperties') {
    // The schema's own field names (Ajv's verbose errors carry it), not the unknown one sent.
    const allowed = Object.keys((first as { parentSchema?: { properties?: object } }).parentSchema?.properties ?? {});
    return `${where} has an unknown field${allowed.length > 0 ? `; allowed: ${allowed.join(', ')}` : ''}`;
  }
  return `${where} ${first.message ?? 'is not valid'}`;
}
