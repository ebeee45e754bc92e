/**
 * The FHIR service: every interaction validates its input, asks the enforcement point
 * (access/authorize) before any patient data is decrypted or written, and keeps the write in one
 * transaction. HTTP routes and Bundles are thin callers of these methods.
 *
 * Single reads and every write are here; search and history (searchInteractions.ts), the access
 * checks (accessGate.ts) and the checks of what a request names (requestChecks.ts) are apart.
 */
import crypto from 'node:crypto';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { AccessDeniedError, type FhirAction } from '../access/index.js';
import { type Who } from '../shared/index.js';
import type { AccessDecision, AccessPolicy, AccessTarget } from '../access/index.js';
import type { Database, Queryable } from '../db/index.js';
import type { Keyring } from '../keys/index.js';
import { AccessGate } from './accessGate.js';
import { badRequest, notFound, preconditionFailed, unprocessable } from '../shared/index.js';
import { canonicalQuery, parseIfMatch, patientOf, requireId, requireType, withConditionalId } from './requestChecks.js';
import type { SearchQuery } from './search.js';
import * as searches from './searchInteractions.js';
import { identify, identifyById, type Identified } from './identify.js';
import { membersToStore, showVersion } from './groupMembers.js';
import { RecordStore, scopeFor, type BodyCodec, type StoredVersion, type VersionRow } from './store.js';
import { validateBody } from './validate.js';

export { parseIfMatch, requireType, withConditionalId } from './requestChecks.js';

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
export type WriteHook = (tx: Queryable, version: StoredVersion, who: Who, decision?: AccessDecision) => Promise<void | (() => void)>;

/**
 * The start, the last step and the aftermath of every write transaction. The audit log keeps a
 * transaction's records until its last step and stages them there, in the write's transaction;
 * once the write has committed, `afterCommit` (awaited before the write returns) waits for them
 * to be in the log's tree. Nothing in a write waits for another write's commit.
 */
export interface TransactionHook {
  begin(tx: Queryable): void;
  beforeCommit(tx: Queryable): Promise<void>;
  /** After a commit only; must not throw for what it cannot do then (the write has happened). */
  afterCommit?(tx: Queryable): Promise<void>;
}

/** As WriteHook, for many new resources written at once (an import). */
export type NewVersionsHook = (tx: Queryable, versions: StoredVersion[]) => Promise<void | (() => void)>;

export class FhirService {
  readonly store: RecordStore;
  private readonly gate: AccessGate;
  private readonly parts: searches.ReadParts;
  readonly writeHooks: WriteHook[] = [];
  readonly newVersionsHooks: NewVersionsHook[] = [];
  /** Told when each write transaction begins, and given its last step before it commits (the audit log's). */
  readonly transactionHooks: TransactionHook[] = [];

  constructor(
    readonly db: Database,
    private readonly keyring: Keyring,
    readonly access: AccessPolicy,
    codec?: BodyCodec,
  ) {
    this.store = new RecordStore(keyring, codec);
    this.gate = new AccessGate(db, access);
    this.parts = { db, keyring, store: this.store, gate: this.gate };
  }

  /** The same service with another body codec (the benchmark's plaintext baseline); hooks are kept. */
  withCodec(codec: BodyCodec): FhirService {
    const other = new FhirService(this.db, this.keyring, this.access, codec);
    other.writeHooks.push(...this.writeHooks);
    other.newVersionsHooks.push(...this.newVersionsHooks);
    other.transactionHooks.push(...this.transactionHooks);
    return other;
  }

  async read(who: Who, type: string, id: string): Promise<StoredVersion> {
    requireType(type);
    requireId(id);
    const row = await this.gate.readById(who, 'read', type, id, {
      alone: () => this.store.currentRow(this.db, type, id),
      withContext: (columns, params) => this.store.currentRowWith(this.db, columns, params),
    });
    return showVersion(this.gate, who, await this.store.readable(row));
  }

  async vread(who: Who, type: string, id: string, version: string): Promise<StoredVersion> {
    requireType(type);
    requireId(id);
    const row = /^\d{1,9}$/.test(version) ? await this.store.versionRow(this.db, type, id, Number(version)) : undefined;
    // A version that does not exist of a resource that does is decided on the resource: 404 to those who may see it.
    await this.gate.check(who, 'vread', 'read', type, id, row ?? (await this.store.currentRow(this.db, type, id)));
    return showVersion(this.gate, who, await this.store.readable(row));
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
    if (type) await this.gate.requireRole(who, 'create', type);
    const parsed = validateBody(body, type);
    // A client-supplied id on create is ignored, as FHIR specifies: the server assigns ids.
    const resource = await membersToStore(this.gate, who, 'create', { ...parsed, id } as Resource & { id: string });
    const patientId = patientOf(resource);
    return { method: 'POST', resourceType: resource.resourceType, id, resource, patientId, who };
  }

  async prepareUpdate(who: Who, type: string, id: string, body: unknown, ifMatch?: string): Promise<PreparedWrite> {
    requireType(type);
    requireId(id);
    // The stored version first: whether it exists is not told to someone who may not change it.
    const current = await this.store.currentRow(this.db, type, id);
    const replaced = await this.gate.check(who, 'update', 'replace', type, id, current, { recordAllowed: false });
    if (!current) throw notFound(`${type}/${id} does not exist; create it with POST`);
    const parsed = validateBody(body, type);
    if (parsed.id === undefined) throw badRequest('the resource must carry its id in an update');
    if (parsed.id !== id) throw badRequest('the resource id does not match the URL');
    const stored = type === 'Group' && !current.deleted ? (await this.store.readable(current)).resource : undefined;
    const resource = await membersToStore(this.gate, who, 'update', parsed as Resource & { id: string }, stored);
    const patientId = patientOf(resource);
    // Both the compartment it leaves and the one it joins must allow the write.
    return { method: 'PUT', resourceType: type, id, resource, patientId, ifMatch: parseIfMatch(ifMatch), who, replaced };
  }

  async prepareDelete(who: Who, type: string, id: string, ifMatch?: string): Promise<PreparedWrite> {
    requireType(type);
    const current = await this.store.currentRow(this.db, type, requireId(id));
    const replaced = await this.gate.check(who, 'delete', 'delete', type, id, current, { recordAllowed: false });
    if (!current) throw notFound();
    return { method: 'DELETE', resourceType: type, id, patientId: current.patient_id, ifMatch: parseIfMatch(ifMatch), who, replaced };
  }

  /** Runs prepared writes in one transaction, in the given order; all or nothing. */
  async commit(writes: PreparedWrite[]): Promise<Array<StoredVersion | undefined>> {
    await this.keyring.ensure(writes.filter((w) => w.resource).map((w) => scopeFor(w.patientId)));
    const results = await this.writeTransaction(async (tx, after, refused) => {
      const results: Array<StoredVersion | undefined> = [];
      for (const w of writes) results.push(await this.execute(tx, w, after, refused));
      return results;
    });
    // What a write hands back is shown as a read would show it (a Group's hidden members kept, not told).
    return Promise.all(results.map((v, i) => (v ? showVersion(this.gate, writes[i].who, v) : v)));
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
        createdKeys.push(
          ...(await this.keyring.ensureWithin(
            tx,
            items.map((i) => scopeFor(i.patientId)),
          )),
        );
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
      // Without the transaction hooks: an import appends its one record itself, at its end.
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
    withHooks = true,
  ): Promise<T> {
    const after: Array<() => void> = [];
    const refused: Array<() => Promise<void>> = [];
    let committed: Queryable | undefined;
    let result: T;
    try {
      result = await this.db.transaction(async (tx) => {
        if (withHooks) for (const hook of this.transactionHooks) hook.begin(tx);
        const result = await fn(tx, after, refused);
        if (withHooks) for (const hook of this.transactionHooks) await hook.beforeCommit(tx);
        committed = tx;
        return result;
      });
    } catch (err) {
      for (const record of refused) await record();
      throw err;
    } finally {
      for (const f of after) f();
    }
    if (committed) for (const hook of this.transactionHooks) await hook.afterCommit?.(committed);
    return result;
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
      const checked = await this.gate.checkNew(tx, w.who, action, w.resource, w.patientId);
      target = checked.target;
      decision = checked.decision;
      if (!decision.allowed) {
        const denied = decision;
        refused.push(() => this.gate.recordWrite(w.who, action, checked.target, denied));
        throw new AccessDeniedError(denied);
      }
    }
    let v: StoredVersion | undefined;
    if (w.method === 'POST') v = await this.store.insert(tx, w.resource!, w.patientId);
    else if (w.method === 'PUT') v = await this.store.update(tx, w.resource!, w.patientId, w.ifMatch);
    else v = await this.store.delete(tx, w.resourceType, w.id, w.ifMatch);
    if (v) {
      if (decision) await this.gate.recordWrite(w.who, action, { ...target, version: v.versionId }, decision, tx);
      for (const hook of this.writeHooks) {
        const done = await hook(tx, v, w.who, decision);
        if (done) after.push(done);
      }
    }
    return v;
  }

  async search(who: Who, type: string, query: SearchQuery, selfUrl: URL): Promise<Bundle> {
    return searches.search(this.parts, who, type, query, selfUrl);
  }

  /**
   * Who a patient is (name, birth date, record number), for a clinician's emergency look-up by
   * name, full birth date or record number: at most 20, each recorded (identify.ts).
   */
  async identify(who: Who, query: string): Promise<Identified[]> {
    return identify(this.parts, who, query);
  }

  /** Who these patients are, by id, under the same rule and records as `identify` (identify.ts). */
  async identifyById(who: Who, ids: string[]): Promise<Identified[]> {
    return identifyById(this.parts, who, ids);
  }

  /** The visible current resources that match conditional criteria, at most two (searchInteractions.ts says why). */
  async conditionalMatches(who: Who, type: string, criteria: SearchQuery, q: Queryable = this.db): Promise<VersionRow[]> {
    return searches.conditionalMatches(this.parts, who, type, criteria, q);
  }

  /** Instance history (with id) or type history; newest first, deletions included. */
  async history(who: Who, type: string, id: string | undefined, query: SearchQuery, selfUrl: URL): Promise<Bundle> {
    return searches.history(this.parts, who, type, id, query, selfUrl);
  }

  /**
   * Conditional create (If-None-Exist): creates unless the criteria match. The check and the write
   * share one transaction, serialised with other conditional creates of the same criteria, so a
   * client's retry does not make a duplicate. Returns the existing resource when exactly one matches.
   */
  async conditionalCreate(who: Who, type: string, body: unknown, criteria: SearchQuery): Promise<{ created: boolean; version: StoredVersion }> {
    const write = await this.prepareCreate(who, body, type);
    await this.keyring.ensure([scopeFor(write.patientId)]);
    const lockKey = this.keyring.blindIndex
      .token('conditional-write', `${type}?${canonicalQuery(criteria)}`)
      .readBigInt64BE(0)
      .toString();
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
    await this.gate.check(who, 'read', 'read', type, row.id, row);
    return { created: false, version: await showVersion(this.gate, who, await this.store.readable(row)) };
  }

  /**
   * Conditional update (PUT Type?criteria): one visible match is updated through the normal update
   * path (with its access checks); none creates a new resource with a server-assigned id; several
   * is 412.
   */
  async conditionalUpdate(
    who: Who,
    type: string,
    criteria: SearchQuery,
    body: unknown,
    ifMatch?: string,
  ): Promise<{ created: boolean; version: StoredVersion }> {
    requireType(type);
    const found = await this.conditionalMatches(who, type, criteria);
    if (found.length > 1) throw preconditionFailed('the criteria match more than one resource');
    if (found.length === 1) return { created: false, version: await this.update(who, type, found[0].id, withConditionalId(body, found[0].id), ifMatch) };
    const made = await this.conditionalCreate(who, type, body, criteria);
    if (made.created) return made;
    // Someone created a match between the look-up and the write: update that one instead.
    return { created: false, version: await this.update(who, type, made.version.id, withConditionalId(body, made.version.id), ifMatch) };
  }
}
