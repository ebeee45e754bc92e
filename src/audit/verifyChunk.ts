/**
 * The hashing half of `carewall audit verify`, one aligned chunk of CHUNK leaves at a time: hashes
 * every leaf, builds every subtree below UNIT_LEVEL, compares each with the stored tile hash, and
 * hands back the chunk's UNIT_LEVEL subtree hashes (the main thread builds the levels above). A pure
 * function of its input, so it runs in a worker thread as well as inline: verification then
 * spreads over the machine's cores while the main thread reads the next chunk from the database.
 */
import crypto from 'node:crypto';
import { eachCopyRow, readInt8 } from './copyRows.js';
import { BUNDLE_LEVEL, decodeBundle } from './leafStore.js';
import { HASH_SIZE, TILE_WIDTH } from './tiles.js';

export const UNIT_LEVEL = BUNDLE_LEVEL;
export const UNIT = 2 ** UNIT_LEVEL;
export const CHUNK_LEVEL = 13;
export const CHUNK = 2 ** CHUNK_LEVEL;

/** The COPY selects for the leaves of chunk [from, from + CHUNK): its bundles, and its leaves waiting in audit_tail. */
export function leavesSelects(from: number): { bundles: string; tail: string } {
  return {
    bundles: `select idx, entries from audit_bundle where idx >= ${from / UNIT} and idx < ${(from + CHUNK) / UNIT} order by idx`,
    tail: `select leaf_index, leaf from audit_tail where leaf_index >= ${from} and leaf_index < ${from + CHUNK} order by leaf_index`,
  };
}

export interface ChunkTask {
  /** First leaf index of the chunk, a multiple of CHUNK. */
  from: number;
  /** COPY rows (idx, entries) of the chunk's bundles (leafStore.ts), in order. hashChunk overwrites the byte before each leaf in these buffers. */
  bundles: Uint8Array;
  /** COPY rows (leaf_index, leaf) of the chunk's leaves in audit_tail, in order. */
  tail: Uint8Array;
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
  const bundles = asBuffer(task.bundles);
  const tail = asBuffer(task.tail);
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
  const stored = runs.map((r) => Buffer.concat(r).toString('latin1'));

  // Hashes are kept as one-byte strings (latin1) while the chunk is hashed: a digest returned as
  // a string costs half what a Buffer does, which is most of verification's time.
  const stack: string[] = new Array(UNIT_LEVEL);
  const scratch = Buffer.allocUnsafe(1 + 2 * HASH_SIZE);
  scratch[0] = 1;
  const units: Buffer[] = [];
  const partials: ChunkResult['partials'] = [];
  const sizes = [...task.sizes].sort((a, b) => a - b);
  let nextSize = 0;
  const matches = (level: number, idx: number, hash: string) => {
    const at = idx * HASH_SIZE;
    return stored[level].length >= at + HASH_SIZE && stored[level].startsWith(hash, at);
  };
  let i = 0;
  // RFC 6962 hashes 0x00 || leaf. The byte before each leaf in the task's buffers is part of a
  // length or an index already read, so it is overwritten with the prefix and the leaf hashed in
  // place (no copy per leaf).
  const leaf = (body: Buffer) => {
    if (!ok) return;
    const prefixed = Buffer.from(body.buffer, body.byteOffset - 1, body.length + 1);
    prefixed[0] = 0;
    let hash = crypto.hash('sha256', prefixed, 'binary');
    let level = 0;
    let idx = i;
    if (!matches(0, idx, hash)) return fail(`stored hash of leaf ${from + i} differs`);
    while (idx % 2 === 1) {
      scratch.write(stack[level], 1, 'latin1');
      scratch.write(hash, 1 + HASH_SIZE, 'latin1');
      hash = crypto.hash('sha256', scratch, 'binary');
      level++;
      idx = (idx - 1) / 2;
      if (level === UNIT_LEVEL) break;
      if (!matches(level, idx, hash)) return fail(`stored subtree hash ${level}/${from / 2 ** level + idx} differs`);
    }
    if (level === UNIT_LEVEL) units.push(Buffer.from(hash, 'latin1'));
    else stack[level] = hash;
    i++;
    while (nextSize < sizes.length && sizes[nextSize] <= from + i) {
      const size = sizes[nextSize++];
      if (size !== from + i) continue;
      const inUnit = i % UNIT;
      const parts: Buffer[] = [];
      for (let l = UNIT_LEVEL - 1; l >= 0; l--) if (Math.floor(inUnit / 2 ** l) % 2 === 1) parts.push(Buffer.from(stack[l], 'latin1'));
      partials.push({ size, parts: Buffer.concat(parts) });
    }
  };
  // Leaf i's home is its bundle when there is one, else audit_tail (leafStore.ts); both lists are
  // in order, so the chunk is a merge of the two. Whatever is left over is out of place.
  const bundleRows: Array<{ first: number; entries: Buffer }> = [];
  eachCopyRow(bundles, (f) => bundleRows.push({ first: readInt8(bundles, f[0]) * UNIT, entries: bundles.subarray(f[2], f[3]) }));
  const tailRows: Array<{ index: number; leaf: Buffer }> = [];
  eachCopyRow(tail, (f) => tailRows.push({ index: readInt8(tail, f[0]), leaf: tail.subarray(f[2], f[3]) }));
  let b = 0;
  let t = 0;
  while (ok && i < CHUNK) {
    if (b < bundleRows.length && bundleRows[b].first === from + i) {
      const leaves = decodeBundle(bundleRows[b++].entries);
      if (typeof leaves === 'string') fail(`bundle ${(from + i) / UNIT}: ${leaves}`);
      else if (t < tailRows.length && tailRows[t].index < from + i + UNIT) fail(`record ${tailRows[t].index} is stored twice`);
      else for (const body of leaves) leaf(body);
    } else if (t < tailRows.length && tailRows[t].index === from + i) {
      leaf(tailRows[t++].leaf);
    } else break;
  }
  if (ok && (b < bundleRows.length || t < tailRows.length)) fail(`the records stored after ${from + i - 1} do not follow it`);
  return { ok, ...(problem ? { problem } : {}), count: i, units: Buffer.concat(units), partials };
}
