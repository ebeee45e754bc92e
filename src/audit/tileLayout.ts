/**
 * How the log's complete-subtree hashes are stored: tiles of TILE_WIDTH consecutive hashes of one
 * tree level per row (table audit_tile). Node (level, index) lives in tile (level, floor(index /
 * TILE_WIDTH)) at byte offset (index mod TILE_WIDTH) * 32. The rightmost tile of a level is partial:
 * it holds exactly the complete subtrees of that level so far, and grows as more complete.
 *
 * Pure addressing, apart from the database code in tiles.ts, so that the verifier's worker threads
 * load this and not the database drivers.
 *
 * Sizes here can exceed 2^31, so positions are computed with Math.floor, never with bit shifts.
 */

export const TILE_WIDTH = 32;
export const HASH_SIZE = 32;

export interface TileKey {
  level: number;
  idx: number;
}

export const tileKey = (level: number, idx: number) => `${level}/${idx}`;

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
