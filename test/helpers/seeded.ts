/**
 * Seeded randomness for tests that compare two implementations on random inputs: the same seed
 * gives the same inputs, so a failure names the seed and round that reproduce it. mulberry32, as
 * in src/monitor/simulate/random.ts: not for secrets, only for repeatable variety.
 */
export class Seeded {
  private a: number;

  constructor(readonly seed: number) {
    this.a = seed >>> 0;
  }

  /** In [0, 1). */
  next(): number {
    this.a = (this.a + 0x6d2b79f5) >>> 0;
    let t = this.a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
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
