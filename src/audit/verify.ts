/**
 * `carewall audit verify`: recomputes the whole tree from the stored leaves and checks, in one
 * pass over the log, that
 *  - the leaves are numbered 0, 1, 2, ... without a gap;
 *  - every stored subtree hash (levels 0, 8, 16, ...: what proofs are made of) is the hash the
 *    leaves give;
 *  - every stored checkpoint, and any checkpoint file given, is signed by the log's key and its
 *    root is the root the leaves give at its size;
 *  - the tree head (size and root) matches the leaves;
 *  - no checkpoint file names a size larger than the log (a database rolled back to an earlier
 *    copy, or truncated).
 *
 * Two passes share that logic. The fast pass reads aligned chunks of leaves and tiles with binary
 * COPY, has worker threads hash them (verifyChunk.ts) while the next chunk is read, and builds the
 * levels above each chunk itself. At the first doubt (a gap, a hash that differs) the careful pass
 * takes over from the start of that chunk, leaf by leaf, and names the first bad index: exactly,
 * when a stored hash disagrees with its leaf; as a range between two checkpoints otherwise (leaves
 * and hashes rewritten consistently, which only the signatures reveal).
 */
import os from 'node:os';
import { WorkerPool } from '../util/index.js';
import type { Database } from '../db/index.js';
import { toBuffer } from '../db/index.js';
import { eachCopyRow, readInt8 } from './copyRows.js';
import { Frontier, frontierNodes } from './frontier.js';
import { EMPTY_ROOT, leafHash, nodeHash } from './merkle.js';
import { openNote, parseCheckpoint } from './note.js';
import { fetchTiles } from './tiles.js';
import { HASH_SIZE, isStoredLevel, nodeIn, TILE_WIDTH, tileKey, type TileKey } from './tileLayout.js';
import { inspectLeaves, nextStoredIndex } from './leafStore.js';
import { batchHasher } from './batchHash.js';
import { CHUNK, chunkSelect, hashChunk, UNIT, UNIT_LEVEL, type ChunkResult, type ChunkTask } from './verifyChunk.js';

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
  /** What hashed the leaves: the native addon (batchHash.ts) or node:crypto. */
  hashing: 'native' | 'node:crypto';
}

export interface VerifyOptions {
  /**
   * Worker threads hashing chunks; 0 hashes on the calling thread. Default: one per core (up to 8)
   * when the log spans four chunks or more. The reading thread and the database mostly wait on
   * each other, so on 2 cores two workers measured fastest (docs/benchmarks.md).
   */
  workers?: number;
}

interface CheckpointToCheck {
  source: string;
  size: number;
  root: Buffer;
}

/** What both passes keep: checkpoints still to check, what is known good, what is wrong. */
class Findings {
  cpAt = 0;
  goodUpTo = 0;
  exact: number | undefined;
  readonly problems: VerifyProblem[] = [];

  constructor(readonly checkpoints: CheckpointToCheck[]) {}

  /** Checkpoints at `size` whose root is `root()`. */
  checkAt(size: number, root: () => Buffer): void {
    while (this.cpAt < this.checkpoints.length && this.checkpoints[this.cpAt].size === size) {
      const cp = this.checkpoints[this.cpAt++];
      if (cp.size === 0 || root().equals(cp.root)) this.goodUpTo = Math.max(this.goodUpTo, cp.size);
      else
        this.problems.push({
          index: this.goodUpTo,
          before: cp.size,
          message: `${cp.source}: its root is not the root of the stored leaves 0..${cp.size - 1}; the first changed record lies in ${this.goodUpTo}..${cp.size - 1}`,
        });
    }
  }

  snapshot() {
    return { cpAt: this.cpAt, goodUpTo: this.goodUpTo, problems: this.problems.length };
  }

  restore(s: ReturnType<Findings['snapshot']>): void {
    this.cpAt = s.cpAt;
    this.goodUpTo = s.goodUpTo;
    this.problems.length = s.problems;
  }
}

export async function verifyLog(
  db: Database,
  vkey: string,
  extraCheckpoints: Array<{ source: string; note: string }> = [],
  options: VerifyOptions = {},
): Promise<VerifyReport> {
  const setup: VerifyProblem[] = [];
  const checkpoints: CheckpointToCheck[] = [];
  const stored = await db.query<{ size: string | number; root: unknown; note: string }>('select size, root, note from audit_checkpoint order by size');
  const given: Array<{ source: string; note: string; beside?: { size: number; root: Buffer } }> = [
    ...stored.rows.map((r) => ({
      source: `stored checkpoint at size ${Number(r.size)}`,
      note: r.note,
      beside: { size: Number(r.size), root: toBuffer(r.root) },
    })),
    ...extraCheckpoints,
  ];
  for (const row of given) {
    try {
      const opened = openNote(row.note, [vkey]);
      const cp = parseCheckpoint(opened.text);
      if (row.beside && (cp.size !== row.beside.size || !cp.root.equals(row.beside.root))) {
        setup.push({ message: `${row.source}: the signed text does not match the size and root stored beside it` });
      }
      checkpoints.push({ source: row.source, size: cp.size, root: cp.root });
    } catch (err) {
      setup.push({ message: `${row.source}: not a checkpoint signed by this log's key (${(err as Error).message})` });
    }
  }
  checkpoints.sort((a, b) => a.size - b.size);
  const findings = new Findings(checkpoints);
  findings.problems.push(...setup);

  const headRow = (await db.query<{ size: string | number; root: unknown }>('select size, root from audit_tree where id = 1')).rows[0];
  const headSize = headRow ? Number(headRow.size) : 0;
  const fast = await fastPass(db, findings, headSize, options);
  const result = fast.done ? fast.frontier : await carefulPass(db, findings, fast.frontier);

  for (; findings.cpAt < checkpoints.length; findings.cpAt++) {
    const cp = checkpoints[findings.cpAt];
    findings.problems.push({
      index: result.size,
      message: `${cp.source}: signed at size ${cp.size}, but the log holds only ${result.size} records (rolled back or truncated)`,
    });
  }
  if (headRow && (headSize !== result.size || !toBuffer(headRow.root).equals(result.root()))) {
    findings.problems.push({
      index: Math.min(headSize, result.size),
      message: `the tree head says ${headSize} records; the log holds ${result.size} whose root differs`,
    });
  }
  const problems = findings.problems;
  const indexes = problems.map((p) => p.index).filter((i): i is number => i !== undefined);
  const firstBadIndex = findings.exact ?? (indexes.length > 0 ? Math.min(...indexes) : undefined);
  return {
    ok: problems.length === 0,
    size: result.size,
    checkpointsChecked: checkpoints.length,
    problems,
    ...(firstBadIndex !== undefined ? { firstBadIndex } : {}),
    hashing: batchHasher().native ? 'native' : 'node:crypto',
  };
}

/**
 * Reads chunk after chunk; returns done with the tree's frontier when every leaf and hash held,
 * or, at the first doubt, the frontier at the start of the doubtful chunk (findings as they were
 * there) for the careful pass.
 */
async function fastPass(db: Database, findings: Findings, headSize: number, options: VerifyOptions): Promise<{ done: boolean; frontier: Frontier }> {
  // The tiles at and above UNIT_LEVEL are few (1/UNIT of the hashes): read them all at once.
  const upperTiles = new Map<string, Buffer>();
  const upperCopy = await db.copyOut(`select level, idx, hashes from audit_tile where level >= ${UNIT_LEVEL}`);
  eachCopyRow(upperCopy, (f) => upperTiles.set(tileKey(upperCopy.readInt16BE(f[0]), readInt8(upperCopy, f[2])), upperCopy.subarray(f[4], f[5])));
  // The tree above the units, in units: its node (l, i) is the tree's node (l + UNIT_LEVEL, i).
  const upper = new Frontier();
  const sizes = [...findings.checkpoints.map((c) => c.size), headSize].filter((s) => s % UNIT !== 0).sort((a, b) => a - b);
  // The tree's frontier at a chunk boundary: all of it lies at or above the units.
  const atChunk = (from: number) => new Frontier(from, (level, index) => upper.node(level - UNIT_LEVEL, index));

  const expectedChunks = Math.max(1, Math.ceil(headSize / CHUNK));
  const pool = new WorkerPool<ChunkTask, ChunkResult>(
    options.workers ?? (expectedChunks >= 4 ? Math.min(8, os.availableParallelism()) : 0),
    import.meta.url,
    'verifyWorker',
    hashChunk,
  );
  const inFlight: Array<Promise<ChunkResult & { from: number }>> = [];
  // Chunks read ahead of the one being checked: reading goes on while a worker is slow on one chunk
  // and the others wait their turn to be checked in order (about 1 MB each; measured on 2 cores:
  // 16 ahead verified 12 to 20% faster than 3, on both engines). The statements themselves run
  // READERS at a time, so verification holds two of the database's connections, not 16.
  const depth = pool.size === 0 ? 2 : Math.min(32, 8 * pool.size);
  const READERS = 2;
  const tileRows = db.kind === 'postgres'; // see chunkSelect
  let nextFrom = 0;
  // Each chunk is read by the next reader in turn, after that reader's previous chunk.
  const readers: Array<Promise<unknown>> = Array.from({ length: READERS }, () => Promise.resolve());
  let turn = 0;
  const read = (from: number): Promise<Buffer> => {
    const k = turn++ % READERS;
    const rows = readers[k].then(() => db.copyOut(chunkSelect(from, tileRows)));
    readers[k] = rows.catch(() => undefined);
    return rows;
  };
  const start = (from: number) =>
    (async () => {
      const rows = await read(from);
      const task: ChunkTask = { from, rows, sizes: sizes.filter((s) => s > from && s <= from + CHUNK) };
      // Hand the chunk's buffer over rather than copy it, where it is not shared.
      const owned = rows.byteOffset === 0 && rows.byteLength === rows.buffer.byteLength ? [rows.buffer as ArrayBuffer] : [];
      return { from, ...(await pool.run(task, owned)) };
    })();
  try {
    for (;;) {
      while (inFlight.length < depth) {
        inFlight.push(start(nextFrom));
        nextFrom += CHUNK;
      }
      const result = await inFlight.shift()!;
      const from = result.from;
      const before = findings.snapshot();
      const frontierBefore = atChunk(from);
      const doubt = () => {
        findings.restore(before);
        return { done: false, frontier: frontierBefore };
      };
      if (!result.ok) return doubt();
      const unitCount = result.units.length / HASH_SIZE;
      const partials = new Map(result.partials.map((p) => [p.size, Buffer.from(p.parts)]));
      const rootWith = (lower: Buffer) => () => foldRoot([...upper.parts().map((p) => p.hash), ...splitHashes(lower)]);
      let mismatch = false;
      for (let u = 0; u <= unitCount; u++) {
        const unitStart = from + u * UNIT;
        if (unitStart > from + result.count) break;
        // Checkpoints inside this unit (before it completes), then at its end.
        findings.checkAt(unitStart, rootWith(Buffer.alloc(0)));
        for (const cp of findings.checkpoints.slice(findings.cpAt)) {
          if (cp.size <= unitStart || cp.size >= unitStart + UNIT || cp.size > from + result.count) break;
          const lower = partials.get(cp.size);
          if (lower) findings.checkAt(cp.size, rootWith(lower));
        }
        if (u === unitCount) break;
        const unitHash = Buffer.from(result.units.subarray(u * HASH_SIZE, (u + 1) * HASH_SIZE));
        upper.append(unitHash, (level, index, hash) => {
          if (!isStoredLevel(level + UNIT_LEVEL)) return;
          const stored = nodeIn(upperTiles, level + UNIT_LEVEL, index);
          if (!stored || !stored.equals(hash)) mismatch = true;
        });
        if (mismatch) return doubt();
      }
      if (result.count < CHUNK) {
        // The last chunk: nothing may follow it.
        if ((await nextStoredIndex(db, from + result.count)) !== undefined) return doubt();
        const size = from + result.count;
        const lower = size % UNIT === 0 ? Buffer.alloc(0) : partials.get(size);
        if (!lower) return doubt();
        const low = new Map<string, Buffer>();
        const lowParts = splitHashes(lower);
        frontierNodes(size)
          .filter((p) => p.level < UNIT_LEVEL)
          .forEach((p, i) => low.set(`${p.level}/${p.index}`, lowParts[i]));
        const leafFrontier = new Frontier(size, (level, index) => {
          if (level >= UNIT_LEVEL) return upper.node(level - UNIT_LEVEL, index);
          const h = low.get(`${level}/${index}`);
          if (!h) throw new Error('verify: a hash of the last unit is missing');
          return h;
        });
        return { done: true, frontier: leafFrontier };
      }
    }
  } finally {
    await Promise.allSettled(inFlight);
    await pool.close();
  }
}

function splitHashes(b: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < b.length; at += HASH_SIZE) out.push(b.subarray(at, at + HASH_SIZE));
  return out;
}

/** RFC 6962 root from the complete subtrees of a tree's right edge, largest first. */
function foldRoot(parts: Buffer[]): Buffer {
  if (parts.length === 0) return EMPTY_ROOT;
  let acc = parts[parts.length - 1];
  for (let i = parts.length - 2; i >= 0; i--) acc = nodeHash(parts[i], acc);
  return acc;
}

/** Leaf by leaf from the frontier given, naming what is wrong. */
async function carefulPass(db: Database, findings: Findings, f: Frontier): Promise<Frontier> {
  let next = f.size;
  const STEP = 20_000;
  findings.checkAt(f.size, () => f.root());
  for (;;) {
    let { leaves: rows, problems } = await inspectLeaves(db, next, next + STEP);
    if (rows.length === 0) {
      // A gap wider than a step: carry on from whatever is stored after it.
      const after = await nextStoredIndex(db, next + STEP);
      if (after === undefined) break;
      ({ leaves: rows, problems } = await inspectLeaves(db, after, after + STEP));
    }
    for (const p of problems) {
      findings.exact ??= p.index;
      if (findings.problems.length < 100) findings.problems.push({ index: p.index, message: p.message });
    }
    if (rows.length === 0) break;
    const tiles = await fetchTiles(db, completedTiles(f.size, f.size + rows.length));
    for (const row of rows) {
      if (row.index !== next) {
        findings.exact ??= next;
        findings.problems.push({ index: next, message: `record ${next} is missing (the next stored is ${row.index})` });
        // Continue from what is there: later checkpoints will not match, and say so.
        next = row.index;
      }
      const mismatches: string[] = [];
      f.append(leafHash(row.leaf), (level, idx, hash) => {
        if (!isStoredLevel(level)) return;
        const s = nodeIn(tiles, level, idx);
        if (!s || !s.equals(hash)) mismatches.push(`${level}/${idx}`);
      });
      if (mismatches.length > 0) {
        findings.exact ??= row.index;
        if (findings.problems.length < 100)
          findings.problems.push({
            index: row.index,
            message: `record ${row.index}: the stored tree hashes ${mismatches.join(', ')} are not what the records give`,
          });
      }
      next++;
      findings.checkAt(f.size, () => f.root());
    }
  }
  return f;
}

/** The stored tiles holding the subtrees completed by leaf positions [from, to). */
function completedTiles(from: number, to: number): TileKey[] {
  const keys: TileKey[] = [];
  for (let level = 0; 2 ** level <= to; level++) {
    if (!isStoredLevel(level)) continue;
    const span = 2 ** level;
    // Subtree idx ends at leaf (idx + 1) * span - 1: those ending in [from, to).
    const lo = Math.ceil((from + 1) / span) - 1;
    const hi = Math.floor(to / span);
    for (let t = Math.floor(lo / TILE_WIDTH); t * TILE_WIDTH < hi; t++) keys.push({ level, idx: t });
  }
  return keys;
}
