/**
 * The audit capability: turns what happens (accesses decided by the access rules, sign-ins,
 * grants, account changes, configuration changes, queries of the log itself) into records appended
 * to the Merkle log, durably, before the response leaves. When the log cannot be written the
 * caller gets AuditUnavailableError and the request fails closed (503, no patient data).
 */
import { bindTo } from '../db/index.js';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { GrantEvent } from '../access/index.js';
import type { AccessEvent } from '../access/index.js';
import type { Database, Queryable } from '../db/index.js';
import type { IdentityEvent } from '../identity/index.js';
import type { Keyring } from '../keys/index.js';
import type { Logger } from '../log.js';
import { Checkpointer, type CheckpointSettings } from './checkpoints.js';
import { verifyLog, type VerifyReport } from './verify.js';
import { C2SP_TILE_WIDTH, encodeEntryBundle, readHashTile, tileExists, type TilePath } from './tlogTiles.js';
import { AuditUnavailableError, MerkleLog, type EntryColumns } from './log.js';
import { searchColumnsOf, searchFrom, type SearchFilter } from './searchColumns.js';
import { countMatching } from './counts.js';
import { canonicalJson as encodeCanonical, decodeLeaf, encodeLeaf, type AuditRecord } from './record.js';
import { accessRecord, clientRecord, equipmentRecord, grantRecord, identityRecord, type NewRecord } from './eventRecords.js';
import { publicSettings } from './publicSettings.js';
import type { ClientEvent } from '../clients/index.js';
import type { EquipmentEvent, RequestDetails } from '../shared/index.js';

/** The verifier key's copy in the data folder, written when the key is made. */
export const VKEY_FILE = 'audit.vkey';
const QUERY_CONTEXT = 'audit:query';

/** A record as handed to readers: its index, exact leaf bytes, and the record (search text opened). */
export interface AuditEntry {
  index: number;
  leaf: Buffer;
  record: AuditRecord;
}

export interface AuditSearch extends SearchFilter {
  count: number;
  offset: number;
  /** Newest first (reports) or oldest first. */
  newestFirst?: boolean;
}

/** How often the counts of tile fetches go into the log. */
const TILE_COUNT_SECONDS = 600;

export class AuditService {
  readonly log: MerkleLog;
  readonly checkpoints: Checkpointer;
  /** The records of write transactions still running, appended at their end (writeTransactions). */
  private readonly deferred = new WeakMap<Queryable, { leaves: Buffer[]; columns: EntryColumns[] }>();
  /** Write transactions that staged records, until they have ended. */
  private readonly staged = new WeakSet<Queryable>();
  private readonly tileReads = new Map<string, { user: NonNullable<AuditRecord['user']>; checkpoint: number; hash: number; entries: number; since: string }>();
  private tileTimer?: NodeJS.Timeout;

  constructor(
    private readonly db: Database,
    private readonly keyring: Keyring,
    settings: CheckpointSettings,
    private readonly logger: Logger,
    private readonly dataDir: string,
  ) {
    this.log = new MerkleLog(db);
    this.checkpoints = new Checkpointer(db, keyring, this.log, settings, logger);
  }

  /**
   * Appends a record; resolves with its index once committed. Fills in the time, and the request id
   * and client from the request it came through (`request`). Given a transaction, the record joins
   * it (and is kept only if it commits); in a write transaction it is appended at the transaction's
   * end, its index not known before.
   *
   * A search's query text can hold a name, an identifier or a birth date: it goes into the leaf
   * sealed (AES-256-GCM under the installation's general data key), so the log's bytes, which
   * outside verifiers and backups copy, carry no patient data in clear.
   */
  async record(partial: NewRecord): Promise<number>;
  async record(partial: NewRecord, tx?: Queryable): Promise<number | undefined>;
  async record(partial: NewRecord, tx?: Queryable): Promise<number | undefined> {
    const { query, request: req, ...rest } = partial;
    const record: AuditRecord = {
      ...rest,
      time: partial.time ?? new Date().toISOString(),
      requestId: partial.requestId ?? req?.requestId,
      client: partial.client ?? (req && (req.ip || req.userAgent) ? { ip: req.ip, userAgent: req.userAgent } : undefined),
    };
    if (query !== undefined && query !== '') {
      record.querySealed = this.keyring.sealGeneral(query, QUERY_CONTEXT).toString('base64');
    }
    const leaf = encodeLeaf(record);
    const columns = searchColumnsOf(record);
    if (!tx) return this.log.append(leaf, columns);
    const kept = this.deferred.get(tx);
    if (kept) {
      kept.leaves.push(leaf);
      kept.columns.push(columns);
      return undefined;
    }
    try {
      return await this.log.appendIn(tx, [leaf], [columns]);
    } catch (err) {
      throw new AuditUnavailableError(`the audit log could not be written: ${(err as Error).message}`, { cause: err });
    }
  }

  /** The access rules' decisions, one record each (a search: one per patient returned). */
  readonly onAccess = async (e: AccessEvent): Promise<void> => {
    await this.record(accessRecord(e), e.tx);
  };

  /** Sign-ins, sign-outs, accounts made or disabled, second factors enrolled. */
  readonly onIdentity = async (e: IdentityEvent): Promise<void> => {
    await this.record(identityRecord(e), e.tx);
  };

  /** System clients registered, disabled, and tokens issued (or refused) to them. */
  readonly onClient = async (e: ClientEvent): Promise<void> => {
    await this.record(clientRecord(e), e.tx);
  };

  /** Break-the-glass and investigations opened (or refused), and their reviews. */
  readonly onGrant = async (e: GrantEvent): Promise<void> => {
    await this.record(grantRecord(e), e.tx);
  };

  /** Equipment: inventory imports, update releases and approvals, rollouts, advisories, device reports. */
  readonly onEquipment = async (e: EquipmentEvent): Promise<void> => {
    await this.record(equipmentRecord(e), e.tx);
  };

  /**
   * Records the configuration when it differs from the one the last start recorded: which
   * settings changed, from what to what. Secrets (the database address may hold a password) are
   * recorded only as whether they changed.
   */
  async recordConfiguration(settings: object): Promise<void> {
    const visible = publicSettings(settings);
    const fingerprint = crypto.createHash('sha256').update(canonicalJson(visible)).digest('hex');
    await this.db.transaction(async (tx) => {
      await this.log.lockSequencer(tx);
      const last = (
        await tx.query<{ fingerprint: string; settings: Record<string, unknown> }>('select fingerprint, settings from audit_config_seen where id = 1')
      ).rows[0];
      if (last?.fingerprint === fingerprint) return;
      const before = last?.settings ?? {};
      const changed = Object.keys({ ...before, ...visible })
        .filter((k) => canonicalJson(before[k]) !== canonicalJson(visible[k]))
        .sort()
        .map((k) => ({ setting: k, from: before[k] ?? null, to: visible[k] ?? null }));
      await this.record(
        {
          action: 'configuration.change',
          outcome: 'success',
          user: { username: 'system' },
          resource: { type: 'Configuration' },
          explanation: { fingerprint, changed, first: !last },
        },
        tx,
      );
      await tx.query(
        `insert into audit_config_seen (id, fingerprint, settings, seen_at) values (1, $1, $2::jsonb, now())
         on conflict (id) do update set fingerprint = excluded.fingerprint, settings = excluded.settings, seen_at = now()`,
        [fingerprint, JSON.stringify(visible)],
      );
    });
  }

  async entry(index: number): Promise<AuditEntry | undefined> {
    const leaf = await this.log.leaf(index);
    return leaf ? { index, leaf, record: await this.opened(decodeLeaf(leaf)) } : undefined;
  }

  /** Records matching the filter, with their leaves, through the search columns; and how many match. */
  async search(f: AuditSearch): Promise<{ total: number; entries: AuditEntry[] }> {
    const params: unknown[] = [];
    const bind = bindTo(params);
    const from = searchFrom(f, bind);
    const total = await countMatching(this.db, f);
    if (f.count === 0) return { total, entries: [] };
    const order = f.newestFirst ? 'desc' : 'asc';
    const rows = await this.db.query<{ leaf_index: string | number }>(
      `select e.leaf_index ${from}
       order by e.at ${order}, e.leaf_index ${order} limit ${bind(f.count)} offset ${bind(f.offset)}`,
      params,
    );
    const leaves = await this.log.leavesAt(rows.rows.map((r) => Number(r.leaf_index)));
    const entries: AuditEntry[] = [];
    for (const row of rows.rows) {
      const leaf = leaves.get(Number(row.leaf_index));
      if (!leaf) throw new Error(`audit log: record ${row.leaf_index} is indexed but not stored: run carewall audit verify`);
      entries.push({ index: Number(row.leaf_index), leaf, record: await this.opened(decodeLeaf(leaf)) });
    }
    return { total, entries };
  }

  /** The record with its sealed search text opened, for readers entitled to the log. */
  private async opened(record: AuditRecord): Promise<AuditRecord> {
    if (!record.querySealed) return record;
    try {
      const query = this.keyring.openGeneral(Buffer.from(record.querySealed, 'base64'), QUERY_CONTEXT).toString('utf8');
      return { ...record, query };
    } catch {
      return record;
    }
  }

  /**
   * The verifier key to trust: the copy written into the data folder when the key was made (a
   * database changed by an intruder could carry a key of their own), else the database's.
   */
  async pinnedVerifierKey(): Promise<string> {
    const file = path.join(this.dataDir, VKEY_FILE);
    const fromDb = await this.checkpoints.verifierKey();
    if (fs.existsSync(file)) return fs.readFileSync(file, 'utf8').trim();
    fs.writeFileSync(file, fromDb + '\n', { mode: 0o644 });
    return fromDb;
  }

  /**
   * Recomputes the whole log from its records and checks every signed checkpoint (and these
   * exported ones) against the pinned key: `carewall audit verify` and the console's button.
   */
  async verify(extraCheckpoints: Array<{ source: string; note: string }> = []): Promise<VerifyReport> {
    return verifyLog(this.db, await this.pinnedVerifierKey(), extraCheckpoints);
  }

  /**
   * `verify`, with its outcome written into the log itself ('audit.verify'): the console's button,
   * the CLI and the posture scorecard's "verified end to end" check all see the same history.
   * `request`: the console's request that asked for it (the CLI has none).
   */
  async verifyAndRecord(
    user: NonNullable<AuditRecord['user']>,
    extraCheckpoints: Array<{ source: string; note: string }> = [],
    request?: RequestDetails,
  ): Promise<VerifyReport> {
    const report = await this.verify(extraCheckpoints);
    await this.record({ action: 'audit.verify', outcome: report.ok ? 'success' : 'failure', user, request });
    await this.db.query('insert into audit_verification (ok, size) values ($1, $2)', [report.ok, report.size]);
    return report;
  }

  /** When the log was last verified end to end, and whether it held. */
  async lastVerification(): Promise<{ at: string; ok: boolean } | undefined> {
    const r = await this.db.query<{ at: Date; ok: boolean }>('select at, ok from audit_verification order by at desc limit 1');
    const row = r.rows[0];
    return row ? { at: new Date(row.at).toISOString(), ok: row.ok } : undefined;
  }

  /**
   * How many records of these actions the log holds since an instant. Counted from the search
   * columns' arrays row by row (array_positions), without unpacking every record: a month of a large
   * clinic's reads is millions. Only the rows straddling the instant are unpacked.
   */
  async countSince(actions: string[], from: Date): Promise<number> {
    const r = await this.db.query<{ n: string | number }>(
      `select coalesce((select sum(cardinality(array_positions(g.actions, a)))
                          from audit_entry_batch g, unnest($1::text[]) a
                         where g.at_min >= $2), 0)
            + coalesce((select count(*)
                          from audit_entry_batch g, unnest(g.ats, g.actions) u(at, action)
                         where g.at_min < $2 and g.at_max >= $2 and u.at >= $2 and u.action = any($1::text[])), 0) as n`,
      [actions, from],
    );
    return Number(r.rows[0].n);
  }

  /**
   * The first leaf index that may hold a record at or after an instant (records are appended in
   * time order, give or take a transaction's length: the search columns' batches say where): the
   * live monitor reads its window from here in order instead of paging a search through it.
   */
  async firstIndexSince(from: Date): Promise<number> {
    const r = await this.db.query<{ i: string | number | null }>('select min(first_index) as i from audit_entry_batch where at_max >= $1', [from]);
    return r.rows[0].i === null ? (await this.log.head()).size : Number(r.rows[0].i);
  }

  /** A C2SP tile (tlogTiles.ts), or undefined while the log does not hold all of it. */
  async tile(tile: TilePath): Promise<Buffer | undefined> {
    const { size } = await this.log.head();
    if (!tileExists(tile, size)) return undefined;
    if (tile.kind === 'hash') return readHashTile(this.db, tile.level, tile.index, tile.width);
    const from = tile.index * C2SP_TILE_WIDTH;
    return encodeEntryBundle((await this.log.leaves(from, from + tile.width)).map((l) => l.leaf));
  }

  /**
   * Tile fetches are counted, not recorded one by one: an outside verifier reads thousands, and a
   * record for each would double the log it verifies. The counts go into the log as one record per
   * reader every TILE_COUNT_SECONDS (and when the server stops).
   */
  countTileRead(user: NonNullable<AuditRecord['user']>, kind: 'checkpoint' | 'hash' | 'entries'): void {
    const key = user.username ?? user.account ?? 'unknown';
    const c = this.tileReads.get(key) ?? { user, checkpoint: 0, hash: 0, entries: 0, since: new Date().toISOString() };
    c[kind]++;
    this.tileReads.set(key, c);
  }

  async flushTileReads(): Promise<void> {
    const counts = [...this.tileReads.values()];
    this.tileReads.clear();
    for (const c of counts)
      await this.record({
        action: 'audit.tiles',
        outcome: 'success',
        user: c.user,
        explanation: { checkpoints: c.checkpoint, hashTiles: c.hash, entryBundles: c.entries, since: c.since },
      });
  }

  /**
   * Write transactions (FhirService.transactionHooks): their records are kept until the last step
   * and staged there, in the write's transaction (they commit or vanish with it); once it has
   * committed, the write waits until they are in the tree (log.ts says why they are not appended
   * in the write itself). A committed write is not failed when the tree cannot take its records
   * then: they stay staged, as durable as the write, and are moved by the next append, start or
   * checkpoint.
   */
  readonly writeTransactions = {
    begin: (tx: Queryable): void => {
      this.deferred.set(tx, { leaves: [], columns: [] });
    },
    beforeCommit: async (tx: Queryable): Promise<void> => {
      const kept = this.deferred.get(tx);
      this.deferred.delete(tx);
      if (!kept || kept.leaves.length === 0) return;
      try {
        await this.log.stageIn(tx, kept.leaves, kept.columns);
        this.staged.add(tx);
      } catch (err) {
        throw new AuditUnavailableError(`the audit log could not be written: ${(err as Error).message}`, { cause: err });
      }
    },
    afterCommit: async (tx: Queryable): Promise<void> => {
      if (!this.staged.delete(tx)) return;
      await this.moveStaged(() => this.log.sequenceStaged());
    },
  };

  /**
   * Records a crash or an outage left staged (writes that committed while the tree could not take
   * them) go into the tree: at start, and on the checkpointer's timer.
   */
  sequenceLeftovers(): Promise<void> {
    return this.moveStaged(() => this.log.sequenceLeftovers());
  }

  /** Staged records moved into the tree; a failure is logged, and they stay staged for the next append. */
  private async moveStaged(move: () => Promise<void>): Promise<void> {
    try {
      await move();
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'audit: staged records not yet in the log; they are moved by the next append');
    }
  }

  start(): void {
    this.checkpoints.start();
    this.tileTimer ??= setInterval(() => void this.flushTileReads().catch(() => undefined), TILE_COUNT_SECONDS * 1000);
    this.tileTimer.unref();
  }

  stop(): void {
    this.checkpoints.stop();
    if (this.tileTimer) clearInterval(this.tileTimer);
    this.tileTimer = undefined;
  }
}

const canonicalJson = (v: unknown) => encodeCanonical(v ?? null);
