/**
 * SHA-256 over many inputs per call, for verifying the Merkle tree: every leaf of a chunk in one
 * call, every node of a level in another. Backed by the native addon in native/merkle.c (built by
 * `npm install` where a C compiler and Node's headers are at hand) and otherwise by node:crypto,
 * one call per hash. Both give the same bytes; the addon only saves the per-call crossing from
 * JavaScript into OpenSSL, which is most of what verification cost (docs/benchmarks.md).
 *
 * The addon also inflates raw DEFLATE into a buffer the caller keeps (inflateRawInto, for the
 * compressed bundles verification reads), where node:zlib allocates per call.
 *
 * CAREWALL_NATIVE_HASH=0 turns the addon off (the tests check both give the same results).
 */
import crypto from 'node:crypto';
import { createRequire } from 'node:module';
import zlib from 'node:zlib';

export interface BatchHasher {
  readonly native: boolean;
  /** out[32i..) = SHA-256(prefix || data[bounds[2i], bounds[2i+1])) for each i; prefix -1 for none. */
  sha256Each(data: Uint8Array, bounds: Int32Array, prefix: number, out: Uint8Array): void;
  /** RFC 6962 interior nodes: out[32i..) = SHA-256(0x01 || children[64i..64i+64)) per complete pair; returns how many. */
  parentLevel(children: Uint8Array, out: Uint8Array): number;
}

const viaNodeCrypto: BatchHasher = {
  native: false,
  sha256Each(data, bounds, prefix, out) {
    const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const into = Buffer.from(out.buffer, out.byteOffset, out.byteLength);
    const n = bounds.length / 2;
    if (into.length < 32 * n) throw new RangeError('sha256Each: out too small');
    for (let i = 0; i < n; i++) {
      const body = buf.subarray(bounds[2 * i], bounds[2 * i + 1]);
      const digest = prefix < 0 ? crypto.hash('sha256', body, 'binary') : crypto.createHash('sha256').update(Buffer.of(prefix)).update(body).digest('binary');
      into.write(digest, 32 * i, 'latin1');
    }
  },
  parentLevel(children, out) {
    const kids = Buffer.from(children.buffer, children.byteOffset, children.byteLength);
    const into = Buffer.from(out.buffer, out.byteOffset, out.byteLength);
    const pairs = Math.floor(kids.length / 64);
    if (into.length < 32 * pairs) throw new RangeError('parentLevel: out too small');
    const scratch = Buffer.allocUnsafe(65);
    scratch[0] = 1;
    for (let i = 0; i < pairs; i++) {
      kids.copy(scratch, 1, 64 * i, 64 * i + 64);
      into.write(crypto.hash('sha256', scratch, 'binary'), 32 * i, 'latin1');
    }
    return pairs;
  },
};

/**
 * Inflates the raw DEFLATE stream at the start of `src` into `dst`: the bytes written, or -1 when
 * `src` holds no complete stream whose output fits in `dst` (bytes after the stream are ignored).
 * What `dst` holds past the bytes written is unspecified.
 */
export type InflateRawInto = (src: Uint8Array, dst: Uint8Array) => number;

const inflateViaNodeZlib: InflateRawInto = (src, dst) => {
  try {
    // One output buffer of the room given, and an error past it: the addon's limits exactly.
    const out = zlib.inflateRawSync(src, { chunkSize: Math.max(64, dst.length + 64), maxOutputLength: Math.max(1, dst.length) });
    if (out.length > dst.length) return -1;
    dst.set(out);
    return out.length;
  } catch {
    return -1;
  }
};

interface Addon {
  hasher: BatchHasher;
  inflateRawInto: InflateRawInto;
}

let addon: Addon | null | undefined;

function loadAddon(): Addon | null {
  if (addon !== undefined) return addon;
  try {
    // src/audit and dist/audit are both two folders below the project root, where native/ is.
    const loaded = createRequire(import.meta.url)('../../native/build/Release/merkle.node') as Omit<BatchHasher, 'native'> & {
      inflateRawInto?: InflateRawInto;
    };
    // An addon built before inflateRawInto was added still hashes; inflation then goes through node:zlib.
    addon = {
      hasher: { native: true, sha256Each: loaded.sha256Each, parentLevel: loaded.parentLevel },
      inflateRawInto: loaded.inflateRawInto ?? inflateViaNodeZlib,
    };
  } catch {
    addon = null;
  }
  return addon;
}

const addonOn = () => (process.env.CAREWALL_NATIVE_HASH === '0' ? null : loadAddon());

/** The addon where it was built and is not turned off, else node:crypto. */
export function batchHasher(): BatchHasher {
  return addonOn()?.hasher ?? viaNodeCrypto;
}

/** The addon's inflation where it was built and is not turned off, else node:zlib's. */
export function rawInflater(): InflateRawInto {
  return addonOn()?.inflateRawInto ?? inflateViaNodeZlib;
}

/** The node:crypto form, whatever is built (tests compare the two). */
export const nodeCryptoHasher = viaNodeCrypto;
/** The node:zlib form, whatever is built (tests compare the two). */
export const nodeZlibInflater = inflateViaNodeZlib;
