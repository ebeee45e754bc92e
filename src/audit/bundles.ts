/**
 * The bytes of the log's entry bundles (leafStore.ts keeps them in audit_bundle): pure functions
 * of their input, kept apart from the database code so that the verifier's worker threads load
 * these and not the database drivers (loading those cost each worker some 80 ms of CPU, measured).
 *
 * Bundle bytes (docs/audit.md): BUNDLE_SIZE big-endian uint32, the end of each leaf counted from
 * the start of the data, then the leaves concatenated. Leaf k of the bundle is data[end(k-1),
 * end(k)), with end(-1) = 0. The ends never decrease and the last one is the data's length.
 *
 * How they are stored (audit_bundle.codec): DEFLATED, their length (uint32, big-endian) then their
 * raw DEFLATE (RFC 1951), for every bundle written since audit migration 5; PLAIN, the bytes as
 * they are, for bundles written before it. Why compress: the records repeat their keys and most of
 * their values, so a bundle shrinks some fourteenfold (160 KB to 11 KB), and PostgreSQL sends a
 * large value to its client at some 600 MB/s, slower than SHA-256 hashes it; inflating in the
 * verifier's worker threads costs less than the sending saved (docs/audit.md). The price is on
 * reading single leaves: the whole bundle is fetched and inflated for any of its leaves.
 */
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { rawInflater } from './batchHash.js';

export const BUNDLE_LEVEL = 8;
export const BUNDLE_SIZE = 2 ** BUNDLE_LEVEL;
export const BUNDLE_HEADER = 4 * BUNDLE_SIZE;

/** audit_bundle.codec: how a bundle's bytes are stored. */
export const PLAIN = 0;
export const DEFLATED = 1;
/**
 * No bundle inflates past this: a bundle of 256 records of 1 MiB each. Only a damaged or planted
 * value could; it is then reported as damaged instead of exhausting the verifier's memory.
 */
export const MAX_BUNDLE_BYTES = BUNDLE_HEADER + BUNDLE_SIZE * 2 ** 20;
/**
 * zlib's own default. Measured on bundles of the benchmark's records: level 1 compresses 2.7 times
 * as fast (on the thread pool, once per 256 appends) but 15% larger, and inflates 20% slower
 * (verification inflates every bundle).
 */
const DEFLATE_LEVEL = 6;
const deflateRaw = promisify(zlib.deflateRaw);

/**
 * A bundle's bytes as stored (DEFLATED): the length of its bytes (uint32, big-endian), then their
 * raw DEFLATE. Compressed on libuv's thread pool, off the event loop.
 */
export async function packBundle(leaves: Buffer[]): Promise<Buffer> {
  const bytes = encodeBundle(leaves);
  const length = Buffer.allocUnsafe(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, await deflateRaw(bytes, { level: DEFLATE_LEVEL })]);
}

/**
 * A stored bundle's bytes (encodeBundle's form) from its codec and stored bytes, or why they cannot
 * be. A DEFLATED one is inflated into `room(length)` (a buffer at least that long; by default a
 * new one), of which the bytes returned are the start.
 */
export function unpackBundle(codec: number, stored: Buffer, room: (length: number) => Buffer = Buffer.allocUnsafe): Buffer | string {
  if (codec === PLAIN) return stored;
  if (codec !== DEFLATED) return `the bundle's codec ${codec} is unknown`;
  if (stored.length < 4) return 'the bundle is shorter than its length';
  const length = stored.readUInt32BE(0);
  if (length > MAX_BUNDLE_BYTES) return 'the bundle states a length no bundle has';
  const bytes = room(length).subarray(0, length);
  return rawInflater()(stored.subarray(4), bytes) === length ? bytes : 'the bundle does not inflate to its stated length';
}

/** The bytes of a bundle holding exactly BUNDLE_SIZE leaves, in order. */
export function encodeBundle(leaves: Buffer[]): Buffer {
  if (leaves.length !== BUNDLE_SIZE) throw new Error(`a bundle holds ${BUNDLE_SIZE} leaves, not ${leaves.length}`);
  const header = Buffer.allocUnsafe(BUNDLE_HEADER);
  let end = 0;
  leaves.forEach((leaf, k) => {
    end += leaf.length;
    header.writeUInt32BE(end, 4 * k);
  });
  return Buffer.concat([header, ...leaves], BUNDLE_HEADER + end);
}

/**
 * The leaves of a bundle's bytes, as views into them, or why the bytes are not a bundle. Anything
 * that serves or verifies a leaf reads it through this layout, so what is verified is what is served.
 */
export function decodeBundle(bytes: Buffer): Buffer[] | string {
  const bounds = new Int32Array(2 * BUNDLE_SIZE);
  const bad = bundleLeafBounds(bytes, 0, bytes.length, bounds, 0);
  if (bad) return bad;
  const leaves: Buffer[] = new Array(BUNDLE_SIZE);
  for (let k = 0; k < BUNDLE_SIZE; k++) leaves[k] = bytes.subarray(bounds[2 * k], bounds[2 * k + 1]);
  return leaves;
}

/**
 * The same layout read without a view per leaf (verification): writes the [start, end) of each of
 * the bundle's leaves, as offsets into `buf`, where the bundle is buf[start, end), into
 * bounds[at..at + 2 * BUNDLE_SIZE). Returns why the bytes are not a bundle, or undefined.
 */
export function bundleLeafBounds(buf: Buffer, start: number, end: number, bounds: Int32Array, at: number): string | undefined {
  if (end - start < BUNDLE_HEADER) return 'the bundle is shorter than its index';
  const data = end - start - BUNDLE_HEADER;
  const base = start + BUNDLE_HEADER;
  let previous = 0;
  for (let k = 0; k < BUNDLE_SIZE; k++) {
    const leafEnd = buf.readUInt32BE(start + 4 * k);
    if (leafEnd < previous || leafEnd > data) return `the bundle's index is inconsistent at entry ${k}`;
    bounds[at + 2 * k] = base + previous;
    bounds[at + 2 * k + 1] = base + leafEnd;
    previous = leafEnd;
  }
  if (previous !== data) return 'the bundle holds bytes past its last entry';
  return undefined;
}
