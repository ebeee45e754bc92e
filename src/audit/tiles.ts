/**
 * Reading and writing the log's tiles (table audit_tile); their addressing is in tileLayout.ts.
 */
import type { Queryable } from '../db/index.js';
import { toBuffer } from '../db/index.js';
import { bindPacked } from '../db/index.js';
import { WriteBatch } from '../db/index.js';
import { TILE_WIDTH, tileKey, uniqueKeys, type TileKey } from './tileLayout.js';

/** Fetches tiles by key in one query. */
export async function fetchTiles(q: Queryable, keys: TileKey[]): Promise<Map<string, Buffer>> {
  const list = uniqueKeys(keys);
  const found = new Map<string, Buffer>();
  if (list.length === 0) return found;
  const r = await q.query<{ level: number; idx: string | number; hashes: unknown }>(
    // Joined rather than `(level, idx) in (select * from unnest(...))`: a little faster on the embedded database (treeHead.ts).
    'select t.level, t.idx, t.hashes from unnest($1::smallint[], $2::bigint[]) as k(level, idx) join audit_tile t on t.level = k.level and t.idx = k.idx',
    [list.map((k) => k.level), list.map((k) => k.idx)],
  );
  for (const row of r.rows) found.set(tileKey(row.level, Number(row.idx)), toBuffer(row.hashes));
  return found;
}

/** Collects the hashes completed by an append, per tile, in order. */
export class TileWrites {
  private readonly tiles = new Map<string, { level: number; idx: number; parts: Buffer[] }>();

  add(level: number, index: number, hash: Buffer): void {
    const idx = Math.floor(index / TILE_WIDTH);
    const key = tileKey(level, idx);
    let t = this.tiles.get(key);
    if (!t) this.tiles.set(key, (t = { level, idx, parts: [] }));
    t.parts.push(hash);
  }

  /** Adds to `writes` the appending of the collected hashes to their tiles (a tile not yet stored is created). */
  addTo(writes: WriteBatch): void {
    const list = [...this.tiles.values()];
    if (list.length === 0) return;
    const b = writes.bind;
    const hashes = bindPacked(
      b,
      list.map((t) => Buffer.concat(t.parts)),
    );
    writes.add(
      `insert into audit_tile (level, idx, hashes)
         select level, idx, ${hashes.value} from unnest(${b(list.map((t) => t.level))}::smallint[], ${b(list.map((t) => t.idx))}::bigint[], ${hashes.unnest}) as x(level, idx, s, l)
       on conflict (level, idx) do update set hashes = audit_tile.hashes || excluded.hashes`,
    );
  }

  /** The same, as a statement of its own. */
  async write(tx: Queryable): Promise<void> {
    const writes = new WriteBatch();
    this.addTo(writes);
    await writes.run(tx);
  }
}
