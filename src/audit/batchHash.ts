/**
 * SHA-256 over many inputs per call, for verifying the Merkle tree: every leaf of a chunk in one
 * call, every node of a level in another. Backed by the native addon in native/merkle.c (built by
 * `npm install` where a C compiler and Node's headers are at hand) and otherwise by node:crypto,
 * one call per hash. Both give the same bytes; the addon only saves the per-call crossing from
 * JavaScript into OpenSSL, which is most of what verification cost (docs/benchmarks.md).
 *
 * CAREWALL_NATIVE_HASH=0 turns the addon off (the tests check both give the same results).
 */
import crypto from 'node:crypto';
import { createRequire } from 'node:module';

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

let addon: BatchHasher | null | undefined;

function loadAddon(): BatchHasher | null {
  if (addon !== undefined) return addon;
  try {
    // src/audit and dist/audit are both two folders below the project root, where native/ is.
    const loaded = createRequire(import.meta.url)('../../native/build/Release/merkle.node') as Omit<BatchHasher, 'native'>;
    addon = { native: true, sha256Each: loaded.sha256Each, parentLevel: loaded.parentLevel };
  } catch {
    addon = null;
  }
  return addon;
}

/** The addon where it was built and is not turned off, else node:crypto. */
export function batchHasher(): BatchHasher {
  if (process.env.CAREWALL_NATIVE_HASH === '0') return viaNodeCrypto;
  return loadAddon() ?? viaNodeCrypto;
}

/** The node:crypto form, whatever is built (tests compare the two). */
export const nodeCryptoHasher = viaNodeCrypto;
