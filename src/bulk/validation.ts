/**
 * Validation of imported resources: the same structural validation as the API's (records'
 * validateBody), which is most of an import's work (about 90 us a resource), so it runs on worker
 * threads where the machine has cores to spare while the main thread stores what is validated.
 */
import crypto from 'node:crypto';
import os from 'node:os';
import type { Worker } from 'node:worker_threads';
import type { Resource } from '@medplum/fhirtypes';
import { FhirError, validateBody } from '../records/index.js';
import { startWorker } from '../util/workerThread.js';

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
      body = JSON.parse(item.text);
    } catch {
      return { error: `${item.where}: not valid JSON` };
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

/** Worker threads validating batches in turn, or the calling thread when there are none. */
export class ValidationPool {
  private readonly workers: Worker[] = [];
  private readonly waiting = new Map<number, { resolve: (r: Validated[]) => void; reject: (e: Error) => void }>();
  private nextId = 0;

  /** One worker per core but one (the main thread reads and stores), up to 4. */
  static defaultSize(): number {
    return Math.max(1, Math.min(4, os.availableParallelism() - 1));
  }

  constructor(readonly size: number) {
    for (let i = 0; i < size; i++) {
      const w = startWorker(import.meta.url, 'validationWorker');
      w.on('message', (msg: { id: number; results?: Validated[]; error?: string }) => {
        const p = this.waiting.get(msg.id);
        this.waiting.delete(msg.id);
        if (msg.results) p?.resolve(msg.results);
        else p?.reject(new Error(msg.error ?? 'validation worker failed'));
      });
      w.on('error', (err) => {
        for (const p of this.waiting.values()) p.reject(err);
        this.waiting.clear();
      });
      this.workers.push(w);
    }
  }

  validate(items: ToValidate[]): Promise<Validated[]> {
    if (this.workers.length === 0) {
      try {
        return Promise.resolve(items.map(validateForImport));
      } catch (err) {
        return Promise.reject(err as Error);
      }
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.workers[id % this.workers.length].postMessage({ id, items });
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
