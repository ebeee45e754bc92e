/**
 * Persistence of FHIR resources: every version kept, each body sealed (AES-256-GCM) under its
 * patient's data key, bound to its type/id/version so that a body copied onto another row fails to
 * open. Callers (the FHIR service) authorize first, load keys with `keyring.ensure` outside the
 * transaction, then call these functions inside one.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { Queryable } from '../db/index.js';
import { toBuffer, WriteBatch } from '../db/index.js';
import { open, seal } from '../keys/index.js';
import { GENERAL_SCOPE, patientScope, type Keyring } from '../keys/index.js';
import { conflict, gone, notFound, preconditionFailed, unprocessable } from '../shared/index.js';
import { labelDigests } from '../access/index.js';
import { indexEntries } from './searchParams.js';

export interface StoredVersion {
  resourceType: string;
  id: string;
  versionId: number;
  lastUpdated: Date;
  deleted: boolean;
  patientId: string | null;
  /** Undefined for a deletion marker. */
  resource?: Resource;
}

/** A version row before decryption: enough for an access decision, no patient data. */
export interface VersionRow {
  resource_type: string;
  id: string;
  version_id: number;
  last_updated: Date;
  deleted: boolean;
  patient_id: string | null;
  key_scope: string | null;
  body: unknown;
  /** Blind-index digests of the version's meta.security codes (see access/labels). */
  labels: string[];
}

/**
 * How bodies are sealed. Production always uses `encryptedBodies`; the benchmark substitutes a
 * plaintext codec to measure what encryption costs, which is why this is a seam at all.
 */
export interface BodyCodec {
  seal(scope: string, plaintext: Buffer, context: string): Buffer;
  open(scope: string, sealed: Buffer, context: string): Buffer;
}

export function encryptedBodies(keyring: Keyring): BodyCodec {
  return {
    seal: (scope, plaintext, context) => seal(keyring.cached(scope), plaintext, context),
    open: (scope, sealed, context) => open(keyring.cached(scope), sealed, context),
  };
}

export function scopeFor(patientId: string | null): string {
  return patientId ? patientScope(patientId) : GENERAL_SCOPE;
}

function bodyContext(type: string, id: string, version: number): string {
  return `fhir:${type}/${id}/_history/${version}`;
}

export class RecordStore {
  constructor(
    private readonly keyring: Keyring,
    private readonly codec: BodyCodec = encryptedBodies(keyring),
  ) {}

  /** Writes version 1 of a new resource whose id the caller assigned. */
  async insert(tx: Queryable, resource: Resource & { id: string }, patientId: string | null): Promise<StoredVersion> {
    await this.requireLivePatient(tx, resource, patientId);
    const now = new Date();
    const stored = withMeta(resource, 1, now);
    // The resource, its first version and its search index in one statement (one round trip, not
    // five); a new resource has no index rows to clear (its row here would have collided).
    const batch = new WriteBatch();
    const b = batch.bind;
    batch.add(
      `insert into records_resource (resource_type, id, version_id, last_updated, deleted, patient_id, labels)
       values (${b(resource.resourceType)}, ${b(resource.id)}, 1, ${b(now)}::timestamptz, false, ${b(patientId)}, ${b(this.labelsOf(resource))}::text[])`,
    );
    this.addVersion(batch, stored, 1, now, patientId);
    this.addIndex(batch, [stored]);
    await batch.run(tx);
    return { resourceType: resource.resourceType, id: resource.id, versionId: 1, lastUpdated: now, deleted: false, patientId, resource: stored };
  }

  /**
   * Writes version 1 of many new resources at once, with the ids they carry (an import): one
   * statement per table for the whole batch. Refuses, naming it, a resource whose type and id are
   * already stored (an import never overwrites). Unlike `insert`, does not check that each
   * resource's patient exists: an import may bring a patient after their records, so the caller
   * checks once at the end with `missingPatients`.
   */
  async insertMany(tx: Queryable, items: Array<{ resource: Resource & { id: string }; patientId: string | null }>): Promise<StoredVersion[]> {
    if (items.length === 0) return [];
    const keys = new Set<string>();
    for (const { resource } of items) {
      const key = `${resource.resourceType}/${resource.id}`;
      if (keys.has(key)) throw conflict(`${key} is given twice`);
      keys.add(key);
    }
    const existing = await tx.query<{ resource_type: string; id: string }>(
      'select resource_type, id from records_resource where (resource_type, id) in (select * from unnest($1::text[], $2::text[]))',
      [items.map((i) => i.resource.resourceType), items.map((i) => i.resource.id)],
    );
    if (existing.rows.length > 0) {
      const first = existing.rows[0];
      throw conflict(`${first.resource_type}/${first.id} is already stored; an import never replaces a stored resource`);
    }
    const now = new Date();
    const stored = items.map((i) => withMeta(i.resource, 1, now));
    const labels = items.map((i) => this.labelsOf(i.resource));
    const scopes = items.map((i) => scopeFor(i.patientId));
    const bodies = stored.map((r, k) => this.codec.seal(scopes[k], Buffer.from(JSON.stringify(r), 'utf8'), bodyContext(r.resourceType, r.id, 1)));
    const types = stored.map((r) => r.resourceType);
    const ids = stored.map((r) => r.id);
    const patients = items.map((i) => i.patientId);
    // Labels are text[] per row; unnest cannot take an array of arrays of differing lengths, so they travel as JSON.
    const labelsJson = JSON.stringify(labels);
    await tx.query(
      `insert into records_resource (resource_type, id, version_id, last_updated, deleted, patient_id, labels)
       select t, i, 1, $3, false, p, array(select jsonb_array_elements_text(l)) from unnest($1::text[], $2::text[], $4::text[], array(select jsonb_array_elements($5::jsonb))) as x(t, i, p, l)`,
      [types, ids, now, patients, labelsJson],
    );
    await tx.query(
      `insert into records_version (resource_type, id, version_id, last_updated, deleted, patient_id, key_scope, body, labels)
       select t, i, 1, $3, false, p, s, b, array(select jsonb_array_elements_text(l)) from unnest($1::text[], $2::text[], $4::text[], $5::text[], $6::bytea[], array(select jsonb_array_elements($7::jsonb))) as x(t, i, p, s, b, l)`,
      [types, ids, now, patients, scopes, bodies, labelsJson],
    );
    const index = new WriteBatch();
    this.addIndex(index, stored);
    await index.run(tx);
    return stored.map((resource, k) => ({
      resourceType: resource.resourceType,
      id: resource.id,
      versionId: 1,
      lastUpdated: now,
      deleted: false,
      patientId: patients[k],
      resource,
    }));
  }

  /** Of these patient ids, those that are not a stored, live Patient. */
  async missingPatients(q: Queryable, patientIds: string[]): Promise<string[]> {
    if (patientIds.length === 0) return [];
    const r = await q.query<{ id: string }>(
      `select p.id from unnest($1::text[]) as p(id)
       where not exists (select 1 from records_resource r where r.resource_type = 'Patient' and r.id = p.id and not r.deleted)`,
      [[...new Set(patientIds)]],
    );
    return r.rows.map((row) => row.id);
  }

  /**
   * Writes a new version of an existing resource. The row lock serialises concurrent writers across
   * processes; `ifMatch` (a version number) turns a stale write into 412 instead of a lost update.
   */
  async update(tx: Queryable, resource: Resource & { id: string }, patientId: string | null, ifMatch?: number): Promise<StoredVersion> {
    const current = await this.lockCurrent(tx, resource.resourceType, resource.id);
    if (!current) throw notFound(`${resource.resourceType}/${resource.id} does not exist; create it with POST`);
    if (ifMatch !== undefined && ifMatch !== current.version_id) {
      throw preconditionFailed(`version ${ifMatch} is not the current version (${current.version_id})`);
    }
    await this.requireLivePatient(tx, resource, patientId);
    const version = current.version_id + 1;
    const now = laterThan(current.last_updated);
    const stored = withMeta(resource, version, now);
    await tx.query(
      'update records_resource set version_id = $3, last_updated = $4, deleted = false, patient_id = $5, labels = $6 where resource_type = $1 and id = $2',
      [resource.resourceType, resource.id, version, now, patientId, this.labelsOf(resource)],
    );
    const batch = new WriteBatch();
    this.addVersion(batch, stored, version, now, patientId);
    await batch.run(tx);
    // Cleared in a statement of its own: within one statement an insert could meet the rows its delete removes.
    await this.clearIndex(tx, stored.resourceType, stored.id);
    const index = new WriteBatch();
    this.addIndex(index, [stored]);
    await index.run(tx);
    return { resourceType: resource.resourceType, id: resource.id, versionId: version, lastUpdated: now, deleted: false, patientId, resource: stored };
  }

  /** Logical delete: a new version marked deleted. Deleting a deleted resource changes nothing. */
  async delete(tx: Queryable, type: string, id: string, ifMatch?: number): Promise<StoredVersion | undefined> {
    const current = await this.lockCurrent(tx, type, id);
    if (!current) throw notFound();
    if (ifMatch !== undefined && ifMatch !== current.version_id) {
      throw preconditionFailed(`version ${ifMatch} is not the current version (${current.version_id})`);
    }
    if (current.deleted) return undefined;
    if (type === 'Patient') {
      const live = await tx.query<{ n: number }>(
        "select count(*)::int as n from records_resource where patient_id = $1 and resource_type <> 'Patient' and not deleted",
        [id],
      );
      if (live.rows[0].n > 0) throw unprocessable('this patient still has records; delete those first');
    }
    const version = current.version_id + 1;
    const now = laterThan(current.last_updated);
    await tx.query('update records_resource set version_id = $3, last_updated = $4, deleted = true where resource_type = $1 and id = $2', [
      type,
      id,
      version,
      now,
    ]);
    await tx.query(
      `insert into records_version (resource_type, id, version_id, last_updated, deleted, patient_id, key_scope, body, labels)
       values ($1, $2, $3, $4, true, $5, null, null, $6)`,
      [type, id, version, now, current.patient_id, current.labels],
    );
    await this.clearIndex(tx, type, id);
    return { resourceType: type, id, versionId: version, lastUpdated: now, deleted: true, patientId: current.patient_id };
  }

  /** The current version's row, not yet decrypted. */
  async currentRow(q: Queryable, type: string, id: string): Promise<VersionRow | undefined> {
    const r = await q.query<VersionRow>(
      `select v.* from records_resource r
       join records_version v on v.resource_type = r.resource_type and v.id = r.id and v.version_id = r.version_id
       where r.resource_type = $1 and r.id = $2`,
      [type, id],
    );
    return r.rows[0];
  }

  /**
   * The current row of ($1 type, $2 id) with `columns` computed beside it (an access context), in
   * one statement. Left joins: an id that does not exist still gives a row (of no patient, id
   * null) and its columns, so a made-up id is answered by the same statement, in the same time, as
   * a hidden one.
   */
  async currentRowWith(q: Queryable, columns: string, params: unknown[]): Promise<VersionRow> {
    const r = await q.query<VersionRow>(
      `select v.*, ${columns} from (select $1::text as resource_type, $2::text as id) k
       left join records_resource r on r.resource_type = k.resource_type and r.id = k.id
       left join records_version v on v.resource_type = r.resource_type and v.id = r.id and v.version_id = r.version_id`,
      params,
      { prepare: true },
    );
    return r.rows[0];
  }

  async versionRow(q: Queryable, type: string, id: string, version: number): Promise<VersionRow | undefined> {
    const r = await q.query<VersionRow>('select * from records_version where resource_type = $1 and id = $2 and version_id = $3', [type, id, version]);
    return r.rows[0];
  }

  /** Decrypts a row: its key must be loaded (see `loadKeys`). */
  decrypt(row: VersionRow): StoredVersion {
    const base = {
      resourceType: row.resource_type,
      id: row.id,
      versionId: row.version_id,
      lastUpdated: new Date(row.last_updated),
      deleted: row.deleted,
      patientId: row.patient_id,
    };
    if (row.deleted || row.body === null) return base;
    const plain = this.codec.open(row.key_scope!, toBuffer(row.body), bodyContext(row.resource_type, row.id, row.version_id));
    return { ...base, resource: JSON.parse(plain.toString('utf8')) as Resource };
  }

  async loadKeys(rows: VersionRow[]): Promise<void> {
    await this.keyring.ensure(rows.filter((r) => r.key_scope).map((r) => r.key_scope!));
  }

  async readable(row: VersionRow | undefined): Promise<StoredVersion> {
    if (!row) throw notFound();
    if (row.deleted) throw gone();
    await this.loadKeys([row]);
    return this.decrypt(row);
  }

  /** Adds the insert of a version, its body sealed under the patient's key. */
  private addVersion(batch: WriteBatch, resource: Resource & { id: string }, version: number, now: Date, patientId: string | null): void {
    const scope = scopeFor(patientId);
    const body = this.codec.seal(scope, Buffer.from(JSON.stringify(resource), 'utf8'), bodyContext(resource.resourceType, resource.id, version));
    const b = batch.bind;
    batch.add(
      `insert into records_version (resource_type, id, version_id, last_updated, deleted, patient_id, key_scope, body, labels)
       values (${b(resource.resourceType)}, ${b(resource.id)}, ${b(version)}::int, ${b(now)}::timestamptz, false, ${b(patientId)}, ${b(scope)}, ${b(body)}::bytea, ${b(this.labelsOf(resource))}::text[])`,
    );
  }

  /** Adds the search index rows (blind tokens, references, dates) of resources not yet indexed. */
  private addIndex(batch: WriteBatch, resources: Array<Resource & { id: string }>): void {
    const blind = this.keyring.blindIndex;
    const tokens = { t: [] as string[], i: [] as string[], h: [] as Buffer[] };
    const refs = { t: [] as string[], i: [] as string[], p: [] as string[], tt: [] as string[], ti: [] as string[] };
    const dates = { t: [] as string[], i: [] as string[], p: [] as string[], l: [] as string[], h: [] as string[] };
    for (const resource of resources) {
      const entries = indexEntries(resource);
      const hashes = new Map<string, Buffer>();
      for (const t of entries.tokens) {
        const h = blind.token(t.param, t.value);
        hashes.set(h.toString('hex'), h);
      }
      for (const s of entries.strings) for (const h of blind.prefixesOf(s.param, s.text)) hashes.set(h.toString('hex'), h);
      for (const h of hashes.values()) {
        tokens.t.push(resource.resourceType);
        tokens.i.push(resource.id);
        tokens.h.push(h);
      }
      const seen = new Set<string>();
      for (const e of entries.references) {
        const key = `${e.param}|${e.targetType}|${e.targetId}`;
        if (seen.has(key)) continue;
        seen.add(key);
        refs.t.push(resource.resourceType);
        refs.i.push(resource.id);
        refs.p.push(e.param);
        refs.tt.push(e.targetType);
        refs.ti.push(e.targetId);
      }
      for (const d of entries.dates) {
        dates.t.push(resource.resourceType);
        dates.i.push(resource.id);
        dates.p.push(d.param);
        dates.l.push(d.low);
        dates.h.push(d.high);
      }
    }
    const b = batch.bind;
    if (tokens.h.length > 0)
      batch.add(
        `insert into records_token (resource_type, id, hash) select * from unnest(${b(tokens.t)}::text[], ${b(tokens.i)}::text[], ${b(tokens.h)}::bytea[])`,
      );
    if (refs.p.length > 0)
      batch.add(
        `insert into records_reference (resource_type, id, param, target_type, target_id)
         select * from unnest(${b(refs.t)}::text[], ${b(refs.i)}::text[], ${b(refs.p)}::text[], ${b(refs.tt)}::text[], ${b(refs.ti)}::text[])`,
      );
    if (dates.p.length > 0)
      batch.add(
        `insert into records_date (resource_type, id, param, low, high)
         select t, i, p, l::timestamptz, h::timestamptz from unnest(${b(dates.t)}::text[], ${b(dates.i)}::text[], ${b(dates.p)}::text[], ${b(dates.l)}::text[], ${b(dates.h)}::text[]) as x(t, i, p, l, h)`,
      );
  }

  private async clearIndex(tx: Queryable, type: string, id: string): Promise<void> {
    await tx.query('delete from records_token where resource_type = $1 and id = $2', [type, id]);
    await tx.query('delete from records_date where resource_type = $1 and id = $2', [type, id]);
    await tx.query('delete from records_reference where resource_type = $1 and id = $2', [type, id]);
  }

  /** Security labels as digests: the sensitivity of a row is visible to the access rules, not to a reader of the database. */
  labelsOf(resource: Resource): string[] {
    return labelDigests(this.keyring.blindIndex, resource);
  }

  private async lockCurrent(tx: Queryable, type: string, id: string) {
    const r = await tx.query<{ version_id: number; deleted: boolean; patient_id: string | null; last_updated: Date; labels: string[] }>(
      'select version_id, deleted, patient_id, last_updated, labels from records_resource where resource_type = $1 and id = $2 for update',
      [type, id],
    );
    return r.rows[0];
  }

  /** A clinical record may only be filed under a patient that exists and is not deleted. */
  private async requireLivePatient(tx: Queryable, resource: Resource, patientId: string | null): Promise<void> {
    if (!patientId || resource.resourceType === 'Patient') return;
    const r = await tx.query<{ deleted: boolean }>("select deleted from records_resource where resource_type = 'Patient' and id = $1", [patientId]);
    if (!r.rows[0] || r.rows[0].deleted) throw unprocessable(`${resource.resourceType} references a patient that does not exist on this server`);
  }
}

function withMeta<T extends Resource>(resource: T, version: number, at: Date): T {
  return { ...resource, meta: { ...resource.meta, versionId: String(version), lastUpdated: at.toISOString() } };
}

/** Versions of one resource get strictly increasing times even if clocks of two processes differ. */
function laterThan(previous: Date): Date {
  const now = Date.now();
  const prev = new Date(previous).getTime();
  return new Date(Math.max(now, prev + 1));
}
