/**
 * Content-defined chunking (FastCDC: Xia et al., USENIX ATC 2016, with normalised chunking) over a
 * gear table derived from a repository key. Boundaries depend on the content *and* the key, so the
 * sizes of stored chunks say nothing about the content to someone without the key (with a public
 * table, chunk sizes fingerprint known files).
 *
 * Written here rather than taken from npm: the CDC packages there (fastcdc ports, @dstanesc's
 * wasm chunkers) fix their gear table in the code, and a keyed table is the point; FastCDC is about
 * 60 lines.
 */
import { hkdf } from './crypto.js';

export interface ChunkerParams {
  min: number;
  avg: number;
  max: number;
}

/** restic's sizes: a 1 MiB average keeps the index small and still deduplicates changed files. */
export const DEFAULT_CHUNKER: ChunkerParams = { min: 512 * 1024, avg: 1024 * 1024, max: 8 * 1024 * 1024 };

export function checkChunkerParams(p: ChunkerParams): ChunkerParams {
  const pow2 = (n: number) => Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
  if (!pow2(p.avg) || p.avg < 256 || !(p.min > 0 && p.min < p.avg && p.avg < p.max) || p.max > 64 * 1024 * 1024) {
    throw new Error('chunker: min < avg < max, avg a power of two of at least 256, max at most 64 MiB');
  }
  return p;
}

/** A mask of the top `bits` bits: with the gear hash shifted left, the top bits mix the last 32 bytes. */
const topMask = (bits: number) => (bits <= 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0);

export class Chunker {
  private readonly gear: Uint32Array;
  private readonly maskS: number;
  private readonly maskL: number;

  constructor(
    key: Buffer,
    readonly params: ChunkerParams = DEFAULT_CHUNKER,
  ) {
    checkChunkerParams(params);
    const bytes = hkdf(key, 'carewall-backup gear table', 1024);
    this.gear = new Uint32Array(256);
    for (let i = 0; i < 256; i++) this.gear[i] = bytes.readUInt32LE(i * 4);
    const bits = Math.log2(params.avg);
    // Normalised chunking (level 2): harder to cut before the average, easier after it.
    this.maskS = topMask(bits + 2);
    this.maskL = topMask(bits - 2);
  }

  /** Length of the first chunk of `buf` (all of it when `final` and no cut point is found). -1: need more data. */
  cut(buf: Uint8Array, final: boolean): number {
    const { min, avg, max } = this.params;
    const n = buf.length;
    if (n <= min) return final ? n : -1;
    const gear = this.gear;
    const end = Math.min(n, max);
    const normal = Math.min(end, avg);
    let h = 0;
    let i = min;
    for (; i < normal; i++) {
      h = ((h << 1) + gear[buf[i]]) | 0;
      if ((h & this.maskS) === 0) return i + 1;
    }
    for (; i < end; i++) {
      h = ((h << 1) + gear[buf[i]]) | 0;
      if ((h & this.maskL) === 0) return i + 1;
    }
    if (end === max) return max;
    return final ? n : -1;
  }

  /** Cuts a stream into chunks; each yielded buffer is a whole chunk. */
  async *chunks(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): AsyncGenerator<Buffer> {
    const { max } = this.params;
    let parts: Buffer[] = [];
    let size = 0;
    for await (const part of source) {
      parts.push(Buffer.from(part.buffer, part.byteOffset, part.byteLength));
      size += part.byteLength;
      // Cut only once a whole maximal chunk is in view, so cut points never depend on read sizes;
      // parts are joined only then (joining on every read would copy the pending bytes each time).
      if (size < 2 * max) continue;
      let pending = Buffer.concat(parts, size);
      while (pending.length >= max) {
        const len = this.cut(pending, false);
        yield pending.subarray(0, len);
        pending = pending.subarray(len);
      }
      parts = [pending];
      size = pending.length;
    }
    let pending = Buffer.concat(parts, size);
    while (pending.length > 0) {
      const len = this.cut(pending, true);
      yield pending.subarray(0, len);
      pending = pending.subarray(len);
    }
  }
}
