/**
 * The log served as C2SP tlog-tiles (https://c2sp.org/tlog-tiles), so that an outside verifier or
 * witness fetches a few hundred hashes or records per request instead of one request per record:
 *
 * - hash tiles `tile/<L>/<N>[.p/<W>]`: the RFC 6962 hashes of tree level 8·L, nodes 256·N to
 *   256·N + W − 1 (W = 256 for a full tile), 32 bytes each, concatenated;
 * - entry bundles `tile/entries/<N>[.p/<W>]`: records 256·N to 256·N + W − 1, each as its exact leaf
 *   bytes (those whose SHA-256 with the 0x00 prefix is the level-0 hash) behind a big-endian
 *   two-byte length.
 *
 * <N> is written in groups of three digits, every group but the last prefixed with "x" (1234067 →
 * x001/x234/067). The store keeps levels 0, 8, 16... in tiles of 32 hashes (tileLayout.ts), so a
 * C2SP tile is eight stored ones, read in one query. Tiles never change once they exist (a partial
 * tile of width W holds the first W hashes of the full one), so they can be cached forever.
 */
import type { Queryable } from '../db/index.js';
import { fetchTiles } from './tiles.js';
import { HASH_SIZE, TILE_HEIGHT, TILE_WIDTH, tileKey } from './tileLayout.js';

export const C2SP_TILE_WIDTH = 256;
const STORED_PER_C2SP = C2SP_TILE_WIDTH / TILE_WIDTH;

export type TilePath = { kind: 'hash'; level: number; index: number; width: number } | { kind: 'entries'; index: number; width: number };

/** The tile a path under `tile/` names, or undefined when it names none (malformed, or zero-padded otherwise than C2SP writes). */
export function parseTilePath(path: string): TilePath | undefined {
  const m = /^(entries|\d{1,2})\/((?:x\d{3}\/)*\d{3})(?:\.p\/([1-9]\d{0,2}))?$/.exec(path);
  if (!m) return undefined;
  const index = Number(m[2].replace(/x/g, '').replace(/\//g, ''));
  const width = m[3] === undefined ? C2SP_TILE_WIDTH : Number(m[3]);
  if (!Number.isSafeInteger(index) || (m[3] !== undefined && width >= C2SP_TILE_WIDTH)) return undefined;
  if (m[1] === 'entries') return { kind: 'entries', index, width };
  const level = Number(m[1]);
  if (level > 63 || String(level) !== m[1]) return undefined;
  return { kind: 'hash', level, index, width };
}

/** The path of a tile, as C2SP writes it (for links and tests). */
export function tilePath(tile: TilePath): string {
  const digits = String(tile.index).padStart(3 * Math.max(1, Math.ceil(String(tile.index).length / 3)), '0');
  const groups = digits.match(/\d{3}/g)!;
  const n = groups.map((g, i) => (i < groups.length - 1 ? `x${g}` : g)).join('/');
  return `${tile.kind === 'entries' ? 'entries' : tile.level}/${n}${tile.width < C2SP_TILE_WIDTH ? `.p/${tile.width}` : ''}`;
}

/** How many nodes of tree level 8·L are complete in a tree of `size` leaves. */
function completeNodes(size: number, tileLevel: number): number {
  return Math.floor(size / 2 ** (TILE_HEIGHT * tileLevel));
}

/** Whether the tile exists in a tree of `size` leaves (every hash or record it holds is final). */
export function tileExists(tile: TilePath, size: number): boolean {
  const available = tile.kind === 'entries' ? size : completeNodes(size, tile.level);
  return tile.index * C2SP_TILE_WIDTH + tile.width <= available;
}

/** The bytes of a hash tile, from the stored tiles of its level. */
export async function readHashTile(q: Queryable, level: number, index: number, width: number): Promise<Buffer> {
  const treeLevel = TILE_HEIGHT * level;
  const first = index * STORED_PER_C2SP;
  const keys = Array.from({ length: Math.ceil(width / TILE_WIDTH) }, (_, i) => ({ level: treeLevel, idx: first + i }));
  const stored = await fetchTiles(q, keys);
  const parts = keys.map((k) => stored.get(tileKey(k.level, k.idx)) ?? Buffer.alloc(0));
  const bytes = Buffer.concat(parts).subarray(0, width * HASH_SIZE);
  if (bytes.length !== width * HASH_SIZE) throw new Error(`audit log: tile ${level}/${index} is not stored in full`);
  return bytes;
}

/** An entry bundle: each leaf behind its big-endian 16-bit length. */
export function encodeEntryBundle(leaves: Buffer[]): Buffer {
  const parts: Buffer[] = [];
  for (const leaf of leaves) {
    if (leaf.length > 0xffff) throw new Error('audit log: a record longer than an entry bundle can hold');
    const len = Buffer.alloc(2);
    len.writeUInt16BE(leaf.length);
    parts.push(len, leaf);
  }
  return Buffer.concat(parts);
}
