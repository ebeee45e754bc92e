/**
 * Seeded randomness for tests that compare two implementations on random inputs: the same seed
 * gives the same inputs, so a failure names the seed and round that reproduce it. The guard's
 * mulberry32 draws the numbers: not for secrets, only for repeatable variety.
 */
import { Rng } from '../../src/util/index.js';

export class Seeded {
  private readonly rng: Rng;

  constructor(readonly seed: number) {
    this.rng = new Rng(seed);
  }

  /** In [0, 1). */
  next(): number {
    return this.rng.next();
  }

  /** An integer in [min, max), as crypto.randomInt(min, max). */
  int(min: number, max: number): number {
    if (!(max > min)) throw new RangeError(`empty range [${min}, ${max})`);
    return min + Math.floor(this.next() * (max - min));
  }

  bytes(n: number): Buffer {
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i++) out[i] = Math.floor(this.next() * 256);
    return out;
  }
}

/** The seed for a test: CAREWALL_TEST_SEED when set (to replay a failure), else the test's own. */
export function testSeed(own: number): number {
  const given = process.env.CAREWALL_TEST_SEED;
  return given ? Number(given) : own;
}
