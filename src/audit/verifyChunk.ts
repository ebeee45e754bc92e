/**
 * The hashing half of `carewall audit verify`, one aligned chunk of CHUNK leaves at a time: hashes
 * every leaf, builds every subtree below UNIT_LEVEL, compares each with the stored tile hash, and
 * hands back the chunk's UNIT_LEVEL subtree hashes (the main thread builds the levels above). A pure
 * function of its input, so it runs in a worker thread as well as inline: verification then
 * spreads over the machine's cores while the main thread reads the next chunk from the database.
 */
import crypto from 'node:crypto';
import { eachCopyRow, readInt8 } from './copyRows.js';
import { HASH_SIZE, TILE_WIDTH } from './tiles.js';

export const UNIT_LEVEL = 8;
export const UNIT = 2 ** UNIT_LEVEL;
export const CHUNK_LEVEL = 13;
export const CHUNK = 2 ** CHUNK_LEVEL;

/** The COPY select for the leaves of chunk [from, from + CHUNK), one row per unit (see ChunkTask.leaves). */
export function leavesSelect(from: number): string {
  return `select leaf_index / ${UNIT} as unit, string_agg(int8send(leaf_index) || int4send(length(leaf) + 1) || '\\x00'::bytea || leaf, ''::bytea order by leaf_index)
    from audit_leaf where leaf_index >= ${from} and leaf_index < ${from + CHUNK} group by 1 order by 1`;
}

export interface ChunkTask {
  /** First leaf index of the chunk, a multiple of CHUNK. */
  from: number;
  /**
   * The leaves [from, from + CHUNK) in order, as COPY rows of one unit each (LEAVES_SELECT): per
   * leaf its index (int8), the length of what follows (int4), then 0x00 || leaf. Whole units per
   * row because a row per leaf costs more to receive than to hash.
   */
  leaves: Uint8Array;
  /** COPY rows (level, idx, hashes) of the tiles below UNIT_LEVEL covering the chunk, in order. */
  tiles: Uint8Array;
  /** Tree sizes inside the chunk, not multiples of UNIT, whose in-unit right edge is wanted (checkpoints, the head). */
  sizes: number[];
}

export interface ChunkResult {
  /** Every leaf index in order, every stored hash below UNIT_LEVEL as computed. */
  ok: boolean;
  problem?: string;
  /** Leaves read. */
  count: number;
  /** The UNIT_LEVEL subtree hashes the chunk completes, concatenated. */
  units: Uint8Array;
  /** Per wanted size: the complete subtrees of its last, partial unit, largest first, concatenated. */
  partials: Array<{ size: number; parts: Uint8Array }>;
}

const asBuffer = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

export function hashChunk(task: ChunkTask): ChunkResult {
  const { from } = task;
  const leaves = asBuffer(task.leaves);
  const tiles = asBuffer(task.tiles);
  // The stored hashes of each level below UNIT_LEVEL, as one run starting at the chunk's first node.
  const runs: Buffer[][] = Array.from({ length: UNIT_LEVEL }, () => []);
  const nextTile = Array.from({ length: UNIT_LEVEL }, (_, level) => from / 2 ** level / TILE_WIDTH);
  let ok = true;
  let problem: string | undefined;
  const fail = (why: string) => {
    if (ok) problem = why;
    ok = false;
  };
  eachCopyRow(tiles, (f) => {
    const level = tiles.readInt16BE(f[0]);
    const idx = readInt8(tiles, f[2]);
    if (level < 0 || level >= UNIT_LEVEL || idx !== nextTile[level]) return fail(`stored tiles out of sequence at level ${level}`);
    nextTile[level]++;
    runs[level].push(tiles.subarray(f[4], f[5]));
  });
  const stored = runs.map((r) => Buffer.concat(r));

  const stack: Buffer[] = new Array(UNIT_LEVEL);
  const scratch = Buffer.allocUnsafe(1 + 2 * HASH_SIZE);
  scratch[0] = 1;
  const units: Buffer[] = [];
  const partials: ChunkResult['partials'] = [];
  const sizes = [...task.sizes].sort((a, b) => a - b);
  let nextSize = 0;
  const matches = (level: number, idx: number, hash: Buffer) => {
    const at = idx * HASH_SIZE;
    return stored[level].length >= at + HASH_SIZE && hash.compare(stored[level], at, at + HASH_SIZE) === 0;
  };
  let i = 0;
  const leaf = () => {
    if (!ok) return;
    if (readInt8(leaves, at) !== from + i) return fail(`leaf ${from + i} is missing or out of order`);
    const length = leaves.readInt32BE(at + 8);
    const body = leaves.subarray(at + 12, at + 12 + length);
    at += 12 + length;
    // RFC 6962 leaf hash: the database sent 0x00 || leaf, hashed as is.
    let hash = crypto.hash('sha256', body, 'buffer');
    let level = 0;
    let idx = i;
    if (!matches(0, idx, hash)) return fail(`stored hash of leaf ${from + i} differs`);
    while (idx % 2 === 1) {
      stack[level].copy(scratch, 1);
      hash.copy(scratch, 1 + HASH_SIZE);
      hash = crypto.hash('sha256', scratch, 'buffer');
      level++;
      idx = (idx - 1) / 2;
      if (level === UNIT_LEVEL) break;
      if (!matches(level, idx, hash)) return fail(`stored subtree hash ${level}/${from / 2 ** level + idx} differs`);
    }
    if (level === UNIT_LEVEL) units.push(hash);
    else stack[level] = hash;
    i++;
    while (nextSize < sizes.length && sizes[nextSize] <= from + i) {
      const size = sizes[nextSize++];
      if (size !== from + i) continue;
      const inUnit = i % UNIT;
      const parts: Buffer[] = [];
      for (let l = UNIT_LEVEL - 1; l >= 0; l--) if (Math.floor(inUnit / 2 ** l) % 2 === 1) parts.push(stack[l]);
      partials.push({ size, parts: Buffer.concat(parts) });
    }
  };
  let at = 0;
  eachCopyRow(leaves, (f) => {
    at = f[2];
    while (ok && at < f[3]) leaf();
    if (at !== f[3]) fail('a unit of leaves is malformed');
  });
  return { ok, ...(problem ? { problem } : {}), count: i, units: Buffer.concat(units), partials };
}
