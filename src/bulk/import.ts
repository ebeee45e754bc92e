/**
 * `carewall import`: FHIR R4 resources from Bundles (JSON: transaction, batch or collection) and
 * NDJSON files (one resource per line, as FHIR Bulk Data export writes them) into the records,
 * validated and encrypted exactly as through the API, keeping the ids the files give so that
 * references between the files hold.
 *
 * All or nothing: everything goes in one transaction, and the first bad line (its file and line
 * number, or a Bundle's entry) refuses the whole import. Files are read as streams, so memory stays
 * flat however large they are. The import is one audit record: the system actor, counts per type,
 * and the SHA-256 of each file as read; a refused import is recorded too, with its reason.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import type { AuditService } from '../audit/index.js';
import { type FhirService } from '../records/index.js';
import { FhirError } from '../shared/index.js';
import { parseStrictJson, StrictJsonError } from '../util/index.js';
import { ValidationPool, type ToValidate, type Validated } from './validation.js';

/** Resources handed to the records per statement batch. */
const BATCH = 500;

export class ImportError extends Error {}

export interface ImportedFile {
  /** The file's name, without its folder. */
  name: string;
  sha256: string;
  bytes: number;
  resources: number;
}

export interface ImportSummary {
  resources: number;
  byType: Record<string, number>;
  files: ImportedFile[];
}

export interface ImportOptions {
  /** Bytes read so far of all files, and their total. */
  onProgress?: (done: number, total: number) => void;
  /** Worker threads validating; 0 validates on the calling thread. Default: one per spare core for imports over 2 MB. */
  workers?: number;
}

/** Resources per validation message. */
const CHUNK = 250;

type Emit = (item: ToValidate) => Promise<void>;

export async function importFiles(cw: { fhir: FhirService; audit: AuditService }, files: string[], options: ImportOptions = {}): Promise<ImportSummary> {
  if (files.length === 0) throw new ImportError('no files to import');
  const sizes = files.map((f) => {
    try {
      const st = fs.statSync(f);
      if (!st.isFile()) throw new Error('not a file');
      return st.size;
    } catch {
      throw new ImportError(`${f}: cannot be read (no such file, or not a file)`);
    }
  });
  const total = sizes.reduce((a, b) => a + b, 0);
  let readBefore = 0;
  const reported: ImportedFile[] = files.map((f, i) => ({ name: path.basename(f), sha256: '', bytes: sizes[i], resources: 0 }));
  const pool = new ValidationPool(options.workers ?? (total > 2_000_000 ? ValidationPool.defaultSize() : 0));
  try {
    return await cw.fhir.importResources(
      async (addBatch) => {
        const summary: ImportSummary = { resources: 0, byType: {}, files: reported };
        let pending: Array<Resource & { id: string }> = [];
        // One batch is stored while the next is read and validated (the database and this
        // process work at the same time); batches themselves are stored one after the other.
        let storing: Promise<void> = Promise.resolve();
        let failed: { error: unknown } | undefined;
        const flush = async () => {
          await storing;
          if (failed) throw failed.error;
          const batch = pending;
          pending = [];
          storing = addBatch(batch).catch((error: unknown) => {
            failed = { error };
          });
        };
        const add = async (resource: Resource & { id: string }) => {
          if (failed) throw failed.error;
          pending.push(resource);
          summary.resources++;
          summary.byType[resource.resourceType] = (summary.byType[resource.resourceType] ?? 0) + 1;
          if (pending.length >= BATCH) await flush();
        };
        // Validation runs ahead on the pool, a few chunks in flight; results are stored in file order.
        const validating: Array<Promise<Validated[]>> = [];
        const takeValidated = async () => {
          for (const v of await validating.shift()!) {
            if ('error' in v) throw new ImportError(v.error);
            await add(v.resource);
          }
        };
        let chunk: ToValidate[] = [];
        const sendChunk = async () => {
          const validated = pool.validate(chunk);
          validated.catch(() => undefined); // awaited in turn; a failure must not go unhandled meanwhile
          validating.push(validated);
          chunk = [];
          if (validating.length > pool.size + 1) await takeValidated();
        };
        const emit: Emit = async (item) => {
          chunk.push(item);
          if (chunk.length >= CHUNK) await sendChunk();
        };
        for (let i = 0; i < files.length; i++) {
          const before = summary.resources;
          reported[i].sha256 = await readFile(files[i], emit, (bytes) => options.onProgress?.(readBefore + bytes, total));
          if (chunk.length > 0) await sendChunk();
          while (validating.length > 0) await takeValidated();
          reported[i].resources = summary.resources - before;
          readBefore += sizes[i];
        }
        if (pending.length > 0) await flush();
        await storing;
        if (failed) throw failed.error;
        options.onProgress?.(total, total);
        return summary;
      },
      async (tx, summary) => {
        await cw.audit.record(
          {
            action: 'import',
            outcome: 'success',
            user: { username: 'system' },
            resource: { type: 'Bundle' },
            explanation: { resources: summary.resources, byType: summary.byType, files: summary.files },
          },
          tx,
        );
      },
    );
  } catch (err) {
    const reason = err instanceof ImportError ? err.message : err instanceof FhirError ? `refused: ${err.message}` : (err as Error).message;
    // The refusal is recorded once the transaction has rolled back (nothing of it was stored).
    await cw.audit
      .record({
        action: 'import',
        outcome: 'failure',
        user: { username: 'system' },
        resource: { type: 'Bundle' },
        explanation: { reason, files: reported.map(({ name, bytes }) => ({ name, bytes })) },
      })
      .catch(() => undefined);
    throw new ImportError(`${reason}; nothing was imported`);
  } finally {
    await pool.close();
  }
}

/** Reads one file's resources into `add`; returns the SHA-256 of its bytes. */
async function readFile(file: string, emit: Emit, progress: (bytes: number) => void): Promise<string> {
  const hash = crypto.createHash('sha256');
  let bytes = 0;
  const stream = fs.createReadStream(file);
  // Lines are decoded leniently by readline: the bytes are checked here, as they pass, so that no
  // invalid UTF-8 is stored as replacement characters.
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  const badBytes = () => new ImportError(`${file}: not valid UTF-8 (after byte ${bytes})`);
  stream.on('data', (chunk) => {
    hash.update(chunk);
    try {
      utf8.decode(chunk as Buffer, { stream: true });
    } catch {
      stream.destroy(badBytes());
      return;
    }
    bytes += chunk.length;
    progress(bytes);
  });
  stream.on('end', () => {
    try {
      utf8.decode();
    } catch {
      stream.destroy(badBytes());
    }
  });
  if (isNdjson(file)) {
    let line = 0;
    const lines = readline.createInterface({ input: stream, crlfDelay: Infinity });
    for await (const text of lines) {
      line++;
      if (text.trim() === '') continue;
      await emit({ where: `${file}:${line}`, text });
    }
  } else {
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    let body: unknown;
    try {
      body = parseStrictJson(Buffer.concat(chunks));
    } catch (err) {
      throw new ImportError(`${file}: ${err instanceof StrictJsonError ? err.message : 'not valid JSON'} (NDJSON files must end in .ndjson or .jsonl)`);
    }
    if ((body as Resource | null)?.resourceType === 'Bundle') {
      for (const [where, resource] of bundleResources(body as Bundle, file)) await emit({ where, body: resource });
    } else {
      await emit({ where: file, body });
    }
  }
  return hash.digest('hex');
}

function isNdjson(file: string): boolean {
  return /\.(ndjson|jsonl)$/i.test(file);
}

/**
 * A Bundle's resources. Entries keep their ids (a PUT's id comes from its URL when the resource
 * has none); an entry without one gets a new id, and references to its urn:uuid fullUrl anywhere in
 * the Bundle are rewritten to it.
 */
function bundleResources(bundle: Bundle, file: string): Array<[string, unknown]> {
  if (bundle.type !== 'transaction' && bundle.type !== 'batch' && bundle.type !== 'collection') {
    throw new ImportError(`${file}: a Bundle of type ${String(bundle.type)}; only transaction, batch and collection Bundles are imported`);
  }
  const entries: BundleEntry[] = Array.isArray(bundle.entry) ? bundle.entry : [];
  const urns = new Map<string, string>();
  const resources = entries.map((entry, i) => {
    const where = `${file}: entry ${i}`;
    const resource = entry?.resource as (Resource & { id?: string }) | undefined;
    if (!resource || typeof resource !== 'object') throw new ImportError(`${where}: has no resource`);
    const method = entry.request?.method;
    if (method !== undefined && method !== 'POST' && method !== 'PUT')
      throw new ImportError(`${where}: a ${method} entry; an import only stores resources (POST or PUT)`);
    let id = resource.id;
    if (method === 'PUT') {
      const fromUrl = /^[A-Za-z]+\/([A-Za-z0-9\-.]{1,64})$/.exec(entry.request?.url ?? '')?.[1];
      if (fromUrl && id && fromUrl !== id) throw new ImportError(`${where}: its id differs from its request URL`);
      id ??= fromUrl;
    }
    id ??= crypto.randomUUID();
    if (typeof entry.fullUrl === 'string' && entry.fullUrl.startsWith('urn:uuid:')) urns.set(entry.fullUrl, `${resource.resourceType}/${id}`);
    return [where, { ...resource, id }] as [string, Resource];
  });
  if (urns.size === 0) return resources;
  return resources.map(([where, r]) => [where, rewriteReferences(r, urns)]);
}

function rewriteReferences(value: unknown, urns: Map<string, string>): unknown {
  if (Array.isArray(value)) return value.map((v) => rewriteReferences(v, urns));
  if (!value || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = k === 'reference' && typeof v === 'string' && urns.has(v) ? urns.get(v) : rewriteReferences(v, urns);
  return out;
}
