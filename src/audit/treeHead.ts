/**
 * The tree's head and the tiles an append reads with it: which tiles (`tilesNeeded`), and the one
 * statement that reads both (the head as the row at level -1), for log.ts's appends.
 */
import type { Queryable, Statement } from '../db/index.js';
import { toBuffer } from '../db/index.js';
import { frontierNodes } from './frontier.js';
import { EMPTY_ROOT } from './merkle.js';
import { completeAt, HASH_SIZE, isStoredLevel, TILE_WIDTH, tileKey, tilesForNode, uniqueKeys, type TileKey } from './tileLayout.js';

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

/**
 * What one statement reads for an append: the tree head, the byte length of every tile among the
 * keys asked for, and the tiles' hashes, but only when the head is not `known`. An appender that
 * still holds the frontier of the head it left (log.ts) builds on that and needs no hashes; the
 * lengths still show the rightmost tiles hold what they must before anything is appended to them.
 */
export interface HeadAndTiles {
  head: TreeHead;
  /** The hashes of the tiles read (none when the head was the one known). */
  tiles: Map<string, Buffer>;
  /** The stored byte length of every tile read. */
  lengths: Map<string, number>;
}

/** The head no tree has: nothing is known, every tile's hashes come back. */
export const UNKNOWN_HEAD: TreeHead = { size: -1, root: Buffer.alloc(0) };

/** The tree head and the stored tiles among `keys`, in one statement (the head is the row at level -1). */
export async function readHeadWithTiles(q: Queryable, keys: TileKey[], known: TreeHead = UNKNOWN_HEAD): Promise<HeadAndTiles> {
  if (keys.length === 0) return { head: await readHead(q), tiles: new Map(), lengths: new Map() };
  const { sql, params } = headWithTilesStatement(keys, known);
  return headAndTiles((await q.query<HeadOrTileRow>(sql, params)).rows);
}

export interface HeadOrTileRow {
  level: number;
  idx: string | number;
  hashes: unknown;
  length: number | null;
}

export function headWithTilesStatement(keys: TileKey[], known: TreeHead = UNKNOWN_HEAD): Statement {
  const unique = uniqueKeys(keys);
  // The subquery names no column of audit_tile: PostgreSQL runs it once for the statement. The
  // keys are joined, not tested with `(level, idx) in (select * from unnest(...))`: on the
  // embedded database that form took 125-151 us a statement against 112-143 (a log of 30,000
  // leaves, ten keys, six of them distinct), the semi-join's de-duplication done here instead.
  return {
    sql: `select -1 as level, size as idx, root as hashes, null::int as length from audit_tree where id = 1
     union all
     select t.level, t.idx,
       case when not exists (select 1 from audit_tree where id = 1 and size = $3::bigint and root = $4::bytea) then t.hashes end,
       octet_length(t.hashes)
     from unnest($1::smallint[], $2::bigint[]) as k(level, idx) join audit_tile t on t.level = k.level and t.idx = k.idx`,
    params: [unique.map((k) => k.level), unique.map((k) => k.idx), known.size, known.root],
  };
}

export function headAndTiles(rows: HeadOrTileRow[]): HeadAndTiles {
  let head: TreeHead = { size: 0, root: EMPTY_ROOT };
  const tiles = new Map<string, Buffer>();
  const lengths = new Map<string, number>();
  for (const row of rows) {
    if (row.level === -1) {
      head = { size: Number(row.idx), root: toBuffer(row.hashes) };
      continue;
    }
    const key = tileKey(row.level, Number(row.idx));
    lengths.set(key, Number(row.length));
    if (row.hashes !== null) tiles.set(key, toBuffer(row.hashes));
  }
  return { head, tiles, lengths };
}

export async function readHead(q: Queryable): Promise<TreeHead> {
  const r = await q.query<{ size: string | number; root: unknown }>('select size, root from audit_tree where id = 1');
  return r.rows[0] ? { size: Number(r.rows[0].size), root: toBuffer(r.rows[0].root) } : { size: 0, root: EMPTY_ROOT };
}
