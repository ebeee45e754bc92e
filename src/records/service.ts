/**
 * The FHIR service: every interaction validates its input, asks the enforcement point
 * (access/authorize) before any patient data is decrypted or written, and keeps the write in one
 * transaction. HTTP routes and Bundles are thin callers of these methods.
 */
import crypto from 'node:crypto';
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import { AccessDeniedError, type FhirAction, type Who } from '../access/authorize.js';
import type { AccessDecision, AccessPolicy, AccessTarget, Mode } from '../access/policy.js';
import type { Database, Queryable } from '../db/database.js';
import type { Keyring } from '../keys/keyring.js';
import { fetchIncluded, MAX_INCLUDED } from './include.js';
import { badRequest, FhirError, notFound, outcome, preconditionFailed, unprocessable } from './outcome.js';
import { compartmentOf, ID_PATTERN, isSupportedType } from './resourceTypes.js';
import { compileSearch, type SearchQuery, type Visible } from './search.js';
import { RecordStore, scopeFor, type BodyCodec, type StoredVersion, type VersionRow } from './store.js';
import { validateBody } from './validate.js';

/**
 * A write that has been validated and whose stored version the caller may replace, ready to run
 * inside a transaction. The new state is checked in that transaction, after the writes before it,
 * so a transaction registering a patient (naming its physician) may also file that patient's first
 * records, while a relationship to someone else's patient can never be created in passing.
 */
export interface PreparedWrite {
  method: 'POST' | 'PUT' | 'DELETE';
  resourceType: string;
  id: string;
  resource?: Resource & { id: string };
  patientId: string | null;
  ifMatch?: number;
  who: Who;
  /** The decision on the stored version an update or delete replaces: recorded with the write. */
  replaced?: AccessDecision;
}

/**
 * Runs inside the transaction of every write. It may hand back a function to run once the
 * transaction has ended (a cache to drop entries from: only then can a reader see the change).
 */
export type WriteHook = (tx: Queryable, version: StoredVersion, who: Who) => Promise<void | (() => void)>;

/** As WriteHook, for many new resources written at once (an import). */
export type NewVersionsHook = (tx: Queryable, versions: StoredVersion[]) => Promise<void | (() => void)>;

/** A search by more patients than this uses the general access rule (one context per patient otherwise). */
const MAX_PINNED_PATIENTS = 20;

export class FhirService {
  readonly store: RecordStore;
  readonly writeHooks: WriteHook[] = [];
  readonly newVersionsHooks: NewVersionsHook[] = [];
  /**
   * Run first in every write transaction, before any row is locked (the audit log takes its
   * sequencer lock here, so that every write transaction takes its locks in the same order).
   */
  readonly writePreludes: Array<(tx: Queryable) => Promise<void>> = [];

  constructor(
    readonly db: Database,
    private readonly keyring: Keyring,
    readonly access: AccessPolicy,
    codec?: BodyCodec,
  ) {
    this.store = new RecordStore(keyring, codec);
  }

  /** The same service with another body codec (the benchmark's plaintext baseline); hooks are kept. */
  withCodec(codec: BodyCodec): FhirService {
    const other = new FhirService(this.db, this.keyring, this.access, codec);
    other.writeHooks.push(...this.writeHooks);
    other.newVersionsHooks.push(...this.newVersionsHooks);
    other.writePreludes.push(...this.writePreludes);
    return other;
  }

  async read(who: Who, type: string, id: string): Promise<StoredVersion> {
    requireType(type);
    requireId(id);
    // While the access cache serves, the row is fetched alone and decided from the cached context;
    // otherwise the row and what its decision needs come in one statement (one round trip).
    const params: unknown[] = [type, id];
    const context = this.access.readContext(who, type, 'v', bindTo(params));
    if (!context) {
      const row = await this.store.currentRow(this.db, type, id);
      await this.check(who, 'read', 'read', type, id, row);
      return this.store.readable(row);
    }
    const row = (
      await this.db.query<VersionRow>(
        `select v.*, ${context.columns} from records_resource r
         join records_version v on v.resource_type = r.resource_type and v.id = r.id and v.version_id = r.version_id
         where r.resource_type = $1 and r.id = $2`,
        params,
        { prepare: true },
      )
    ).rows[0];
    if (!row) {
      await this.check(who, 'read', 'read', type, id, undefined);
      throw notFound();
    }
    const target: AccessTarget = { resourceType: type, id, patientId: row.patient_id, labels: row.labels, version: row.version_id };
    const decision = this.access.decideFetched(who, 'read', target, context.roles, row);
    await this.access.record(who, 'read', target, decision);
    if (!decision.allowed) throw new AccessDeniedError(decision);
    return this.store.readable(row);
  }

  async vread(who: Who, type: string, id: string, version: string): Promise<StoredVersion> {
    requireType(type);
    requireId(id);
    const row = /^\d{1,9}$/.test(version) ? await this.store.versionRow(this.db, type, id, Number(version)) : undefined;
    // A version that does not exist of a resource that does is decided on the resource: 404 to those who may see it.
    await this.check(who, 'vread', 'read', type, id, row ?? (await this.store.currentRow(this.db, type, id)));
    return this.store.readable(row);
  }

  async create(who: Who, type: string, body: unknown): Promise<StoredVersion> {
    const write = await this.prepareCreate(who, body, type);
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

  async prepareCreate(who: Who, body: unknown, type?: string, id: string = crypto.randomUUID()): Promise<PreparedWrite> {
    if (type) requireType(type);
    // Refused before validation when the role may never create this type: its validator's verdict is not for them.
    if (type) await this.requireRole(who, 'create', type);
    const parsed = validateBody(body, type);
    // A client-supplied id on create is ignored, as FHIR specifies: the server assigns ids.
    const resource = { ...parsed, id } as Resource & { id: string };
    const patientId = patientOf(resource);
    return { method: 'POST', resourceType: resource.resourceType, id, resource, patientId, who };
  }

  async prepareUpdate(who: Who, type: string, id: string, body: unknown, ifMatch?: string): Promise<PreparedWrite> {
    requireType(type);
    requireId(id);
    // The stored version first: whether it exists is not told to someone who may not change it.
    const current = await this.store.currentRow(this.db, type, id);
    const replaced = await this.check(who, 'update', 'replace', type, id, current, { recordAllowed: false });
    if (!current) throw notFound(`${type}/${id} does not exist; create it with POST`);
    const parsed = validateBody(body, type);
    if (parsed.id === undefined) throw badRequest('the resource must carry its id in an update');
    if (parsed.id !== id) throw badRequest('the resource id does not match the URL');
    const resource = parsed as Resource & { id: string };
    const patientId = patientOf(resource);
    // Both the compartment it leaves and the one it joins must allow the write.
    return { method: 'PUT', resourceType: type, id, resource, patientId, ifMatch: parseIfMatch(ifMatch), who, replaced };
  }

  async prepareDelete(who: Who, type: string, id: string, ifMatch?: string): Promise<PreparedWrite> {
    requireType(type);
    const current = await this.store.currentRow(this.db, type, requireId(id));
    const replaced = await this.check(who, 'delete', 'delete', type, id, current, { recordAllowed: false });
    if (!current) throw notFound();
    return { method: 'DELETE', resourceType: type, id, patientId: current.patient_id, ifMatch: parseIfMatch(ifMatch), who, replaced };
  }

  /** Runs prepared writes in one transaction, in the given order; all or nothing. */
  async commit(writes: PreparedWrite[]): Promise<Array<StoredVersion | undefined>> {
    await this.keyring.ensure(writes.filter((w) => w.resource).map((w) => scopeFor(w.patientId)));
    return this.writeTransaction(async (tx, after, refused) => {
      const results: Array<StoredVersion | undefined> = [];
      for (const w of writes) results.push(await this.execute(tx, w, after, refused));
      return results;
    });
  }

  /**
   * Stores new resources under the ids they carry, all in one transaction (an import): `feed`
   * hands over batches, each resource already validated by the caller; a resource whose id is
   * stored already refuses the whole import. A resource's patient may come in any batch, so that
   * each names a stored or imported patient is checked once at the end. `finish` runs last, inside
   * the transaction (the import's audit record). Nothing is stored unless all of it is.
   */
  async importResources<T>(
    feed: (add: (batch: Array<Resource & { id: string }>) => Promise<void>) => Promise<T>,
    finish: (tx: Queryable, result: T) => Promise<void>,
  ): Promise<T> {
    const createdKeys: string[] = [];
    const run = async (tx: Queryable, after: Array<() => void>): Promise<T> => {
      const patients = new Set<string>();
      const result = await feed(async (batch) => {
        const items = batch.map((resource) => ({ resource, patientId: patientOf(resource) }));
        // New patients' keys are made in the import's transaction, to vanish with it.
        createdKeys.push(...(await this.keyring.ensureWithin(tx, items.map((i) => scopeFor(i.patientId)))));
        for (const i of items) if (i.patientId && i.resource.resourceType !== 'Patient') patients.add(i.patientId);
        const versions = await this.store.insertMany(tx, items);
        for (const hook of this.newVersionsHooks) {
          const done = await hook(tx, versions);
          if (done) after.push(done);
        }
      });
      const missing = await this.store.missingPatients(tx, [...patients]);
      if (missing.length > 0) {
        throw unprocessable(`records name ${missing.length} patient(s) neither stored nor imported, among them Patient/${missing[0]}`);
      }
      await finish(tx, result);
      return result;
    };
    try {
      // Without the preludes: an import takes the audit log's sequencer lock only for its record at
      // the end, so that a running server's audit appends do not wait for the whole import. The
      // rows it inserts are new, so no other writer waits on them in between.
      return await this.writeTransaction(run, false);
    } catch (err) {
      this.keyring.forget(createdKeys);
      throw err;
    }
  }

  /**
   * A transaction that writes. The hooks' after-functions run when it has ended, committed or not.
   * A refusal met inside it is recorded once it has rolled back (a record appended inside would be
   * rolled back with it), before the refusal reaches the caller.
   */
  private async writeTransaction<T>(
    fn: (tx: Queryable, after: Array<() => void>, refused: Array<() => Promise<void>>) => Promise<T>,
    withPreludes = true,
  ): Promise<T> {
    const after: Array<() => void> = [];
    const refused: Array<() => Promise<void>> = [];
    try {
      return await this.db.transaction(async (tx) => {
        if (withPreludes) for (const prelude of this.writePreludes) await prelude(tx);
        return fn(tx, after, refused);
      });
    } catch (err) {
      for (const record of refused) await record();
      throw err;
    } finally {
      for (const f of after) f();
    }
  }

  /**
   * One write: the new state decided, the version stored, and the write recorded with its version
   * in the same transaction, so that a stored version never lacks its audit record.
   */
  private async execute(tx: Queryable, w: PreparedWrite, after: Array<() => void>, refused: Array<() => Promise<void>>): Promise<StoredVersion | undefined> {
    const action: FhirAction = w.method === 'POST' ? 'create' : w.method === 'PUT' ? 'update' : 'delete';
    let decision = w.replaced;
    let target: AccessTarget = { resourceType: w.resourceType, id: w.id, patientId: w.patientId };
    if (w.resource) {
      const checked = await this.checkNew(tx, w.who, action, w.resource, w.patientId);
      target = checked.target;
      decision = checked.decision;
      if (!decision.allowed) {
        const denied = decision;
        refused.push(() => this.access.record(w.who, action, checked.target, denied));
        throw new AccessDeniedError(denied);
      }
    }
    let v: StoredVersion | undefined;
    if (w.method === 'POST') v = await this.store.insert(tx, w.resource!, w.patientId);
    else if (w.method === 'PUT') v = await this.store.update(tx, w.resource!, w.patientId, w.ifMatch);
    else v = await this.store.delete(tx, w.resourceType, w.id, w.ifMatch);
    if (v) {
      if (decision) await this.access.record(w.who, action, { ...target, version: v.versionId }, decision, tx);
      for (const hook of this.writeHooks) {
        const done = await hook(tx, v, w.who);
        if (done) after.push(done);
      }
    }
    return v;
  }

  async search(who: Who, type: string, query: SearchQuery, selfUrl: URL): Promise<Bundle> {
    requireType(type);
    await this.requireRole(who, 'search', type);
    // One rule for every row a search looks at: the matches, _has sub-queries and inclusions.
    const visible: Visible = (t, alias, bind) => this.access.predicate(who, t, 'read', 'search', alias, bind);
    const compiled = compileSearch(type, query, this.keyring.blindIndex, visible);
    // The access rule joins the WHERE clause: totals and pages count only what the caller may see.
    // Confined to a few patients (a chart's searches), the rule is those patients' own: cheaper to
    // plan than the rule for every patient, and the same as a read of each row would apply.
    const pinned = compiled.patientIds && compiled.patientIds.length <= MAX_PINNED_PATIENTS ? await this.access.pinnedPredicate(who, type, compiled.patientIds, 'r', bindTo(compiled.params)) : undefined;
    compiled.where = `${compiled.where} and ${pinned ?? visible(type, 'r', bindTo(compiled.params))}`;
    const wantTotal = compiled.total !== 'none' || compiled.summaryCount;
    const total = wantTotal
      ? (await this.db.query<{ n: number }>(`select count(*)::int as n from records_resource r where ${compiled.where}`, compiled.params)).rows[0].n
      : undefined;
    let rows: VersionRow[] = [];
    let more = false;
    if (!compiled.summaryCount && compiled.count > 0) {
      const p = compiled.params.length;
      // Without a total, one row beyond the page says whether there is a next page.
      const limit = total === undefined ? compiled.count + 1 : compiled.count;
      rows = (
        await this.db.query<VersionRow>(
          `select v.* from records_resource r
           join records_version v on v.resource_type = r.resource_type and v.id = r.id and v.version_id = r.version_id
           where ${compiled.where}
           order by r.last_updated desc, r.id
           limit $${p + 1} offset $${p + 2}`,
          [...compiled.params, limit, compiled.offset],
        )
      ).rows;
      more = total === undefined ? rows.length > compiled.count : compiled.offset + compiled.count < total;
      rows = rows.slice(0, compiled.count);
    }
    const included = rows.length > 0 ? await fetchIncluded(this.db, compiled.includes, type, rows, visible) : { rows: [], truncated: false };
    await this.recordReads(who, 'search', [...rows, ...included.rows]);
    await this.store.loadKeys([...rows, ...included.rows]);
    const entry = (row: VersionRow, mode: 'match' | 'include'): BundleEntry => ({
      fullUrl: resourceUrl(selfUrl, row.resource_type, row.id),
      resource: this.store.decrypt(row).resource,
      search: { mode },
    });
    const entries: BundleEntry[] = [...rows.map((row) => entry(row, 'match')), ...included.rows.map((row) => entry(row, 'include'))];
    if (included.truncated) {
      entries.push({ resource: outcome('informational', `more than ${MAX_INCLUDED} resources to include: the rest were left out`), search: { mode: 'outcome' } });
    }
    const reach = more ? compiled.offset + compiled.count + 1 : compiled.offset + rows.length;
    return {
      resourceType: 'Bundle',
      id: crypto.randomUUID(),
      type: 'searchset',
      ...(total === undefined ? {} : { total }),
      link: pageLinks(selfUrl, compiled.offset, compiled.count, total ?? reach),
      entry: entries,
    };
  }

  /**
   * The current resources of `type` that match conditional criteria and that the caller may see; at
   * most two, since none, one or several is all a conditional interaction asks. Hidden records do
   * not match, so a conditional request tells the caller nothing a search would not.
   */
  async conditionalMatches(who: Who, type: string, criteria: SearchQuery, q: Queryable = this.db): Promise<VersionRow[]> {
    requireType(type);
    const visible: Visible = (t, alias, bind) => this.access.predicate(who, t, 'read', 'search', alias, bind);
    const compiled = compileSearch(type, criteria, this.keyring.blindIndex, visible);
    const where = `${compiled.where} and ${visible(type, 'r', bindTo(compiled.params))}`;
    return (
      await q.query<VersionRow>(
        `select v.* from records_resource r
         join records_version v on v.resource_type = r.resource_type and v.id = r.id and v.version_id = r.version_id
         where ${where} order by r.id limit 2`,
        compiled.params,
      )
    ).rows;
  }

  /**
   * Conditional create (If-None-Exist): creates unless the criteria match. The check and the write
   * share one transaction, serialised with other conditional creates of the same criteria, so a
   * client's retry does not make a duplicate. Returns the existing resource when exactly one matches.
   */
  async conditionalCreate(who: Who, type: string, body: unknown, criteria: SearchQuery): Promise<{ created: boolean; version: StoredVersion }> {
    const write = await this.prepareCreate(who, body, type);
    await this.keyring.ensure([scopeFor(write.patientId)]);
    const lockKey = this.keyring.blindIndex.token('conditional-write', `${type}?${canonicalQuery(criteria)}`).readBigInt64BE(0).toString();
    const result = await this.writeTransaction(async (tx, after, refused): Promise<{ created?: StoredVersion; found: VersionRow[] }> => {
      await tx.query('select pg_advisory_xact_lock($1::bigint)', [lockKey]);
      const found = await this.conditionalMatches(who, type, criteria, tx);
      if (found.length > 0) return { found };
      // The normal create check runs here: a record for a patient the caller may not write to is refused.
      return { created: await this.execute(tx, write, after, refused), found };
    });
    if (result.created) return { created: true, version: result.created };
    if (result.found.length > 1) throw preconditionFailed('the criteria match more than one resource');
    const row = result.found[0];
    // Seen through the search rule; handing it back is still an access of its own, decided and recorded.
    await this.check(who, 'read', 'read', type, row.id, row);
    return { created: false, version: await this.store.readable(row) };
  }

  /**
   * Conditional update (PUT Type?criteria): one visible match is updated through the normal update
   * path (with its access checks); none creates a new resource with a server-assigned id; several
   * is 412.
   */
  async conditionalUpdate(who: Who, type: string, criteria: SearchQuery, body: unknown, ifMatch?: string): Promise<{ created: boolean; version: StoredVersion }> {
    requireType(type);
    const found = await this.conditionalMatches(who, type, criteria);
    if (found.length > 1) throw preconditionFailed('the criteria match more than one resource');
    if (found.length === 1) return { created: false, version: await this.update(who, type, found[0].id, withConditionalId(body, found[0].id), ifMatch) };
    const made = await this.conditionalCreate(who, type, body, criteria);
    if (made.created) return made;
    // Someone created a match between the look-up and the write: update that one instead.
    return { created: false, version: await this.update(who, type, made.version.id, withConditionalId(body, made.version.id), ifMatch) };
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
      await this.check(who, 'history', 'read', type, id, current);
      if (!current) throw notFound();
    } else {
      await this.requireRole(who, 'history', type);
    }
    // Versions are filtered by the same rule: an old version may carry a label the current one does not.
    conds.push(this.access.predicate(who, type, 'read', 'history', 'records_version', bindTo(params)));
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
    await this.recordReads(who, 'history', rows);
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

  /**
   * Asks the access rules about a stored row before decrypting or replacing it. A row that does not
   * exist is decided like one of an unknown patient: guessing ids tells a caller nothing.
   */
  private async check(
    who: Who,
    action: FhirAction,
    mode: Mode,
    type: string,
    id: string,
    row: VersionRow | undefined,
    opts: { recordAllowed?: boolean } = {},
  ): Promise<AccessDecision> {
    const target: AccessTarget = { resourceType: type, id, patientId: row?.patient_id ?? null, labels: row?.labels ?? [], version: row?.version_id };
    return this.enforce(who, action, mode, target, this.db, opts.recordAllowed ?? true);
  }

  /** The new state of a write: the compartment it joins, and for lab results the orders they answer. */
  private async checkNew(
    tx: Queryable,
    who: Who,
    action: FhirAction,
    resource: Resource & { id: string },
    patientId: string | null,
  ): Promise<{ target: AccessTarget; decision: AccessDecision }> {
    const basedOn = ((resource as { basedOn?: Array<{ reference?: string }> }).basedOn ?? [])
      .map((b) => /^ServiceRequest\/([A-Za-z0-9\-.]{1,64})$/.exec(b.reference ?? '')?.[1])
      .filter((x): x is string => x !== undefined);
    const target: AccessTarget = { resourceType: resource.resourceType, id: resource.id, patientId, labels: [], basedOn };
    return { target, decision: await this.access.decide(who, action, 'new', target, tx) };
  }

  /** Decides, records (refusals always; allowed accesses unless their record comes later, with the write) and throws on refusal. */
  private async enforce(who: Who, action: FhirAction, mode: Mode, target: AccessTarget, q: Queryable, recordAllowed: boolean): Promise<AccessDecision> {
    const decision = await this.access.decide(who, action, mode, target, q);
    if (!decision.allowed || recordAllowed) await this.access.record(who, action, target, decision, q);
    if (!decision.allowed) throw new AccessDeniedError(decision);
    return decision;
  }

  /** Type-level interactions (search, type history) need a role that may read the type at all. */
  private async requireRole(who: Who, action: FhirAction, type: string): Promise<void> {
    const interaction = action === 'create' ? 'create' : 'read';
    if (!this.access.mayTouchType(who, interaction, type)) {
      const decision: AccessDecision = { allowed: false, reason: `the caller's roles may not ${interaction} ${type} resources` };
      await this.access.record(who, action, { resourceType: type }, decision);
      throw new AccessDeniedError(decision);
    }
  }

  /** Each patient whose data a search or history returns is one access: explained, and reviewed when it must be. */
  private async recordReads(who: Who, action: FhirAction, rows: VersionRow[]): Promise<void> {
    if (who.system) return;
    const firstPerPatient = new Map<string, VersionRow>();
    for (const row of rows) {
      const key = `${row.resource_type}:${row.patient_id ?? row.id}`;
      if (!firstPerPatient.has(key)) firstPerPatient.set(key, row);
    }
    const byType = new Map<string, AccessTarget[]>();
    for (const row of firstPerPatient.values()) {
      const list = byType.get(row.resource_type) ?? [];
      list.push({ resourceType: row.resource_type, id: row.id, patientId: row.patient_id, labels: row.labels, version: row.version_id });
      byType.set(row.resource_type, list);
    }
    for (const targets of byType.values()) {
      const decisions = await this.access.decideMany(who, action, 'read', targets);
      // Recorded together: the audit log commits them in one batch.
      await Promise.all(targets.map((t, i) => this.access.record(who, action, t, decisions[i])));
    }
  }
}

function bindTo(params: unknown[]): (v: unknown) => string {
  return (v) => {
    params.push(v);
    return `$${params.length}`;
  };
}

/** The body of a conditional update targets the resource found: a different id in it is a mistake, none is filled in. */
export function withConditionalId(body: unknown, id: string): unknown {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return body;
  const sent = (body as { id?: unknown }).id;
  if (sent !== undefined && sent !== id) throw badRequest('the resource id does not match the resource the criteria found');
  return { ...body, id };
}

/** Criteria in a stable order, so that the same conditional request always takes the same lock. */
function canonicalQuery(query: SearchQuery): string {
  return JSON.stringify(Object.entries(query).map(([k, v]) => [k, [...v].sort()]).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
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
