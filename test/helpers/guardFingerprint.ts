/** A whole file's fingerprint as the guard takes it from disk: its sampled ranges, its size, no modification time. */
import { fingerprintOf, sampleOffsets, type Fingerprint } from '../../src/guard/fingerprint.js';

export async function fingerprintOfBytes(data: Buffer): Promise<Fingerprint> {
  const offsets = sampleOffsets(data.length);
  return fingerprintOf(
    offsets.map((o) => data.subarray(o, o + 4096)),
    offsets,
    data.length,
    0,
  );
}
