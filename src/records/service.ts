/**
 * The FHIR service: every interaction validates its input, asks the enforcement point
 * (access/authorize) before any patient data is decrypted or written, and keeps the write in one
 * transaction. HTTP routes and Bundles are thin callers of these methods.
 */
import crypto from 'node:crypto';
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import { authorize, type FhirAction, type Who } from '../access/authorize.js';
import type { Database, Queryable } from '../db/database.js';
import type { Keyring } from '../keys/keyring.js';
import { badRequest, FhirError, notFound } from './outcome.js';
import { compartmentOf, ID_PATTERN, isSupportedType } from './resourceTypes.js';
import { compileSearch, type SearchQuery } from './search.js';
import { RecordStore, scopeFor, type BodyCodec, type StoredVersion, type VersionRow } from './store.js';
import { validateBody } from './validate.js';

/** A write that has been validated and authorized, ready to run inside a transaction. */
export interface PreparedWrite {
  method: 'POST' | 'PUT' | 'DELETE';
  resourceType: string;
  id: string;
  resource?: Resource & { id: string };
  patientId: string | null;
  ifMatch?: number;
}

export class FhirService {
  readonly store: RecordStore;

  constructor(
    readonly db: Database,
    private readonly keyring: Keyring,
    codec?: BodyCodec,
  ) {
    this.store = new RecordStore(keyring, codec);
  }

  async read(who: Who, type: string, id: string): Promise<StoredVersion> {
    requireType(type);
    const row = await this.store.currentRow(this.db, type, requireId(id));
    this.check(who, 'read', type, id, row);
    return this.store.readable(row);
  }

  async vread(who: Who, type: string, id: string, version: string): Promise<StoredVersion> {
    requireType(type);
    if (!/^\d{1,9}$/.test(version)) throw notFound('no such version');
    const row = await this.store.versionRow(this.db, type, requireId(id), Number(version));
    this.check(who, 'vread', type, id, row);
    return this.store.readable(row);
  }

  async create(who: Who, type: string, body: unknown): Promise<StoredVersion> {
    const write = this.prepareCreate(who, body, type);
    return this.commit([write]).then((r) => r[0]!);
  }

  async update(who: Who, type: string, id: string, body: unknown, ifMatch?: string): Promise<StoredVersion> {
    const write = await this.prepareUpdate(who, type, id, body, ifMatch);
    return this.commit([write]).then((r) => r[0]!);
  }

  /** Returns the deletion marker, or undefined when the resource was already deleted. */
  async delete(who: Who, type: string, id: string, ifMatch?: string): Promise<StoredVersion | undefined> {
    const write = await this.prepareDelete(who, type, id, ifMatch);
    return (await this.commit([write]))[0];
  }

  prepareCreate(who: Who, body: unknown, type?: string, id: string = crypto.randomUUID()): PreparedWrite {
    if (type) requireType(type);
    const parsed = validateBody(body, type);
    // A client-supplied id on create is ignored, as FHIR specifies: the server assigns ids.
    const resource = { ...parsed, id } as Resource & { id: string };
    const patientId = patientOf(resource);
    authorize(who, 'create', { resourceType: resource.resourceType, id, patientId: patientId ?? undefined });
    return { method: 'POST', resourceType: resource.resourceType, id, resource, patientId };
  }

  async prepareUpdate(who: Who, type: string, id: string, body: unknown, ifMatch?: string): Promise<PreparedWrite> {
    requireType(type);
    requireId(id);
    const parsed = validateBody(body, type);
    if (parsed.id === undefined) throw badRequest('the resource must carry its id in an update');
    if (parsed.id !== id) throw badRequest('the resource id does not match the URL');
    const resource = parsed as Resource & { id: string };
    const patientId = patientOf(resource);
    // Both the compartment it leaves and the one it joins must allow the write.
    const current = await this.store.currentRow(this.db, type, id);
    if (!current) throw notFound(`${type}/${id} does not exist; create it with POST`);
    this.check(who, 'update', type, id, current);
    authorize(who, 'update', { resourceType: type, id, patientId: patientId ?? undefined });
    return { method: 'PUT', resourceType: type, id, resource, patientId, ifMatch: parseIfMatch(ifMatch) };
  }

  async prepareDelete(who: Who, type: string, id: string, ifMatch?: string): Promise<PreparedWrite> {
    requireType(type);
    const current = await this.store.currentRow(this.db, type, requireId(id));
    if (!current) throw notFound();
    this.check(who, 'delete', type, id, current);
    return { method: 'DELETE', resourceType: type, id, patientId: current.patient_id, ifMatch: parseIfMatch(ifMatch) };
  }

  /** Runs prepared writes in one transaction, in the given order; all or nothing. */
  async commit(writes: PreparedWrite[]): Promise<Array<StoredVersion | undefined>> {
    await this.keyring.ensure(writes.filter((w) => w.resource).map((w) => scopeFor(w.patientId)));
    return this.db.transaction(async (tx) => {
      const results: Array<StoredVersion | undefined> = [];
      for (const w of writes) results.push(await this.execute(tx, w));
      return results;
    });
  }

  private execute(tx: Queryable, w: PreparedWrite): Promise<StoredVersion | undefined> {
    if (w.method === 'POST') return this.store.insert(tx, w.resource!, w.patientId);
    if (w.method === 'PUT') return this.store.update(tx, w.resource!, w.patientId, w.ifMatch);
    return this.store.delete(tx, w.resourceType, w.id, w.ifMatch);
  }

  async search(who: Who, type: string, query: SearchQuery, selfUrl: URL): Promise<Bundle> {
    requireType(type);
    authorize(who, 'search', { resourceType: type });
    const compiled = compileSearch(type, query, this.keyring.blindIndex);
    const total = (
      await this.db.query<{ n: number }>(`select count(*)::int as n from records_resource r where ${compiled.where}`, compiled.params)
    ).rows[0].n;
    let rows: VersionRow[] = [];
    if (!compiled.summaryCount && compiled.count > 0) {
      const p = compiled.params.length;
      rows = (
        await this.db.query<VersionRow>(
          `select v.* from records_resource r
           join records_version v on v.resource_type = r.resource_type and v.id = r.id and v.version_id = r.version_id
           where ${compiled.where}
           order by r.last_updated desc, r.id
           limit $${p + 1} offset $${p + 2}`,
          [...compiled.params, compiled.count, compiled.offset],
        )
      ).rows;
    }
    for (const row of rows) this.check(who, 'search', type, row.id, row);
    await this.store.loadKeys(rows);
    const entries: BundleEntry[] = rows.map((row) => {
      const v = this.store.decrypt(row);
      return { fullUrl: resourceUrl(selfUrl, type, row.id), resource: v.resource, search: { mode: 'match' } };
    });
    return {
      resourceType: 'Bundle',
      id: crypto.randomUUID(),
      type: 'searchset',
      total,
      link: pageLinks(selfUrl, compiled.offset, compiled.count, total),
      entry: entries,
    };
  }

  /** Instance history (with id) or type history; newest first, deletions included. */
  async history(who: Who, type: string, id: string | undefined, query: SearchQuery, selfUrl: URL): Promise<Bundle> {
    requireType(type);
    if (id !== undefined) requireId(id);
    const count = Math.min(Number(query._count?.[0] ?? 20) || 20, 1000);
    const offset = Number(query._offset?.[0] ?? 0) || 0;
    const since = query._since?.[0];
    const conds = ['resource_type = $1'];
    const params: unknown[] = [type];
    if (id !== undefined) {
      params.push(id);
      conds.push(`id = $${params.length}`);
      const current = await this.store.currentRow(this.db, type, id);
      if (!current) throw notFound();
      this.check(who, 'history', type, id, current);
    } else {
      authorize(who, 'history', { resourceType: type });
    }
    if (since !== undefined) {
      if (Number.isNaN(Date.parse(since))) throw badRequest('_since must be an instant');
      params.push(new Date(since));
      conds.push(`last_updated >= $${params.length}`);
    }
    const where = conds.join(' and ');
    const total = (await this.db.query<{ n: number }>(`select count(*)::int as n from records_version where ${where}`, params)).rows[0].n;
    const rows = (
      await this.db.query<VersionRow>(
        `select * from records_version where ${where} order by last_updated desc, id, version_id desc limit $${params.length + 1} offset $${params.length + 2}`,
        [...params, count, offset],
      )
    ).rows;
    for (const row of rows) this.check(who, 'history', type, row.id, row);
    await this.store.loadKeys(rows);
    const entries: BundleEntry[] = rows.map((row) => {
      const v = this.store.decrypt(row);
      const url = `${type}/${row.id}`;
      return {
        fullUrl: resourceUrl(selfUrl, type, row.id),
        resource: v.resource,
        request: { method: row.deleted ? 'DELETE' : row.version_id === 1 ? 'POST' : 'PUT', url: row.version_id === 1 ? type : url },
        response: { status: row.deleted ? '204' : row.version_id === 1 ? '201' : '200', etag: `W/"${row.version_id}"`, lastModified: new Date(row.last_updated).toISOString() },
      };
    });
    return { resourceType: 'Bundle', id: crypto.randomUUID(), type: 'history', total, link: pageLinks(selfUrl, offset, count, total), entry: entries };
  }

  /** Asks the enforcement point about a stored row (its compartment), before decrypting it. */
  private check(who: Who, action: FhirAction, type: string, id: string, row: VersionRow | undefined): void {
    authorize(who, action, { resourceType: type, id, patientId: row?.patient_id ?? undefined });
  }
}

function patientOf(resource: Resource & { id: string }): string | null {
  const c = compartmentOf(resource);
  if ('error' in c) throw new FhirError(422, 'processing', c.error);
  return c.patientId;
}

export function requireType(type: string): void {
  if (!isSupportedType(type)) throw new FhirError(404, 'not-supported', 'this server does not serve that resource type');
}

function requireId(id: string): string {
  if (!ID_PATTERN.test(id)) throw notFound();
  return id;
}

/** If-Match: W/"3", "3" or 3. */
export function parseIfMatch(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const m = /^(?:W\/)?"?(\d{1,9})"?$/.exec(header.trim());
  if (!m) throw badRequest('If-Match must be an ETag such as W/"3"');
  return Number(m[1]);
}

function resourceUrl(selfUrl: URL, type: string, id: string): string {
  return `${selfUrl.origin}/fhir/${type}/${id}`;
}

function pageLinks(selfUrl: URL, offset: number, count: number, total: number): Bundle['link'] {
  const at = (o: number) => {
    const u = new URL(selfUrl);
    u.searchParams.set('_offset', String(o));
    u.searchParams.set('_count', String(count));
    return u.toString();
  };
  const links: NonNullable<Bundle['link']> = [{ relation: 'self', url: selfUrl.toString() }];
  if (count > 0) {
    links.push({ relation: 'first', url: at(0) });
    if (offset > 0) links.push({ relation: 'previous', url: at(Math.max(0, offset - count)) });
    if (offset + count < total) links.push({ relation: 'next', url: at(offset + count) });
  }
  return links;
}
