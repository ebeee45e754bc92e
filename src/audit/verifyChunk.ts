/**
 * The hashing half of `carewall audit verify`, one aligned chunk of CHUNK leaves at a time: hashes
 * every leaf, builds every subtree below UNIT_LEVEL, compares the stored levels' with their tiles, and
 * hands back the chunk's UNIT_LEVEL subtree hashes (the main thread builds the levels above). A pure
 * function of its input, so it runs in a worker thread as well as inline: verification then
 * spreads over the machine's cores while the main thread reads the next chunk from the database.
 */
import { eachCopyRow, readInt8 } from './copyRows.js';
import { batchHasher } from './batchHash.js';
import { BUNDLE_LEVEL, bundleLeafBounds, unpackBundle } from './bundles.js';
import { HASH_SIZE, isStoredLevel, TILE_WIDTH } from './tileLayout.js';

export const UNIT_LEVEL = BUNDLE_LEVEL;
export const UNIT = 2 ** UNIT_LEVEL;
export const CHUNK_LEVEL = 13;
export const CHUNK = 2 ** CHUNK_LEVEL;

/** What a row of chunkSelect is: its `kind` column. */
const BUNDLE_ROW = 0;
const TAIL_ROW = 1;
const TILES_ROW = 2;
const TILE_ROW = 3;

/**
 * The COPY select of everything chunk [from, from + CHUNK) is verified from, as rows (kind, at,
 * sub, bytes, indexes, lengths) in no particular order: its bundles (idx, codec, entries), its
 * leaves waiting in audit_tail (leaf_index, 0, leaf), and the stored tiles below UNIT_LEVEL covering
 * it (level 0's: tileLayout.ts). The tiles come either a row each (`tileRows`: idx, level, hashes)
 * or per level joined into one row (0, the level, their hashes, each tile's idx, each tile's
 * length; the three aggregates see the tiles in the same order, whatever it is). One statement
 * either way. Which is faster depends on the engine (measured, median of 5 verifications of 1M
 * records on 2 cores, when every level was stored): on the embedded database every row and every
 * statement costs well above its bytes, and joined tiles verified in 1.06-1.10 s against 1.37-1.45
 * s; a PostgreSQL server sends rows cheaply and joining them costs it more, so there a row per tile
 * verified in 1.14 s against 1.25-1.29 s. With level 0 alone the two forms measured within the
 * noise of each other on both engines.
 */
export function chunkSelect(from: number, tileRows: boolean): string {
  const tiles: string[] = [];
  for (let level = 0; level < UNIT_LEVEL; level++) {
    if (!isStoredLevel(level)) continue;
    tiles.push(`(level = ${level} and idx >= ${from / 2 ** level / TILE_WIDTH} and idx < ${(from + CHUNK) / 2 ** level / TILE_WIDTH})`);
  }
  return `select ${BUNDLE_ROW}::int2 as kind, idx as at, codec as sub, entries as bytes, null::int8[] as indexes, null::int4[] as lengths
      from audit_bundle where idx >= ${from / UNIT} and idx < ${(from + CHUNK) / UNIT}
    union all
    select ${TAIL_ROW}::int2, leaf_index, 0::int2, leaf, null, null from audit_tail where leaf_index >= ${from} and leaf_index < ${from + CHUNK}
    union all
    ${
      tileRows
        ? `select ${TILE_ROW}::int2, idx, level, hashes, null, null from audit_tile where ${tiles.join(' or ')}`
        : `select ${TILES_ROW}::int2, 0::int8, level, string_agg(hashes, ''::bytea), array_agg(idx), array_agg(length(hashes))
      from audit_tile where ${tiles.join(' or ')} group by level`
    }`;
}

export interface ChunkTask {
  /** First leaf index of the chunk, a multiple of CHUNK. */
  from: number;
  /** The COPY rows of chunkSelect(from). */
  rows: Uint8Array;
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

/** A chunk's rows, each in its place. */
interface PlacedRows {
  /** Per unit of the chunk, its bundle's codec and stored bytes. */
  bundleAt: Array<{ codec: number; bytes: Buffer } | undefined>;
  /** Per leaf of the chunk, where its bytes in audit_tail lie in the rows (-1: none there). */
  tailStart: Int32Array;
  tailEnd: Int32Array;
  /** Per level below UNIT_LEVEL, the stored hashes from the chunk's first node on (none for a level not stored). */
  stored: Buffer[];
}

/**
 * Puts each row of chunkSelect(from) in its place (they come in no particular order, which spares
 * the database a sort): bundles by unit, tail leaves by index, tiles by level and index. Returns
 * why the rows cannot be placed, when one is out of place.
 */
function placeRows(from: number, rows: Buffer): PlacedRows | string {
  const unitCount = CHUNK / UNIT;
  const bundleAt: PlacedRows['bundleAt'] = new Array(unitCount);
  const tailStart = new Int32Array(CHUNK).fill(-1);
  const tailEnd = new Int32Array(CHUNK);
  const firstTile = Array.from({ length: UNIT_LEVEL }, (_, level) => from / 2 ** level / TILE_WIDTH);
  const tileSlots = Array.from({ length: UNIT_LEVEL }, (_, level) => CHUNK / 2 ** level / TILE_WIDTH);
  const placed: Buffer[][] = tileSlots.map((n) => new Array<Buffer>(n));
  let problem: string | undefined;
  eachCopyRow(rows, (f) => {
    const kind = rows.readInt16BE(f[0]);
    const at = readInt8(rows, f[2]);
    const sub = f[4] < 0 ? -1 : rows.readInt16BE(f[4]);
    if (kind === BUNDLE_ROW) {
      const slot = at - from / UNIT;
      if (slot < 0 || slot >= unitCount || bundleAt[slot]) problem ??= `bundle ${at} is out of place`;
      else bundleAt[slot] = { codec: sub, bytes: rows.subarray(f[6], f[7]) };
    } else if (kind === TAIL_ROW) {
      const slot = at - from;
      if (slot < 0 || slot >= CHUNK || tailStart[slot] >= 0) problem ??= `record ${at} is out of place in audit_tail`;
      else {
        tailStart[slot] = f[6];
        tailEnd[slot] = f[7];
      }
    } else if (kind === TILE_ROW) {
      const slot = at - (firstTile[sub] ?? NaN);
      if (!(slot >= 0 && slot < tileSlots[sub]) || placed[sub][slot]) problem ??= `stored tiles out of place at level ${sub}`;
      else placed[sub][slot] = rows.subarray(f[6], f[7]);
    } else {
      // A level's tiles, joined, each placed by its idx.
      const indexes = intArray(rows, f[8], f[9], 8);
      const lengths = intArray(rows, f[10], f[11], 4);
      if (!(sub >= 0 && sub < UNIT_LEVEL) || !indexes || !lengths || indexes.length !== lengths.length) {
        problem ??= `stored tiles out of place at level ${sub}`;
        return;
      }
      let offset = f[6];
      for (let k = 0; k < indexes.length; k++) {
        const slot = indexes[k] - firstTile[sub];
        const end = offset + lengths[k];
        if (slot < 0 || slot >= tileSlots[sub] || placed[sub][slot] || lengths[k] < 0 || end > f[7]) {
          problem ??= `stored tiles out of place at level ${sub}`;
          return;
        }
        placed[sub][slot] = rows.subarray(offset, end);
        offset = end;
      }
      if (offset !== f[7]) problem ??= `stored tiles out of place at level ${sub}`;
    }
  });
  if (problem) return problem;
  // Each level's stored hashes as one run, cut at the first tile missing and after the first not
  // full (only the rightmost tile of a level may be partial). Tiles that arrived in order are one
  // slice already; others are copied.
  const stored = placed.map((tiles) => {
    const run: Buffer[] = [];
    for (const tile of tiles) {
      if (!tile) break;
      run.push(tile);
      if (tile.length !== TILE_WIDTH * HASH_SIZE) break;
    }
    const contiguous = run.every((tile, k) => k === 0 || (tile.buffer === run[k - 1].buffer && tile.byteOffset === run[k - 1].byteOffset + run[k - 1].length));
    return contiguous && run.length > 0
      ? Buffer.from(
          run[0].buffer,
          run[0].byteOffset,
          run.reduce((n, t) => n + t.length, 0),
        )
      : Buffer.concat(run);
  });
  return { bundleAt, tailStart, tailEnd, stored };
}

export function hashChunk(task: ChunkTask): ChunkResult {
  const { from } = task;
  const failed = (problem: string): ChunkResult => ({ ok: false, problem, count: 0, units: new Uint8Array(0), partials: [] });
  const rows = asBuffer(task.rows);
  const placed = placeRows(from, rows);
  if (typeof placed === 'string') return failed(placed);
  const { bundleAt, tailStart, tailEnd, stored } = placed;

  // Leaf i's home is its bundle when there is one, else audit_tail (leafStore.ts). Leaves are
  // taken in order from their homes until one is missing; whatever is stored past that is out of
  // place. Each bundle is hashed as it is reached (inflated into one buffer reused for every
  // bundle); the tail's leaves are noted and hashed in one call after.
  // RFC 6962: a leaf's hash is SHA-256(0x00 || leaf), a node's SHA-256(0x01 || left || right).
  const hasher = batchHasher();
  const fromBundles = Buffer.allocUnsafe(HASH_SIZE * CHUNK);
  const bundleBounds = new Int32Array(2 * UNIT);
  const tailAt: number[] = [];
  // Whether leaf i came from audit_tail; in a sound log the tail only ever follows the bundles.
  const fromTail = new Uint8Array(CHUNK);
  let inBundles = 0;
  let inTail = 0;
  let i = 0;
  while (i < CHUNK) {
    const bundle = i % UNIT === 0 ? bundleAt[i / UNIT] : undefined;
    if (bundle) {
      const bytes = unpackBundle(bundle.codec, bundle.bytes, reusedRoom);
      const bad = typeof bytes === 'string' ? bytes : bundleLeafBounds(bytes, 0, bytes.length, bundleBounds, 0);
      if (bad) return failed(`bundle ${(from + i) / UNIT}: ${bad}`);
      hasher.sha256Each(bytes as Buffer, bundleBounds, 0, fromBundles.subarray(HASH_SIZE * inBundles));
      for (let k = i; k < i + UNIT; k++) if (tailStart[k] >= 0) return failed(`record ${from + k} is stored twice`);
      inBundles += UNIT;
      i += UNIT;
    } else if (tailStart[i] >= 0) {
      tailAt.push(i);
      inTail++;
      fromTail[i++] = 1;
    } else break;
  }
  const count = i;
  if (bundleAt.some((b, u) => b && u * UNIT >= count) || tailStart.subarray(count).some((s) => s >= 0))
    return failed(`the records stored after ${from + count - 1} do not follow it`);

  let level0 = fromBundles.subarray(0, HASH_SIZE * inBundles);
  if (inTail > 0) {
    const fromTailRows = Buffer.allocUnsafe(HASH_SIZE * inTail);
    const tailBounds = new Int32Array(2 * inTail);
    tailAt.forEach((k, n) => {
      tailBounds[2 * n] = tailStart[k];
      tailBounds[2 * n + 1] = tailEnd[k];
    });
    hasher.sha256Each(rows, tailBounds, 0, fromTailRows);
    if (inBundles === 0 || fromTail.indexOf(1) >= inBundles) level0 = Buffer.concat([level0, fromTailRows]);
    else {
      level0 = Buffer.allocUnsafe(HASH_SIZE * count);
      let nb = 0;
      let nt = 0;
      for (let k = 0; k < count; k++)
        (fromTail[k] ? fromTailRows.subarray(HASH_SIZE * nt++, HASH_SIZE * nt) : fromBundles.subarray(HASH_SIZE * nb++, HASH_SIZE * nb)).copy(
          level0,
          HASH_SIZE * k,
        );
    }
  }
  // Each level computed whole; a stored one compared with what is stored for it (proofs are served
  // from those).
  const levels: Buffer[] = [level0];
  for (let level = 0; level < UNIT_LEVEL; level++) {
    const computed = levels[level];
    const have = stored[level];
    if (isStoredLevel(level) && (have.length < computed.length || !have.subarray(0, computed.length).equals(computed))) {
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

/**
 * A one-dimensional int4[] or int8[] (`width` 4 or 8) without nulls, in PostgreSQL's binary array
 * form (ndim, has-null flag, element type, per dimension its size and lower bound, then each
 * element as length and value), or undefined when the bytes are not one.
 */
function intArray(buf: Buffer, start: number, end: number, width: 4 | 8): number[] | undefined {
  if (start < 0 || end - start < 12) return undefined;
  const ndim = buf.readInt32BE(start);
  if (ndim === 0) return [];
  if (ndim !== 1 || end - start < 20) return undefined;
  const n = buf.readInt32BE(start + 12);
  if (n < 0 || end - start !== 20 + (4 + width) * n) return undefined;
  const out = new Array<number>(n);
  for (let k = 0, at = start + 20; k < n; k++, at += 4 + width) {
    if (buf.readInt32BE(at) !== width) return undefined;
    out[k] = width === 4 ? buf.readInt32BE(at + 4) : readInt8(buf, at + 4);
  }
  return out;
}

/** Where this thread inflates bundles: grown to the largest seen, reused for every one. */
let inflated = Buffer.alloc(0);
const reusedRoom = (length: number) => {
  if (inflated.length < length) inflated = Buffer.allocUnsafe(Math.max(length, 2 * inflated.length));
  return inflated;
};

/** The index of the first 32-byte hash where `computed` and `stored` differ (or where stored ends). */
function firstDifference(computed: Buffer, stored: Buffer): number {
  for (let k = 0; HASH_SIZE * k < computed.length; k++) {
    if (
      HASH_SIZE * (k + 1) > stored.length ||
      !computed.subarray(HASH_SIZE * k, HASH_SIZE * (k + 1)).equals(stored.subarray(HASH_SIZE * k, HASH_SIZE * (k + 1)))
    )
      return k;
  }
  return computed.length / HASH_SIZE;
}
