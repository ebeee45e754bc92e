/**
 * Validation of imported resources: the same structural validation as the API's (records'
 * validateBody), which is most of an import's work (about 90 us a resource), so it runs on worker
 * threads where the machine has cores to spare while the main thread stores what is validated.
 */
import crypto from 'node:crypto';
import os from 'node:os';
import type { Resource } from '@medplum/fhirtypes';
import { validateBody } from '../records/index.js';
import { FhirError } from '../shared/index.js';
import { parseStrictJson, StrictJsonError } from '../util/index.js';
import { WorkerPool } from '../util/index.js';

/** A resource as read: its place in the files, and its JSON text (NDJSON) or parsed body (Bundle entries). */
export interface ToValidate {
  where: string;
  text?: string;
  body?: unknown;
}

export type Validated = { resource: Resource & { id: string } } | { error: string };

/** Validated as the API validates a create, with the id it carries (or a new one); errors name the place and never a value. */
export function validateForImport(item: ToValidate): Validated {
  let body = item.body;
  if (item.text !== undefined) {
    try {
      body = parseStrictJson(item.text);
    } catch (err) {
      return { error: `${item.where}: ${err instanceof StrictJsonError ? err.message : 'not valid JSON'}` };
    }
    if ((body as Resource | null)?.resourceType === 'Bundle') return { error: `${item.where}: a Bundle inside NDJSON; put Bundles in files of their own` };
  }
  try {
    const resource = validateBody(body);
    return { resource: { ...resource, id: resource.id ?? crypto.randomUUID() } };
  } catch (err) {
    if (!(err instanceof FhirError)) throw err;
    const details = err.issues.map((i) => [i.expression?.join(', '), i.diagnostics].filter(Boolean).join(': ')).filter(Boolean);
    return { error: `${item.where}: ${err.message}${details.length > 0 ? ` (${details.slice(0, 3).join('; ')})` : ''}` };
  }
}

/** Worker threads validating batches of resources, or the calling thread when there are none. */
export class ValidationPool extends WorkerPool<ToValidate[], Validated[]> {
  /** One worker per core but one (the main thread reads and stores), up to 4. */
  static defaultSize(): number {
    return Math.max(1, Math.min(4, os.availableParallelism() - 1));
  }

  constructor(size: number) {
    super(size, import.meta.url, 'validationWorker', (items) => items.map(validateForImport));
  }

  validate(items: ToValidate[]): Promise<Validated[]> {
    return this.run(items);
  }
}
