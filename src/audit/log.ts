/**
 * The audit log as an RFC 6962 / RFC 9162 Merkle tree in the database.
 *
 * Appends are sequenced by a transaction-scoped advisory lock: whichever Carewall process holds it
 * reads the tree's size, numbers its leaves from there, stores the leaves and every subtree hash
 * they complete, and moves the tree head, all in one transaction. Two processes therefore never
 * give out the same index nor leave a gap, and a crash leaves either the whole batch or none of it.
 *
 * Appends are batched (group commit): records arriving while a batch is being written wait for the
 * next one, so one transaction and one lock cover many records, and each caller's promise resolves
 * only when its record is committed (durable) with its index.
 *
 * A write transaction's records are staged instead (audit_pending, inside that transaction: they
 * commit or vanish with the write) and moved into the tree by the next batch. Appending them inside
 * the write itself held the sequencer lock from the append to the write's commit, and made every
 * write of the clinic wait for the one before it to commit (creates on PostgreSQL: 7-8 of 10
 * connections waiting on the lock, 143 creates/s against 261 with no append at all). Staged records
 * are as durable as the write; the tree holds them a batch later (the write's caller waits for
 * that), and records left staged by a crash or an outage are moved at the next start or checkpoint.
 */
import type { Database, Queryable } from '../db/index.js';
import { toBuffer } from '../db/index.js';
import { bindPacked, bindTo, WriteBatch } from '../db/index.js';
import { consistencyProof, inclusionProof, leafHash, type NodeSource } from './merkle.js';
import { readLeaves, readLeavesAt, storeLeaves } from './leafStore.js';
import { Frontier } from './frontier.js';
import { fetchTiles, TileWrites } from './tiles.js';
import { addSearchColumns } from './searchColumns.js';
import { addRecordCounts } from './counts.js';
import { HASH_SIZE, isStoredLevel, nodeFromTiles, tileKey, tilesForNode, type TileKey } from './tileLayout.js';
import {
  headAndTiles,
  headWithTilesStatement,
  readHead,
  readHeadWithTiles,
  tilesNeeded,
  type HeadAndTiles,
  type HeadOrTileRow,
  type TreeHead,
} from './treeHead.js';

/** Advisory lock key that sequences appends across processes ('audit' in ASCII). */
const SEQUENCER_LOCK = 0x6175646974;
/** At most this many leaves per transaction. */
const MAX_BATCH = 5000;

export class AuditUnavailableError extends Error {}

export type { TreeHead } from './treeHead.js';

/** A record's search columns (searchColumns.ts; not hashed). */
export interface EntryColumns {
  at: string;
  patient?: string;
  account?: string;
  practitioner?: string;
  action: string;
  outcome: string;
}

interface Pending {
  leaf: Buffer;
  columns?: EntryColumns;
  resolve: (index: number) => void;
  reject: (err: Error) => void;
}

interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
}

/** A frontier this process built, with the root it gives. */
interface KnownFrontier {
  frontier: Frontier;
  root: Buffer;
}

const headOf = (known: KnownFrontier): TreeHead => ({ size: known.frontier.size, root: known.root });

export class MerkleLog {
  private queue: Pending[] = [];
  /** Callers waiting for the staged records committed before they asked to be in the tree. */
  private stagedWaiters: Waiter[] = [];
  private writing = false;
  /** The tree's size after this process's last append: a guess at the next head (appendLocked). */
  private expectedSize?: number;
  /**
   * The right frontier after this process's last append, with the root it gives. Used again only
   * when the head read under the lock has that size and root, so that neither another process's
   * appends nor a rolled-back one of this process's are built on. Rebuilding it from the tiles
   * hashes each frontier node up from its stored level, up to 127 hashes a node: a tenth of the
   * audit code's CPU on a read (docs/benchmarks.md profile, `nodeFromTiles`). With it, the head
   * read leaves the tiles' hashes out (treeHead.ts; on the embedded database 150-175 -> 125-150 us
   * a statement).
   */
  private lastFrontier?: KnownFrontier;

  constructor(private readonly db: Database) {}

  /** Appends one leaf; resolves with its index once it is committed. */
  append(leaf: Buffer, columns?: EntryColumns): Promise<number> {
    return new Promise((resolve, reject) => {
      this.queue.push({ leaf, columns, resolve, reject });
      if (!this.writing) void this.drain();
    });
  }

  /**
   * Stages leaves inside the caller's transaction, without the sequencer lock: they commit or
   * vanish with it, and `sequenceStaged` moves them into the tree once it has committed.
   */
  async stageIn(tx: Queryable, leaves: Buffer[], columns: Array<EntryColumns | undefined>): Promise<void> {
    if (leaves.length === 0) return;
    const params: unknown[] = [];
    const b = bindTo(params);
    const packed = bindPacked(b, leaves);
    const cols = b(columns.map((c) => (c ? JSON.stringify(c) : null)));
    // In their order: the ids (a sequence) keep it, and the tree takes them oldest first.
    await tx.query(
      `insert into audit_pending (leaf, columns)
         select ${packed.value}, c from unnest(${packed.unnest}, ${cols}::jsonb[]) with ordinality as x(s, l, c, k) order by k`,
      params,
    );
  }

  /**
   * Resolves once every record staged and committed before the call is in the tree (moved by this
   * process's next batch, or by another process's before it).
   */
  sequenceStaged(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.stagedWaiters.push({ resolve, reject });
      if (!this.writing) void this.drain();
    });
  }

  /** sequenceStaged, only when something is staged (a cheap look first: this runs on a timer). */
  async sequenceLeftovers(): Promise<void> {
    const r = await this.db.query<{ any: boolean }>('select exists (select 1 from audit_pending) as any');
    if (r.rows[0]?.any) await this.sequenceStaged();
  }

  private async drain(): Promise<void> {
    this.writing = true;
    try {
      while (this.queue.length > 0 || this.stagedWaiters.length > 0) {
        // Let the event loop turn once before each batch: callers that append from a tight loop
        // (or an in-process database whose queries resolve without I/O) must not starve timers and
        // sockets, and records arriving meanwhile join this batch.
        await new Promise<void>((resolve) => setImmediate(resolve));
        const batch = this.queue.splice(0, MAX_BATCH);
        const waiters = this.stagedWaiters.splice(0);
        try {
          const { first, stagedLeft } = await this.appendBatchWithStaged(
            batch.map((p) => p.leaf),
            batch.map((p) => p.columns),
            // At least one: with 0 the waiters would be answered with nothing moved.
            waiters.length > 0 ? Math.max(1, MAX_BATCH - batch.length) : 0,
          );
          batch.forEach((p, i) => p.resolve(first + i));
          // More was staged than one batch takes: the waiters wait for the next.
          if (stagedLeft) this.stagedWaiters.unshift(...waiters);
          else for (const w of waiters) w.resolve();
        } catch (err) {
          const e = new AuditUnavailableError(`the audit log could not be written: ${(err as Error).message}`, { cause: err });
          for (const p of batch) p.reject(e);
          for (const w of waiters) w.reject(e);
        }
      }
    } finally {
      this.writing = false;
    }
  }

  /** Appends leaves in one transaction; returns the index of the first. */
  appendBatch(leaves: Buffer[], columns?: Array<EntryColumns | undefined>): Promise<number> {
    return this.db.transaction((tx) => this.appendIn(tx, leaves, columns));
  }

  /**
   * Appends leaves inside the caller's transaction: they commit or vanish with it. Used for the
   * records of a write, so that a stored version and its record are one atomic change. The
   * sequencer lock is then held until the caller's transaction ends, so writes append as their
   * last step (AuditService.writeTransactions): the lock covers the append and the commit, not
   * the write, and a transaction holding it never waits for a row lock another one holds.
   */
  async appendIn(tx: Queryable, leaves: Buffer[], columns?: Array<EntryColumns | undefined>): Promise<number> {
    await this.lockSequencer(tx);
    return this.appendLocked(tx, leaves, columns);
  }

  /** appendIn, the sequencer lock already held by `tx`. */
  private async appendLocked(tx: Queryable, leaves: Buffer[], columns?: Array<EntryColumns | undefined>): Promise<number> {
    // The tiles are asked for with the head, for the size this process expects (its own last
    // append's end; one statement instead of two). Another process's appends meanwhile make the
    // guess wrong, and what the true size needs beyond it is fetched then.
    const guess = this.expectedSize === undefined ? [] : tilesNeeded(this.expectedSize, leaves.length).keys;
    const known = this.lastFrontier;
    const read = await readHeadWithTiles(tx, guess, known && headOf(known));
    const batch = await this.prepareAppend(tx, read, known, guess, leaves, columns);
    await batch.run(tx);
    return read.head.size;
  }

  /**
   * Appends `leaves` and up to `stagedLimit` staged records taken out of audit_pending (oldest
   * first) after them, in one transaction: a staged record is either still staged or in the tree,
   * never both nor neither. Two round trips on PostgreSQL (Database.readThenWrite): the sequencer
   * lock, the staged records and the head with the tiles this process expects to need, together
   * (the server runs them in order, so both reads come after the lock is granted and see what its
   * previous holder committed); then the writes with the commit. The tiles are guessed from the
   * size this process left the tree at, for as many leaves as the batch can have (more leaves need
   * more levels, never other tiles on a level); what the true size needs besides is fetched then.
   */
  private appendBatchWithStaged(
    leaves: Buffer[],
    columns: Array<EntryColumns | undefined>,
    stagedLimit: number,
  ): Promise<{ first: number; stagedLeft: boolean }> {
    const guess = this.expectedSize === undefined ? [] : tilesNeeded(this.expectedSize, leaves.length + stagedLimit).keys;
    const known = this.lastFrontier;
    const reads = [headWithTilesStatement(guess, known && headOf(known))];
    if (stagedLimit > 0)
      reads.unshift({
        sql: `delete from audit_pending where id in (select id from audit_pending order by id limit $1) returning id, leaf, columns`,
        params: [stagedLimit],
      });
    return this.db.readThenWrite(this.lockStatement(), reads, async (results, tx) => {
      const staged = stagedLimit > 0 ? (results[0].rows as unknown as StagedRow[]).sort((x, y) => Number(x.id) - Number(y.id)) : [];
      const read = headAndTiles(results[results.length - 1].rows as unknown as HeadOrTileRow[]);
      const all = [...leaves, ...staged.map((row) => toBuffer(row.leaf))];
      if (all.length === 0) return { result: { first: read.head.size, stagedLeft: false } };
      const batch = await this.prepareAppend(tx, read, known, guess, all, [...columns, ...staged.map((row) => row.columns ?? undefined)]);
      return { statement: batch.statement(), result: { first: read.head.size, stagedLeft: stagedLimit > 0 && staged.length === stagedLimit } };
    });
  }

  /**
   * The writes of an append of `leaves` to the tree `read.head`, given what was read with it for
   * the keys `asked` (what else the true size needs is fetched through `tx`). `known` is the
   * frontier this process held when the read was sent: the read left out the tiles' hashes if and
   * only if the head is still that one, so it is built on then. (Not the frontier held now: an
   * append of this process may have prepared meanwhile and been rolled back.)
   */
  private async prepareAppend(
    tx: Queryable,
    { head, tiles, lengths }: HeadAndTiles,
    known: KnownFrontier | undefined,
    asked: TileKey[],
    leaves: Buffer[],
    columns?: Array<EntryColumns | undefined>,
  ): Promise<WriteBatch> {
    const n = head.size;
    const { growing, keys } = tilesNeeded(n, leaves.length);
    const askedKeys = new Set(asked.map((k) => tileKey(k.level, k.idx)));
    const missing = keys.filter((k) => !askedKeys.has(tileKey(k.level, k.idx)));
    if (missing.length > 0)
      for (const [k, v] of await fetchTiles(tx, missing)) {
        tiles.set(k, v);
        lengths.set(k, v.length);
      }
    // Each rightmost tile must hold exactly the subtrees complete so far: appending to a damaged
    // tree would bury the damage under new hashes, so the append is refused instead (and the
    // request fails closed).
    for (const g of growing) {
      const stored = lengths.get(tileKey(g.level, g.idx)) ?? 0;
      if (stored !== g.length)
        throw new Error(
          `the stored tree is damaged (level ${g.level} holds ${stored / HASH_SIZE} hashes where ${g.length / HASH_SIZE} are due): run carewall audit verify`,
        );
    }
    const f =
      known && known.frontier.size === n && known.root.equals(head.root)
        ? new Frontier(n, (level, index) => known.frontier.node(level, index))
        : new Frontier(n, (level, index) => {
            const h = nodeFromTiles(tiles, level, index);
            if (!h) throw new Error('the stored tree is missing frontier hashes: run carewall audit verify');
            return h;
          });
    const writes = new TileWrites();
    const store = (level: number, index: number, hash: Buffer) => {
      if (isStoredLevel(level)) writes.add(level, index, hash);
    };
    for (const leaf of leaves) f.append(leafHash(leaf), store);
    // Everything the append writes goes in one statement (WriteBatch): the leaves, their search
    // columns, the subtree hashes and the new tree head touch different rows.
    const batch = new WriteBatch();
    await storeLeaves(tx, n, leaves, batch);
    addSearchColumns(batch, n, columns ?? []);
    addRecordCounts(batch, columns ?? []);
    writes.addTo(batch);
    const b = batch.bind;
    const root = f.root();
    batch.add(
      `insert into audit_tree (id, size, root, updated_at) values (1, ${b(f.size)}, ${b(root)}, now())
       on conflict (id) do update set size = excluded.size, root = excluded.root, updated_at = now()`,
    );
    this.expectedSize = f.size;
    this.lastFrontier = { frontier: f, root };
    return batch;
  }

  /**
   * Takes the sequencer lock for the rest of `tx` (re-entrant: a transaction may take it again).
   * The embedded database needs none: it runs one transaction at a time, and no other process
   * opens it.
   */
  async lockSequencer(tx: Queryable): Promise<void> {
    const lock = this.lockStatement();
    if (lock !== undefined) await tx.query(lock);
  }

  /** The statement that takes the sequencer lock (a constant inlined), none where none is needed. */
  private lockStatement(): string | undefined {
    return this.db.singleProcess ? undefined : `select pg_advisory_xact_lock(${SEQUENCER_LOCK})`;
  }

  async head(q: Queryable = this.db): Promise<TreeHead> {
    return readHead(q);
  }

  async leaf(index: number): Promise<Buffer | undefined> {
    return (await readLeavesAt(this.db, [index])).get(index);
  }

  /** The leaves at these indexes (for search results), wherever they are stored. */
  leavesAt(indexes: number[]): Promise<Map<number, Buffer>> {
    return readLeavesAt(this.db, indexes);
  }

  /** Leaves [from, to) in order. */
  leaves(from: number, to: number): Promise<Array<{ index: number; leaf: Buffer }>> {
    return readLeaves(this.db, from, to);
  }

  /** The complete-subtree hashes, as the proof functions read them (each tile fetched once). */
  nodes(q: Queryable = this.db): NodeSource {
    const tiles = new Map<string, Buffer>();
    return {
      async node(level: number, index: number): Promise<Buffer> {
        const keys = tilesForNode(level, index).filter((key) => !tiles.has(tileKey(key.level, key.idx)));
        if (keys.length > 0) for (const [k, v] of await fetchTiles(q, keys)) tiles.set(k, v);
        const h = nodeFromTiles(tiles, level, index);
        if (!h) throw new Error(`audit log: no stored hash for subtree ${level}/${index}`);
        return h;
      },
    };
  }

  async inclusionProof(index: number, size: number): Promise<Buffer[]> {
    return this.prefetched((src) => inclusionProof(src, index, size));
  }

  async consistencyProof(from: number, to: number): Promise<Buffer[]> {
    return this.prefetched((src) => consistencyProof(src, from, to));
  }

  /**
   * Runs a proof function twice: first against a source that only notes which stored hashes it
   * asks for (which hashes a proof needs depends on the sizes alone, never on hash values), then
   * against the tiles holding them, fetched in one query. One round trip per proof.
   */
  private async prefetched<T>(fn: (src: NodeSource) => Promise<T>): Promise<T> {
    const wanted: TileKey[] = [];
    const placeholder = Buffer.alloc(HASH_SIZE);
    await fn({
      async node(level, index) {
        wanted.push(...tilesForNode(level, index));
        return placeholder;
      },
    });
    const tiles = await fetchTiles(this.db, wanted);
    return fn({
      async node(level, index) {
        const h = nodeFromTiles(tiles, level, index);
        if (!h) throw new Error(`audit log: no stored hash for subtree ${level}/${index}`);
        return h;
      },
    });
  }
}

interface StagedRow {
  id: string | number;
  leaf: unknown;
  columns: EntryColumns | null;
}
