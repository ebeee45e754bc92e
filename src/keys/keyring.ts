/**
 * Data keys: one per patient (so that a patient's records can be crypto-shredded or re-keyed alone),
 * one 'general' key for non-patient resources and account secrets, one 'index' key for blind indexes.
 * Each is stored wrapped (AES-256-GCM) by the current master key. Unwrapped keys are cached in
 * process memory: they never change once made, so a cache cannot go stale across processes.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import type { Database, Queryable } from '../db/index.js';
import { toBuffer } from '../db/index.js';
import type { Migration } from '../db/index.js';
import { BlindIndex } from './blindIndex.js';
import { open, seal } from './envelope.js';
import { loadMasterKeys, type MasterKeySet } from './masterKeys.js';
import { LRUCache } from 'lru-cache';

export const keyMigrations: Migration[] = [
  {
    module: 'keys',
    version: 1,
    description: 'wrapped data keys',
    sql: `create table keys_data_key (
      scope text primary key,
      master_key_id text not null,
      wrapped bytea not null,
      created_at timestamptz not null default now(),
      rewrapped_at timestamptz)`,
  },
];

export const GENERAL_SCOPE = 'general';
const INDEX_SCOPE = 'index';
const CACHE_LIMIT = 50_000;

export function patientScope(patientId: string): string {
  return `patient:${patientId}`;
}

export class Keyring {
  /** The installation's shared keys (general, blind index): loaded by `init`, never evicted. */
  private readonly shared = new Map<string, Buffer>();
  /**
   * Patients' keys: the least recently used go past CACHE_LIMIT (and are read again when needed).
   * No time-to-live, unlike the access decisions' cache: a patient's data key never changes (a master
   * key rotation re-wraps it, src/keys/rotate.ts), so a kept key is never stale, and the master key
   * that unwraps every one of them is in this process's memory anyway.
   */
  private readonly patientKeys: LRUCache<string, Buffer>;
  private blind?: BlindIndex;
  private keyFileMtime?: number;

  constructor(
    private readonly db: Database,
    private masterKeys: MasterKeySet,
    private readonly dataDir: string,
    options: { patientKeysCached?: number } = {},
  ) {
    this.patientKeys = new LRUCache<string, Buffer>({ max: options.patientKeysCached ?? CACHE_LIMIT });
  }

  /** Creates the shared keys; call once the migrations have run. */
  async init(): Promise<void> {
    await this.ensure([GENERAL_SCOPE, INDEX_SCOPE]);
    this.blind = new BlindIndex(this.cached(INDEX_SCOPE));
  }

  get blindIndex(): BlindIndex {
    if (!this.blind) throw new Error('keyring not initialised');
    return this.blind;
  }

  /**
   * Loads (or makes) the keys for these scopes. Runs outside any caller's transaction on purpose: a key
   * cached in memory must already be committed, or a rolled-back transaction would leave this process
   * encrypting with a key no other process has.
   */
  async ensure(scopes: Iterable<string>): Promise<void> {
    const missing = [...new Set(scopes)].filter((s) => !this.isLoaded(s));
    if (missing.length === 0) return;
    this.refreshMasterKeys();
    const fresh = missing.map((scope) => {
      const key = crypto.randomBytes(32);
      return { scope, wrapped: seal(this.currentMasterKey(), key, `data-key:${scope}`) };
    });
    // One round trip: the keys this statement stored, and those stored before it began. A key
    // another process stores meanwhile is in neither (it is not in this statement's snapshot):
    // those few are read once more below.
    const rows = await this.db.query<{ scope: string; master_key_id: string; wrapped: unknown }>(
      `with stored as (
         insert into keys_data_key (scope, master_key_id, wrapped)
         select s, $2, w from unnest($1::text[], $3::bytea[]) as t(s, w)
         on conflict (scope) do nothing
         returning scope, master_key_id, wrapped)
       select scope, master_key_id, wrapped from stored
       union all
       select scope, master_key_id, wrapped from keys_data_key where scope = any($1::text[]) and scope not in (select scope from stored)`,
      [fresh.map((f) => f.scope), this.masterKeys.currentId, fresh.map((f) => f.wrapped)],
    );
    for (const row of rows.rows) this.remember(row.scope, this.unwrap(row.scope, row.master_key_id, toBuffer(row.wrapped)));
    const late = missing.filter((s) => !this.isLoaded(s));
    if (late.length === 0) return;
    const again = await this.db.query<{ scope: string; master_key_id: string; wrapped: unknown }>(
      'select scope, master_key_id, wrapped from keys_data_key where scope = any($1)',
      [late],
    );
    for (const row of again.rows) this.remember(row.scope, this.unwrap(row.scope, row.master_key_id, toBuffer(row.wrapped)));
  }

  /**
   * `ensure` inside the caller's transaction (an import, whose new patients' keys should vanish
   * with it if it rolls back). Returns the scopes whose keys this transaction created: should it
   * roll back, the caller must `forget` them, or the cache would hold keys the database never kept.
   */
  async ensureWithin(tx: Queryable, scopes: Iterable<string>): Promise<string[]> {
    const missing = [...new Set(scopes)].filter((s) => !this.isLoaded(s));
    if (missing.length === 0) return [];
    this.refreshMasterKeys();
    const fresh = missing.map((scope) => ({ scope, wrapped: seal(this.currentMasterKey(), crypto.randomBytes(32), `data-key:${scope}`) }));
    const created = await tx.query<{ scope: string }>(
      `insert into keys_data_key (scope, master_key_id, wrapped)
       select s, $2, w from unnest($1::text[], $3::bytea[]) as t(s, w)
       on conflict (scope) do nothing returning scope`,
      [fresh.map((f) => f.scope), this.masterKeys.currentId, fresh.map((f) => f.wrapped)],
    );
    const rows = await tx.query<{ scope: string; master_key_id: string; wrapped: unknown }>(
      'select scope, master_key_id, wrapped from keys_data_key where scope = any($1)',
      [missing],
    );
    for (const row of rows.rows) this.remember(row.scope, this.unwrap(row.scope, row.master_key_id, toBuffer(row.wrapped)));
    return created.rows.map((r) => r.scope);
  }

  /** Drops cached keys (of a transaction that rolled back after `ensureWithin`). */
  forget(scopes: Iterable<string>): void {
    for (const scope of scopes) {
      this.shared.delete(scope);
      this.patientKeys.delete(scope);
    }
  }

  /** A key already loaded by `ensure`; usable inside transactions. */
  cached(scope: string): Buffer {
    const key = this.shared.get(scope) ?? this.patientKeys.get(scope);
    if (!key) throw new Error(`data key ${scope} not loaded`);
    return key;
  }

  /**
   * Seals with the installation's general key (for what belongs to no patient: justifications,
   * notes, audit queries, export files, signing keys). That key is loaded by `init` and never
   * evicted, so this works anywhere, inside a transaction too.
   */
  sealGeneral(plain: Buffer | string, context: string): Buffer {
    return seal(this.cached(GENERAL_SCOPE), typeof plain === 'string' ? Buffer.from(plain, 'utf8') : plain, context);
  }

  /** Opens what `sealGeneral` sealed under the same context; throws DecryptionError otherwise. */
  openGeneral(sealed: Buffer, context: string): Buffer {
    return open(this.cached(GENERAL_SCOPE), sealed, context);
  }

  /** The general key itself, for keyed hashes of things that belong to no patient (sign-in throttles). */
  generalKey(): Buffer {
    return this.cached(GENERAL_SCOPE);
  }

  async key(scope: string): Promise<Buffer> {
    await this.ensure([scope]);
    return this.cached(scope);
  }

  /**
   * Re-wraps every data key under the current master key, in batches, while the service runs.
   * Returns how many were re-wrapped. Other processes pick up the new master key from the key file
   * the first time they meet a data key wrapped by it.
   */
  async rewrapAll(onProgress?: (done: number, total: number) => void): Promise<number> {
    const current = this.masterKeys.currentId;
    const total = (await this.db.query<{ n: number }>('select count(*)::int as n from keys_data_key where master_key_id <> $1', [current])).rows[0].n;
    let done = 0;
    for (;;) {
      const batch = await this.db.query<{ scope: string; master_key_id: string; wrapped: unknown }>(
        'select scope, master_key_id, wrapped from keys_data_key where master_key_id <> $1 order by scope limit 500',
        [current],
      );
      if (batch.rows.length === 0) break;
      await this.db.transaction(async (tx) => {
        for (const row of batch.rows) {
          const key = this.unwrap(row.scope, row.master_key_id, toBuffer(row.wrapped));
          // The master_key_id condition makes a concurrent rotation or re-wrap harmless.
          await tx.query('update keys_data_key set master_key_id = $1, wrapped = $2, rewrapped_at = now() where scope = $3 and master_key_id = $4', [
            current,
            seal(this.currentMasterKey(), key, `data-key:${row.scope}`),
            row.scope,
            row.master_key_id,
          ]);
        }
      });
      done += batch.rows.length;
      onProgress?.(Math.min(done, total), total);
    }
    return done;
  }

  async masterKeysInUse(): Promise<Set<string>> {
    const rows = await this.db.query<{ id: string }>('select distinct master_key_id as id from keys_data_key');
    return new Set(rows.rows.map((r) => r.id));
  }

  /**
   * Encryption at rest as the posture scorecard measures it: where the master key comes from,
   * whether its file is still private to Carewall (checked now: a later chmod shows), and since
   * when the current key wraps the data keys (each rotation re-wraps the general key).
   */
  async masterKeyFacts(): Promise<{ source: 'file' | 'env'; keyFilePrivate: boolean; currentKeySince: string }> {
    const source = this.masterKeys.source;
    const keyFilePrivate = source.kind === 'env' || (fs.statSync(source.path).mode & 0o077) === 0;
    const r = await this.db.query<{ since: Date }>(`select coalesce(rewrapped_at, created_at) as since from keys_data_key where scope = $1`, [GENERAL_SCOPE]);
    return { source: source.kind, keyFilePrivate, currentKeySince: new Date(r.rows[0]?.since ?? Date.now()).toISOString() };
  }

  setMasterKeys(set: MasterKeySet): void {
    this.masterKeys = set;
  }

  /**
   * New data keys must be wrapped by the newest master key: if `keys rotate` changed the key file
   * since this process read it, read it again (a stat per key creation, not per request).
   */
  private refreshMasterKeys(): void {
    const source = this.masterKeys.source;
    if (source.kind !== 'file') return;
    const mtime = fs.statSync(source.path).mtimeMs;
    if (this.keyFileMtime !== undefined && mtime !== this.keyFileMtime) this.masterKeys = loadMasterKeys(this.dataDir);
    this.keyFileMtime = mtime;
  }

  private currentMasterKey(): Buffer {
    return this.masterKeys.keys.get(this.masterKeys.currentId)!;
  }

  private unwrap(scope: string, masterKeyId: string, wrapped: Buffer): Buffer {
    let master = this.masterKeys.keys.get(masterKeyId);
    if (!master) {
      // Another process rotated the master key since this one started: read the key file again.
      this.masterKeys = loadMasterKeys(this.dataDir);
      master = this.masterKeys.keys.get(masterKeyId);
      if (!master) throw new Error(`data key ${scope} is wrapped by master key ${masterKeyId}, which this process does not have`);
    }
    return open(master, wrapped, `data-key:${scope}`);
  }

  private isLoaded(scope: string): boolean {
    return this.shared.has(scope) || this.patientKeys.has(scope);
  }

  private remember(scope: string, key: Buffer): void {
    if (scope === GENERAL_SCOPE || scope === INDEX_SCOPE) this.shared.set(scope, key);
    else this.patientKeys.set(scope, key);
  }
}
