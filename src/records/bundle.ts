/**
 * transaction and batch Bundles. A transaction is all or nothing: every entry is validated and
 * authorized first, then all writes run in one database transaction (deletes, creates, updates, as
 * FHIR orders them), and reads run after the commit. A batch runs each entry on its own.
 */
import crypto from 'node:crypto';
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import type { Who } from '../shared/index.js';
import { AccessDeniedError } from '../access/index.js';
import { badRequest, FhirError, outcome, preconditionFailed } from '../shared/index.js';
import { conditionQuery, searchQuery, type SearchQuery } from './search.js';
import { withConditionalId } from './requestChecks.js';
import type { PreparedWrite, FhirService } from './service.js';
import type { StoredVersion } from './store.js';

const MAX_ENTRIES = 5000;

interface ParsedRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  type: string;
  id?: string;
  version?: string;
  query?: URLSearchParams;
  ifMatch?: string;
  /** Conditional create (request.ifNoneExist) or update (PUT Type?criteria). */
  criteria?: SearchQuery;
  /** A conditional create whose criteria matched this resource: nothing is written. */
  existing?: string;
}

export async function processBundle(fhir: FhirService, who: Who, body: unknown, selfUrl: URL): Promise<Bundle> {
  if (!body || typeof body !== 'object' || (body as Resource).resourceType !== 'Bundle') throw badRequest('expected a Bundle');
  const bundle = body as Bundle;
  if (bundle.type !== 'transaction' && bundle.type !== 'batch') throw badRequest('Bundle.type must be transaction or batch');
  const entries = bundle.entry ?? [];
  if (!Array.isArray(entries)) throw badRequest('Bundle.entry must be an array');
  if (entries.length > MAX_ENTRIES) throw badRequest(`a Bundle may hold at most ${MAX_ENTRIES} entries`);
  return bundle.type === 'transaction' ? transaction(fhir, who, entries, selfUrl) : batch(fhir, who, entries, selfUrl);
}

async function transaction(fhir: FhirService, who: Who, entries: BundleEntry[], selfUrl: URL): Promise<Bundle> {
  const requests = entries.map((e, i) => atEntry(i, () => parseRequest(e)));
  // Conditions are settled first, against what the caller may see before the transaction: a
  // conditional create that matches writes nothing, a conditional update becomes an update or a create.
  for (let i = 0; i < requests.length; i++) {
    const r = requests[i];
    if (!r.criteria) continue;
    const found = await atEntry(i, async () => {
      const rows = await fhir.conditionalMatches(who, r.type, r.criteria!);
      if (rows.length > 1) throw preconditionFailed('the criteria match more than one resource');
      return rows[0]?.id;
    });
    if (r.method === 'POST' && found) r.existing = found;
    else if (r.method === 'PUT' && found) r.id = found;
    else if (r.method === 'PUT') r.method = 'POST';
  }
  // New resources get their ids up front so that urn:uuid references between entries resolve.
  const newIds = new Map<number, string>();
  const urnMap = new Map<string, string>();
  requests.forEach((r, i) => {
    const fullUrl = entries[i].fullUrl;
    let target: string | undefined;
    if (r.existing) target = r.existing;
    else if (r.method === 'POST') {
      target = crypto.randomUUID();
      newIds.set(i, target);
    } else if (r.method === 'PUT' && r.criteria) target = r.id;
    if (fullUrl && target) urnMap.set(fullUrl, `${r.type}/${target}`);
  });
  const prepared: Array<PreparedWrite | undefined> = [];
  for (let i = 0; i < entries.length; i++) {
    const r = requests[i];
    const resource = entries[i].resource ? resolveReferences(entries[i].resource, urnMap) : undefined;
    prepared.push(
      await atEntry(i, async () => {
        if (r.existing) return undefined;
        if (r.method === 'POST') return fhir.prepareCreate(who, resource, r.type, newIds.get(i));
        if (r.method === 'PUT') return fhir.prepareUpdate(who, r.type, r.id!, r.criteria ? withConditionalId(resource, r.id!) : resource, r.ifMatch);
        if (r.method === 'DELETE') return fhir.prepareDelete(who, r.type, r.id!, r.ifMatch);
        return undefined;
      }),
    );
  }
  // FHIR's processing order: DELETE, POST, PUT, then GET; patients before what is filed under them.
  const rank = (i: number) => {
    const m = requests[i].method;
    return (m === 'DELETE' ? 0 : m === 'POST' ? (requests[i].type === 'Patient' ? 1 : 2) : 3) * MAX_ENTRIES + i;
  };
  const order = prepared
    .map((_, i) => i)
    .filter((i) => prepared[i])
    .sort((a, b) => rank(a) - rank(b));
  const written = new Map<number, StoredVersion | undefined>();
  let results: Array<StoredVersion | undefined>;
  try {
    results = await fhir.commit(order.map((i) => prepared[i]!));
  } catch (err) {
    throw err instanceof FhirError ? new FhirError(err.status, err.code, `transaction failed, nothing was stored: ${err.message}`, err.issues) : err;
  }
  order.forEach((i, k) => written.set(i, results[k]));
  const responses: BundleEntry[] = [];
  for (let i = 0; i < entries.length; i++) {
    const r = requests[i];
    if (r.existing) responses.push(await atEntry(i, async () => versionEntry(await fhir.read(who, r.type, r.existing!), '200 OK', selfUrl)));
    else if (r.method === 'GET') responses.push(await atEntry(i, () => getEntry(fhir, who, r, selfUrl)));
    else responses.push(writeEntry(r, written.get(i), selfUrl));
  }
  return { resourceType: 'Bundle', id: crypto.randomUUID(), type: 'transaction-response', entry: responses };
}

async function batch(fhir: FhirService, who: Who, entries: BundleEntry[], selfUrl: URL): Promise<Bundle> {
  const responses: BundleEntry[] = [];
  for (const entry of entries) {
    try {
      const r = parseRequest(entry);
      if (r.method === 'GET') responses.push(await getEntry(fhir, who, r, selfUrl));
      else if (r.criteria) {
        const c =
          r.method === 'POST'
            ? await fhir.conditionalCreate(who, r.type, entry.resource, r.criteria)
            : await fhir.conditionalUpdate(who, r.type, r.criteria, entry.resource, r.ifMatch);
        responses.push(versionEntry(c.version, c.created ? '201 Created' : '200 OK', selfUrl));
      } else if (r.method === 'POST') responses.push(writeEntry(r, await fhir.create(who, r.type, entry.resource), selfUrl));
      else if (r.method === 'PUT') responses.push(writeEntry(r, await fhir.update(who, r.type, r.id!, entry.resource, r.ifMatch), selfUrl));
      else responses.push(writeEntry(r, await fhir.delete(who, r.type, r.id!, r.ifMatch), selfUrl));
    } catch (err) {
      responses.push(errorEntry(err));
    }
  }
  return { resourceType: 'Bundle', id: crypto.randomUUID(), type: 'batch-response', entry: responses };
}

async function getEntry(fhir: FhirService, who: Who, r: ParsedRequest, selfUrl: URL): Promise<BundleEntry> {
  if (!r.id) {
    const query = searchQuery(r.query ?? []);
    const url = new URL(`${selfUrl.origin}/fhir/${r.type}?${r.query?.toString() ?? ''}`);
    return { resource: await fhir.search(who, r.type, query, url), response: { status: '200' } };
  }
  const v = r.version ? await fhir.vread(who, r.type, r.id, r.version) : await fhir.read(who, r.type, r.id);
  return { resource: v.resource, response: { status: '200', etag: `W/"${v.versionId}"`, lastModified: v.lastUpdated.toISOString() } };
}

function writeEntry(r: ParsedRequest, v: StoredVersion | undefined, selfUrl: URL): BundleEntry {
  if (r.method === 'DELETE' || !v) return { response: { status: '204' } };
  return versionEntry(v, r.method === 'POST' ? '201 Created' : '200 OK', selfUrl);
}

function versionEntry(v: StoredVersion, status: string, selfUrl: URL): BundleEntry {
  return {
    fullUrl: `${selfUrl.origin}/fhir/${v.resourceType}/${v.id}`,
    resource: v.resource,
    response: {
      status,
      location: `${v.resourceType}/${v.id}/_history/${v.versionId}`,
      etag: `W/"${v.versionId}"`,
      lastModified: v.lastUpdated.toISOString(),
    },
  };
}

function errorEntry(err: unknown): BundleEntry {
  if (err instanceof FhirError) return { response: { status: String(err.status), outcome: err.toOutcome() } };
  if (err instanceof AccessDeniedError) return { response: { status: '403', outcome: outcome('forbidden', 'access denied') } };
  throw err;
}

function parseRequest(entry: BundleEntry): ParsedRequest {
  const method = entry.request?.method;
  const url = entry.request?.url;
  if (!method || !['GET', 'POST', 'PUT', 'DELETE'].includes(method)) throw badRequest('request.method must be GET, POST, PUT or DELETE');
  if (typeof url !== 'string' || url === '') throw badRequest('request.url is required');
  const [path, search] = url.replace(/^\/?(fhir\/)?/, '').split('?', 2);
  const parts = path.split('/');
  const r: ParsedRequest = { method: method as ParsedRequest['method'], type: parts[0], ifMatch: entry.request?.ifMatch };
  if (parts.length >= 2) r.id = parts[1];
  if (parts.length === 4 && parts[2] === '_history') r.version = parts[3];
  else if (parts.length > 2) throw badRequest('request.url is not a supported interaction');
  if (search !== undefined) {
    if (method === 'GET') r.query = new URLSearchParams(search);
    else if (method === 'PUT' && !r.id) r.criteria = conditionQuery(new URLSearchParams(search));
    else throw badRequest('search criteria in request.url are supported on GET and on PUT Type?criteria (conditional update) only');
  }
  const ifNoneExist = entry.request?.ifNoneExist;
  if (ifNoneExist !== undefined) {
    if (method !== 'POST' || typeof ifNoneExist !== 'string') throw badRequest('request.ifNoneExist applies to POST entries');
    r.criteria = conditionQuery(ifNoneExist);
  }
  if (method === 'POST' && r.id) throw badRequest('POST entries create: request.url must be the resource type');
  if (method === 'PUT' && !r.id && !r.criteria) throw badRequest('PUT entries need request.url Type/id or Type?criteria');
  if (method === 'DELETE' && !r.id) throw badRequest('DELETE entries need request.url Type/id');
  if (method !== 'GET' && method !== 'DELETE' && !entry.resource) throw badRequest(`${method} entries need a resource`);
  return r;
}

/** Replaces references to other entries' fullUrls (urn:uuid:...) with the ids assigned here. */
function resolveReferences<T>(node: T, map: Map<string, string>): T {
  if (map.size === 0) return node;
  if (Array.isArray(node)) return node.map((n) => resolveReferences(n, map)) as T;
  if (node && typeof node === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) {
      out[k] = k === 'reference' && typeof v === 'string' && map.has(v) ? map.get(v) : resolveReferences(v, map);
    }
    return out as T;
  }
  return node;
}

/** Tags an entry's error with its position, so the client knows which one failed. */
function atEntry<T>(index: number, fn: () => T): T {
  const tag = (err: unknown) => {
    if (err instanceof FhirError) return new FhirError(err.status, err.code, `entry ${index}: ${err.message}`, err.issues);
    return err;
  };
  try {
    const result = fn();
    if (result instanceof Promise) return result.catch((e) => Promise.reject(tag(e))) as T;
    return result;
  } catch (err) {
    throw tag(err);
  }
}
