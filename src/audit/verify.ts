/**
 * `carewall audit verify`: recomputes the whole tree from the stored leaves and checks, in one
 * pass over the log, that
 *  - the leaves are numbered 0, 1, 2, ... without a gap;
 *  - every stored subtree hash (what proofs are made of) is the hash the leaves give;
 *  - every stored checkpoint, and any checkpoint file given, is signed by the log's key and its
 *    root is the root the leaves give at its size;
 *  - the tree head (size and root) matches the leaves;
 *  - no checkpoint file names a size larger than the log (a database rolled back to an earlier
 *    copy, or truncated).
 * It names the first bad index it can: exactly, when a stored hash disagrees with its leaf; as a
 * range between two checkpoints otherwise (the leaves and all hashes were rewritten consistently,
 * which only the signatures reveal).
 */
import type { Database } from '../db/database.js';
import { toBuffer } from '../db/database.js';
import { Frontier } from './log.js';
import { leafHash } from './merkle.js';
import { openNote, parseCheckpoint } from './note.js';

export interface VerifyProblem {
  /** The first leaf index known to be wrong, or the start of the range it lies in. */
  index?: number;
  /** When only a range is known: the first index past it. */
  before?: number;
  message: string;
}

export interface VerifyReport {
  ok: boolean;
  size: number;
  checkpointsChecked: number;
  problems: VerifyProblem[];
  /** The first bad index, if any can be named. */
  firstBadIndex?: number;
}

interface CheckpointToCheck {
  source: string;
  size: number;
  root: Buffer;
}

const CHUNK = 20_000;

export async function verifyLog(db: Database, vkey: string, extraCheckpoints: Array<{ source: string; note: string }> = []): Promise<VerifyReport> {
  const problems: VerifyProblem[] = [];
  const checkpoints: CheckpointToCheck[] = [];
  const stored = await db.query<{ size: string | number; root: unknown; note: string }>('select size, root, note from audit_checkpoint order by size');
  const given: Array<{ source: string; note: string; beside?: { size: number; root: Buffer } }> = [
    ...stored.rows.map((r) => ({ source: `stored checkpoint at size ${Number(r.size)}`, note: r.note, beside: { size: Number(r.size), root: toBuffer(r.root) } })),
    ...extraCheckpoints,
  ];
  for (const row of given) {
    try {
      const opened = openNote(row.note, [vkey]);
      const cp = parseCheckpoint(opened.text);
      if (row.beside && (cp.size !== row.beside.size || !cp.root.equals(row.beside.root))) {
        problems.push({ message: `${row.source}: the signed text does not match the size and root stored beside it` });
      }
      checkpoints.push({ source: row.source, size: cp.size, root: cp.root });
    } catch (err) {
      problems.push({ message: `${row.source}: not a checkpoint signed by this log's key (${(err as Error).message})` });
    }
  }
  checkpoints.sort((a, b) => a.size - b.size);

  const headRow = (await db.query<{ size: string | number; root: unknown }>('select size, root from audit_tree where id = 1')).rows[0];
  const f = new Frontier();
  let next = 0;
  let goodUpTo = 0; // the largest checkpoint size known good
  let exact: number | undefined;
  let cpAt = 0;
  // Stored subtree hashes, compared in the order they complete.
  const storedNodes = new NodeStream(db);
  const checkDue = () => {
    while (cpAt < checkpoints.length && checkpoints[cpAt].size === f.size) {
      const cp = checkpoints[cpAt++];
      if (cp.size === 0 || f.root().equals(cp.root)) goodUpTo = Math.max(goodUpTo, cp.size);
      else problems.push({ index: goodUpTo, before: cp.size, message: `${cp.source}: its root is not the root of the stored leaves 0..${cp.size - 1}; the first changed record lies in ${goodUpTo}..${cp.size - 1}` });
    }
  };
  checkDue();
  for (;;) {
    const rows = (await db.query<{ leaf_index: string | number; leaf: unknown }>('select leaf_index, leaf from audit_leaf where leaf_index >= $1 order by leaf_index limit $2', [next, CHUNK])).rows;
    if (rows.length === 0) break;
    await storedNodes.load(f.size, f.size + rows.length);
    for (const row of rows) {
      const index = Number(row.leaf_index);
      if (index !== next) {
        exact ??= next;
        problems.push({ index: next, message: `record ${next} is missing (the next stored is ${index})` });
        // Continue from what is there: later checkpoints will not match, and say so.
        next = index;
      }
      const mismatches: string[] = [];
      f.append(leafHash(toBuffer(row.leaf)), (level, idx, hash) => {
        const s = storedNodes.take(level, idx);
        if (!s || !s.equals(hash)) mismatches.push(`${level}/${idx}`);
      });
      if (mismatches.length > 0) {
        exact ??= index;
        if (problems.length < 100) problems.push({ index, message: `record ${index}: the stored tree hashes ${mismatches.join(', ')} are not what the records give` });
      }
      next++;
      checkDue();
    }
  }
  for (; cpAt < checkpoints.length; cpAt++) {
    problems.push({ index: f.size, message: `${checkpoints[cpAt].source}: signed at size ${checkpoints[cpAt].size}, but the log holds only ${f.size} records (rolled back or truncated)` });
  }
  if (headRow && (Number(headRow.size) !== f.size || !toBuffer(headRow.root).equals(f.root()))) {
    problems.push({ index: Math.min(Number(headRow.size), f.size), message: `the tree head says ${Number(headRow.size)} records; the log holds ${f.size} whose root differs` });
  }
  const indexes = problems.map((p) => p.index).filter((i): i is number => i !== undefined);
  const firstBadIndex = exact ?? (indexes.length > 0 ? Math.min(...indexes) : undefined);
  return { ok: problems.length === 0, size: f.size, checkpointsChecked: checkpoints.length, problems, ...(firstBadIndex !== undefined ? { firstBadIndex } : {}) };
}

/** The stored subtree hashes completed by a range of leaf positions, fetched by primary key per level. */
class NodeStream {
  private buffer = new Map<string, Buffer>();

  constructor(private readonly db: Database) {}

  take(level: number, index: number): Buffer | undefined {
    const key = `${level}/${index}`;
    const h = this.buffer.get(key);
    this.buffer.delete(key);
    return h;
  }

  /**
   * Loads the hashes whose last leaf is in [from, to): at level l, the subtree idx ends at leaf
   * (idx + 1) * 2^l - 1, so idx runs from ceil((from + 1) / 2^l) - 1 to floor(to / 2^l), exclusive.
   */
  async load(from: number, to: number): Promise<void> {
    this.buffer.clear();
    const levels: number[] = [];
    const lows: number[] = [];
    const highs: number[] = [];
    for (let level = 0; 2 ** level <= to; level++) {
      const span = 2 ** level;
      const lo = Math.ceil((from + 1) / span) - 1;
      const hi = Math.floor(to / span);
      if (hi > lo) {
        levels.push(level);
        lows.push(lo);
        highs.push(hi);
      }
    }
    const r = await this.db.query<{ level: number; idx: string | number; hash: unknown }>(
      `select n.level, n.idx, n.hash from unnest($1::smallint[], $2::bigint[], $3::bigint[]) as w(l, lo, hi)
       join audit_node n on n.level = w.l and n.idx >= w.lo and n.idx < w.hi`,
      [levels, lows, highs],
    );
    for (const row of r.rows) this.buffer.set(`${row.level}/${Number(row.idx)}`, toBuffer(row.hash));
  }
}
