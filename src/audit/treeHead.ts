/**
 * The tree's head and the tiles an append reads with it: which tiles (`tilesNeeded`), and the one
 * statement that reads both (the head as the row at level -1), for log.ts's appends.
 */
import type { Queryable, Statement } from '../db/index.js';
import { toBuffer } from '../db/index.js';
import { frontierNodes } from './frontier.js';
import { EMPTY_ROOT } from './merkle.js';
import { completeAt, HASH_SIZE, isStoredLevel, TILE_WIDTH, tileKey, tilesForNode, type TileKey } from './tileLayout.js';

export interface TreeHead {
  size: number;
  root: Buffer;
}

/**
 * The tiles an append of `count` leaves to a tree of `size` reads: the rightmost tile of every
 * stored level the new hashes can reach (`growing`, with the bytes each must hold now), and the
 * tiles the tree's right frontier is read or hashed from (the left siblings the new leaves may
 * complete).
 */
export function tilesNeeded(size: number, count: number): { growing: Array<TileKey & { length: number }>; keys: TileKey[] } {
  const growing: Array<TileKey & { length: number }> = [];
  for (let level = 0; 2 ** level <= size + count; level++) {
    if (!isStoredLevel(level)) continue;
    const complete = completeAt(size, level);
    growing.push({ level, idx: Math.floor(complete / TILE_WIDTH), length: (complete % TILE_WIDTH) * HASH_SIZE });
  }
  const frontierKeys = frontierNodes(size).flatMap((f) => tilesForNode(f.level, f.index));
  return { growing, keys: [...growing, ...frontierKeys] };
}

/** The tree head and the stored tiles among `keys`, in one statement (the head is the row at level -1). */
export async function readHeadWithTiles(q: Queryable, keys: TileKey[]): Promise<{ head: TreeHead; tiles: Map<string, Buffer> }> {
  if (keys.length === 0) return { head: await readHead(q), tiles: new Map() };
  const { sql, params } = headWithTilesStatement(keys);
  return headAndTiles((await q.query<HeadOrTileRow>(sql, params)).rows);
}

export interface HeadOrTileRow {
  level: number;
  idx: string | number;
  hashes: unknown;
}

export function headWithTilesStatement(keys: TileKey[]): Statement {
  return {
    sql: `select -1 as level, size as idx, root as hashes from audit_tree where id = 1
     union all
     select level, idx, hashes from audit_tile where (level, idx) in (select * from unnest($1::smallint[], $2::bigint[]))`,
    params: [keys.map((k) => k.level), keys.map((k) => k.idx)],
  };
}

export function headAndTiles(rows: HeadOrTileRow[]): { head: TreeHead; tiles: Map<string, Buffer> } {
  let head: TreeHead = { size: 0, root: EMPTY_ROOT };
  const tiles = new Map<string, Buffer>();
  for (const row of rows) {
    if (row.level === -1) head = { size: Number(row.idx), root: toBuffer(row.hashes) };
    else tiles.set(tileKey(row.level, Number(row.idx)), toBuffer(row.hashes));
  }
  return { head, tiles };
}

export async function readHead(q: Queryable): Promise<TreeHead> {
  const r = await q.query<{ size: string | number; root: unknown }>('select size, root from audit_tree where id = 1');
  return r.rows[0] ? { size: Number(r.rows[0].size), root: toBuffer(r.rows[0].root) } : { size: 0, root: EMPTY_ROOT };
}
