/**
 * What a FHIR request names, checked before anything is looked up: the resource type, the id, the
 * If-Match version, the id in a conditional update's body, the compartment of a body.
 */
import type { Resource } from '@medplum/fhirtypes';
import { badRequest, FhirError, notFound } from '../shared/index.js';
import { compartmentOf, ID_PATTERN, isSupportedType } from '../shared/index.js';
import type { SearchQuery } from './search.js';

/** The body of a conditional update targets the resource found: a different id in it is a mistake, none is filled in. */
export function withConditionalId(body: unknown, id: string): unknown {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return body;
  const sent = (body as { id?: unknown }).id;
  if (sent !== undefined && sent !== id) throw badRequest('the resource id does not match the resource the criteria found');
  return { ...body, id };
}

/** Criteria in a stable order, so that the same conditional request always takes the same lock. */
export function canonicalQuery(query: SearchQuery): string {
  return JSON.stringify(
    Object.entries(query)
      .map(([k, v]) => [k, [...v].sort()])
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );
}

export function patientOf(resource: Resource & { id: string }): string | null {
  const c = compartmentOf(resource);
  if ('error' in c) throw new FhirError(422, 'processing', c.error);
  return c.patientId;
}

export function requireType(type: string): void {
  if (!isSupportedType(type)) throw new FhirError(404, 'not-supported', 'this server does not serve that resource type');
}

export function requireId(id: string): string {
  if (!ID_PATTERN.test(id)) throw notFound();
  return id;
}

/** If-Match: W/"3", "3" or 3. */
export function parseIfMatch(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const m = /^(?:W\/)?"?(\d{1,9})"?$/.exec(header.trim());
  if (!m) throw badRequest('If-Match must be an ETag such as W/"3"');
  return Number(m[1]);
}
