/**
 * The hashing half of `carewall audit verify`, one aligned chunk of CHUNK leaves at a time: hashes
 * every leaf, builds every subtree below UNIT_LEVEL, compares each with the stored tile hash, and
 * hands back the chunk's UNIT_LEVEL subtree hashes (the main thread builds the levels above). A pure
 * function of its input, so it runs in a worker thread as well as inline: verification then
 * spreads over the machine's cores while the main thread reads the next chunk from the database.
 */
import { eachCopyRow, readInt8 } from './copyRows.js';
import { batchHasher } from './batchHash.js';
import { BUNDLE_LEVEL, bundleLeafBounds } from './leafStore.js';
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
  /** COPY rows (idx, entries) of the chunk's bundles (leafStore.ts), in order. */
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
  let problem: string | undefined;
  const failed = (why: string): ChunkResult => ({ ok: false, problem: problem ?? why, count: 0, units: new Uint8Array(0), partials: [] });
  eachCopyRow(tiles, (f) => {
    const level = tiles.readInt16BE(f[0]);
    const idx = readInt8(tiles, f[2]);
    if (level < 0 || level >= UNIT_LEVEL || idx !== nextTile[level]) problem ??= `stored tiles out of sequence at level ${level}`;
    else {
      nextTile[level]++;
      runs[level].push(tiles.subarray(f[4], f[5]));
    }
  });
  if (problem) return failed(problem);
  const stored = runs.map((r) => Buffer.concat(r));

  // Leaf i's home is its bundle when there is one, else audit_tail (leafStore.ts); both lists are
  // in order, so the chunk is a merge of the two. Whatever is left over is out of place. The merge
  // only notes where each leaf's bytes are; the hashing is then one call per source.
  const bundleRows: Array<{ first: number; start: number; end: number }> = [];
  eachCopyRow(bundles, (f) => bundleRows.push({ first: readInt8(bundles, f[0]) * UNIT, start: f[2], end: f[3] }));
  const tailRows: Array<{ index: number; start: number; end: number }> = [];
  eachCopyRow(tail, (f) => tailRows.push({ index: readInt8(tail, f[0]), start: f[2], end: f[3] }));
  const bundleBounds = new Int32Array(2 * bundleRows.length * UNIT);
  const tailBounds = new Int32Array(2 * tailRows.length);
  // Whether leaf i came from audit_tail; in a sound log the tail only ever follows the bundles.
  const fromTail = new Uint8Array(CHUNK);
  let inBundles = 0;
  let inTail = 0;
  let i = 0;
  let b = 0;
  let t = 0;
  while (i < CHUNK) {
    if (b < bundleRows.length && bundleRows[b].first === from + i) {
      const row = bundleRows[b++];
      const bad = bundleLeafBounds(bundles, row.start, row.end, bundleBounds, 2 * inBundles);
      if (bad) return failed(`bundle ${(from + i) / UNIT}: ${bad}`);
      if (t < tailRows.length && tailRows[t].index < from + i + UNIT) return failed(`record ${tailRows[t].index} is stored twice`);
      inBundles += UNIT;
      i += UNIT;
    } else if (t < tailRows.length && tailRows[t].index === from + i) {
      const row = tailRows[t++];
      tailBounds[2 * inTail] = row.start;
      tailBounds[2 * inTail + 1] = row.end;
      inTail++;
      fromTail[i++] = 1;
    } else break;
  }
  if (b < bundleRows.length || t < tailRows.length) return failed(`the records stored after ${from + i - 1} do not follow it`);
  const count = i;

  // RFC 6962: a leaf's hash is SHA-256(0x00 || leaf), a node's SHA-256(0x01 || left || right).
  const hasher = batchHasher();
  let level0 = Buffer.allocUnsafe(HASH_SIZE * count);
  if (inTail === 0) hasher.sha256Each(bundles, bundleBounds.subarray(0, 2 * inBundles), 0, level0);
  else {
    const fromBundles = Buffer.allocUnsafe(HASH_SIZE * inBundles);
    const fromTailRows = Buffer.allocUnsafe(HASH_SIZE * inTail);
    hasher.sha256Each(bundles, bundleBounds.subarray(0, 2 * inBundles), 0, fromBundles);
    hasher.sha256Each(tail, tailBounds.subarray(0, 2 * inTail), 0, fromTailRows);
    if (inBundles > 0 && fromTail.indexOf(1) >= inBundles) level0 = Buffer.concat([fromBundles, fromTailRows]);
    else {
      let nb = 0;
      let nt = 0;
      for (let k = 0; k < count; k++) (fromTail[k] ? fromTailRows.subarray(HASH_SIZE * nt++, HASH_SIZE * nt) : fromBundles.subarray(HASH_SIZE * nb++, HASH_SIZE * nb)).copy(level0, HASH_SIZE * k);
    }
  }
  // Each level computed whole, compared with what is stored for it (proofs are served from those).
  const levels: Buffer[] = [level0];
  for (let level = 0; level < UNIT_LEVEL; level++) {
    const computed = levels[level];
    const have = stored[level];
    if (have.length < computed.length || !have.subarray(0, computed.length).equals(computed)) {
      const k = firstDifference(computed, have);
      return failed(level === 0 ? `stored hash of leaf ${from + k} differs` : `stored subtree hash ${level}/${from / 2 ** level + k} differs`);
    }
    const parents = Buffer.allocUnsafe(HASH_SIZE * Math.floor(computed.length / HASH_SIZE / 2));
    hasher.parentLevel(computed, parents);
    levels.push(parents);
  }
  // Per wanted size: the complete subtrees of its last, partial unit, largest first. The subtree of
  // level l on a tree's right edge at size i (bit l of i set) is node (i >> l) - 1 of that level.
  const partials: ChunkResult['partials'] = [];
  for (const size of [...task.sizes].sort((x, y) => x - y)) {
    const at = size - from;
    if (at <= 0 || at > count) continue;
    const parts: Buffer[] = [];
    for (let l = UNIT_LEVEL - 1; l >= 0; l--) {
      if (((at % UNIT) >> l) % 2 === 1) {
        const node = (at >> l) - 1;
        parts.push(levels[l].subarray(HASH_SIZE * node, HASH_SIZE * (node + 1)));
      }
    }
    partials.push({ size, parts: Buffer.concat(parts) });
  }
  return { ok: true, count, units: levels[UNIT_LEVEL], partials };
}

/** The index of the first 32-byte hash where `computed` and `stored` differ (or where stored ends). */
function firstDifference(computed: Buffer, stored: Buffer): number {
  for (let k = 0; HASH_SIZE * k < computed.length; k++) {
    if (HASH_SIZE * (k + 1) > stored.length || !computed.subarray(HASH_SIZE * k, HASH_SIZE * (k + 1)).equals(stored.subarray(HASH_SIZE * k, HASH_SIZE * (k + 1)))) return k;
  }
  return computed.length / HASH_SIZE;
}
