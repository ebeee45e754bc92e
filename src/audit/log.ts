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
 */
import type { Database, Queryable } from '../db/database.js';
import { toBuffer } from '../db/database.js';
import { consistencyProof, EMPTY_ROOT, inclusionProof, leafHash, nodeHash, type NodeSource } from './merkle.js';

/** Advisory lock key that sequences appends across processes ('audit' in ASCII). */
const SEQUENCER_LOCK = 0x6175646974;
/** At most this many leaves per transaction. */
const MAX_BATCH = 5000;

export class AuditUnavailableError extends Error {}

export interface TreeHead {
  size: number;
  root: Buffer;
}

/** A record's search columns, stored beside its leaf (see audit_entry). */
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

export class MerkleLog {
  private queue: Pending[] = [];
  private writing = false;

  constructor(private readonly db: Database) {}

  /** Appends one leaf; resolves with its index once it is committed. */
  append(leaf: Buffer, columns?: EntryColumns): Promise<number> {
    return new Promise((resolve, reject) => {
      this.queue.push({ leaf, columns, resolve, reject });
      if (!this.writing) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.writing = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, MAX_BATCH);
        try {
          const first = await this.appendBatch(batch.map((p) => p.leaf), batch.map((p) => p.columns));
          batch.forEach((p, i) => p.resolve(first + i));
        } catch (err) {
          const e = new AuditUnavailableError(`the audit log could not be written: ${(err as Error).message}`);
          for (const p of batch) p.reject(e);
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
   * record of a write, so that a stored version and its record are one atomic change. The
   * sequencer lock is then held until the caller's transaction ends; writes therefore take it
   * before any row lock (their first record comes before their first write), which keeps the
   * lock order the same in every transaction.
   */
  async appendIn(tx: Queryable, leaves: Buffer[], columns?: Array<EntryColumns | undefined>): Promise<number> {
    {
      await this.lockSequencer(tx);
      const head = await readHead(tx);
      const n = head.size;
      // The left siblings the new leaves may complete: the tree's right frontier.
      const frontier = new Map<string, Buffer>();
      const wanted = frontierNodes(n);
      if (wanted.length > 0) {
        const r = await tx.query<{ level: number; idx: string | number; hash: unknown }>(
          'select level, idx, hash from audit_node where (level, idx) in (select * from unnest($1::smallint[], $2::bigint[]))',
          [wanted.map((w) => w.level), wanted.map((w) => w.index)],
        );
        for (const row of r.rows) frontier.set(`${row.level}/${Number(row.idx)}`, toBuffer(row.hash));
        if (frontier.size !== wanted.length) throw new Error('the stored tree is missing frontier nodes');
      }
      const f = new Frontier(n, (level, index) => frontier.get(`${level}/${index}`)!);
      const levels: number[] = [];
      const idxs: number[] = [];
      const hashes: Buffer[] = [];
      for (const leaf of leaves) {
        f.append(leafHash(leaf), (level, index, hash) => {
          levels.push(level);
          idxs.push(index);
          hashes.push(hash);
        });
      }
      const size = f.size;
      const root = f.root();
      await tx.query(
        'insert into audit_leaf (leaf_index, leaf) select * from unnest($1::bigint[], $2::bytea[])',
        [leaves.map((_, i) => n + i), leaves],
      );
      await tx.query('insert into audit_node (level, idx, hash) select * from unnest($1::smallint[], $2::bigint[], $3::bytea[])', [levels, idxs, hashes]);
      const described = (columns ?? []).flatMap((c, i) => (c ? [{ index: n + i, ...c }] : []));
      if (described.length > 0) {
        await tx.query(
          `insert into audit_entry (leaf_index, at, patient_id, account_id, practitioner, action, outcome)
           select * from unnest($1::bigint[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])`,
          [
            described.map((d) => d.index),
            described.map((d) => d.at),
            described.map((d) => d.patient ?? null),
            described.map((d) => d.account ?? null),
            described.map((d) => d.practitioner ?? null),
            described.map((d) => d.action),
            described.map((d) => d.outcome),
          ],
        );
      }
      await tx.query(
        `insert into audit_tree (id, size, root, updated_at) values (1, $1, $2, now())
         on conflict (id) do update set size = excluded.size, root = excluded.root, updated_at = now()`,
        [size, root],
      );
      return n;
    }
  }

  /** Takes the sequencer lock for the rest of `tx` (re-entrant: a transaction may take it again). */
  async lockSequencer(tx: Queryable): Promise<void> {
    await tx.query('select pg_advisory_xact_lock($1::bigint)', [SEQUENCER_LOCK]);
  }

  async head(q: Queryable = this.db): Promise<TreeHead> {
    return readHead(q);
  }

  async leaf(index: number): Promise<Buffer | undefined> {
    const r = await this.db.query<{ leaf: unknown }>('select leaf from audit_leaf where leaf_index = $1', [index]);
    return r.rows[0] ? toBuffer(r.rows[0].leaf) : undefined;
  }

  /** Leaves [from, to) in order, for verification and views. */
  async leaves(from: number, to: number): Promise<Array<{ index: number; leaf: Buffer }>> {
    const r = await this.db.query<{ leaf_index: string | number; leaf: unknown }>(
      'select leaf_index, leaf from audit_leaf where leaf_index >= $1 and leaf_index < $2 order by leaf_index',
      [from, to],
    );
    return r.rows.map((row) => ({ index: Number(row.leaf_index), leaf: toBuffer(row.leaf) }));
  }

  /** The stored complete-subtree hashes, as the proof functions read them. */
  nodes(q: Queryable = this.db): NodeSource {
    return {
      async node(level: number, index: number): Promise<Buffer> {
        const r = await q.query<{ hash: unknown }>('select hash from audit_node where level = $1 and idx = $2', [level, index]);
        if (!r.rows[0]) throw new Error(`audit log: no stored hash for subtree ${level}/${index}`);
        return toBuffer(r.rows[0].hash);
      },
    };
  }

  async inclusionProof(index: number, size: number): Promise<Buffer[]> {
    return inclusionProof(this.nodes(), index, size);
  }

  async consistencyProof(from: number, to: number): Promise<Buffer[]> {
    return consistencyProof(this.nodes(), from, to);
  }
}

async function readHead(q: Queryable): Promise<TreeHead> {
  const r = await q.query<{ size: string | number; root: unknown }>('select size, root from audit_tree where id = 1');
  return r.rows[0] ? { size: Number(r.rows[0].size), root: toBuffer(r.rows[0].root) } : { size: 0, root: EMPTY_ROOT };
}

/**
 * The right edge of a tree: the complete subtrees its size decomposes into. Appending a leaf hash
 * completes the subtrees whose right edge it is (reported through onComplete: exactly the hashes
 * the database stores); the root is the frontier folded right to left. Used by appends (frontier
 * read from the database) and by verification (built from the leaves alone).
 */
export class Frontier {
  private readonly nodes = new Map<string, Buffer>();

  constructor(
    public size = 0,
    initial?: (level: number, index: number) => Buffer,
  ) {
    if (initial) for (const { level, index } of frontierNodes(size)) this.nodes.set(`${level}/${index}`, initial(level, index));
  }

  append(hash: Buffer, onComplete?: (level: number, index: number, hash: Buffer) => void): void {
    let index = this.size;
    let level = 0;
    onComplete?.(level, index, hash);
    // Each odd index completes its parent with its left sibling, which leaves the frontier.
    while (index % 2 === 1) {
      const key = `${level}/${index - 1}`;
      hash = nodeHash(this.nodes.get(key)!, hash);
      this.nodes.delete(key);
      level++;
      index = (index - 1) / 2;
      onComplete?.(level, index, hash);
    }
    this.nodes.set(`${level}/${index}`, hash);
    this.size++;
  }

  root(): Buffer {
    return rootFromFrontier(this.size, (level, index) => this.nodes.get(`${level}/${index}`)!);
  }
}

/** The complete subtrees a tree of `size` leaves decomposes into, largest (leftmost) first. */
export function frontierNodes(size: number): Array<{ level: number; index: number }> {
  const out: Array<{ level: number; index: number }> = [];
  for (let level = 52; level >= 0; level--) {
    const span = 2 ** level;
    if (Math.floor(size / span) % 2 === 1) out.push({ level, index: Math.floor(size / span) - 1 });
  }
  return out;
}

/** RFC 6962 root of a tree of `size` leaves from its frontier: the subtrees folded right to left. */
export function rootFromFrontier(size: number, node: (level: number, index: number) => Buffer): Buffer {
  const parts = frontierNodes(size);
  if (parts.length === 0) return EMPTY_ROOT;
  let acc = node(parts[parts.length - 1].level, parts[parts.length - 1].index);
  for (let i = parts.length - 2; i >= 0; i--) acc = nodeHash(node(parts[i].level, parts[i].index), acc);
  return acc;
}
