/**
 * How the log's complete-subtree hashes are stored: tiles of TILE_WIDTH consecutive hashes of one
 * tree level per row (table audit_tile). Node (level, index) lives in tile (level, floor(index /
 * TILE_WIDTH)) at byte offset (index mod TILE_WIDTH) * 32. The rightmost tile of a level is partial:
 * it holds exactly the complete subtrees of that level so far, and grows as more complete.
 *
 * Only every TILE_HEIGHT-th level is stored (0, 8, 16, ...), as in C2SP tlog-tiles: a node of a
 * level in between is hashed, when a proof or an append needs it, from the at most 2^7 stored
 * hashes below it (at most four tiles, under 130 SHA-256 computations). Why: the levels in between held
 * half of all the stored hash bytes (levels 1-7: 32 MB per million records), which every append
 * wrote and every verification read, for proofs that need seven of them at a time.
 *
 * Pure addressing, apart from the database code in tiles.ts, so that the verifier's worker threads
 * load this and not the database drivers.
 *
 * Sizes here can exceed 2^31, so positions are computed with Math.floor, never with bit shifts.
 */

import { batchHasher } from './batchHash.js';

export const TILE_WIDTH = 32;
export const HASH_SIZE = 32;
export const TILE_HEIGHT = 8;

/** Whether the hashes of this tree level are stored (levels 0, 8, 16, ...). */
export const isStoredLevel = (level: number) => level % TILE_HEIGHT === 0;

/** The stored level below `level` whose hashes node (level, index) is made of (itself when stored). */
const baseLevel = (level: number) => level - (level % TILE_HEIGHT);

export interface TileKey {
  level: number;
  idx: number;
}

export const tileKey = (level: number, idx: number) => `${level}/${idx}`;

/** Each tile once, in the order first named. */
export function uniqueKeys(keys: TileKey[]): TileKey[] {
  const unique = new Map<string, TileKey>();
  for (const k of keys) if (!unique.has(tileKey(k.level, k.idx))) unique.set(tileKey(k.level, k.idx), k);
  return [...unique.values()];
}

export function tileOf(level: number, index: number): TileKey {
  return { level, idx: Math.floor(index / TILE_WIDTH) };
}

/** Complete subtrees at `level` in a tree of `size` leaves. */
export function completeAt(size: number, level: number): number {
  return Math.floor(size / 2 ** level);
}

/** The stored hash of node (level, index) from fetched tiles, or undefined when it is not there. */
export function nodeIn(tiles: Map<string, Buffer>, level: number, index: number): Buffer | undefined {
  const tile = tiles.get(tileKey(level, Math.floor(index / TILE_WIDTH)));
  if (!tile) return undefined;
  const at = (index % TILE_WIDTH) * HASH_SIZE;
  return tile.length >= at + HASH_SIZE ? tile.subarray(at, at + HASH_SIZE) : undefined;
}

/** The stored tiles node (level, index) is read or hashed from. */
export function tilesForNode(level: number, index: number): TileKey[] {
  const base = baseLevel(level);
  const span = 2 ** (level - base);
  const first = Math.floor((index * span) / TILE_WIDTH);
  const last = Math.floor(((index + 1) * span - 1) / TILE_WIDTH);
  const keys: TileKey[] = [];
  for (let idx = first; idx <= last; idx++) keys.push({ level: base, idx });
  return keys;
}

/**
 * The hash of complete subtree (level, index) from fetched tiles (tilesForNode): read where its
 * level is stored, else hashed from the stored level below it. Undefined when a hash it needs is
 * not there.
 */
export function nodeFromTiles(tiles: Map<string, Buffer>, level: number, index: number): Buffer | undefined {
  const base = baseLevel(level);
  if (base === level) return nodeIn(tiles, level, index);
  // The stored hashes below it copied side by side a tile at a time, then one call per level up
  // through the batched hasher: a proof at a million records hashes some 500 nodes this way, and
  // a lookup and a node:crypto call per hash put 1.5 ms on each proof (measured, 2 cores).
  const span = 2 ** (level - base);
  let row = Buffer.allocUnsafe(span * HASH_SIZE);
  for (let filled = 0; filled < span;) {
    const k = index * span + filled;
    const tile = tiles.get(tileKey(base, Math.floor(k / TILE_WIDTH)));
    const take = Math.min(span - filled, TILE_WIDTH - (k % TILE_WIDTH));
    const at = (k % TILE_WIDTH) * HASH_SIZE;
    if (!tile || tile.length < at + take * HASH_SIZE) return undefined;
    tile.copy(row, filled * HASH_SIZE, at, at + take * HASH_SIZE);
    filled += take;
  }
  const hasher = batchHasher();
  for (let n = span; n > 1; n /= 2) {
    const up = Buffer.allocUnsafe((n / 2) * HASH_SIZE);
    hasher.parentLevel(row, up);
    row = up;
  }
  return row;
}
