/**
 * Seedable random numbers: xoshiro128** (32-bit state words, seeded through splitmix32), uniform
 * doubles from 53 random bits, normals by Box-Muller. Same seed, same numbers, on every run and
 * platform (pure integer arithmetic). `manualSeed(n)` reseeds the default generator; pass your
 * own `Generator` to the random creation functions for an independent stream.
 */

export class Generator {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;
  private spare: number | null = null;

  constructor(seed = 0) {
    this.manualSeed(seed);
  }

  /** Resets the state from `seed` (any finite number; integers are typical). */
  manualSeed(seed: number): this {
    if (!Number.isFinite(seed)) throw new RangeError(`manualSeed: seed must be a finite number, got ${seed}`);
    let x = (Math.trunc(seed) >>> 0) ^ (Math.floor(Math.trunc(seed) / 2 ** 32) >>> 0);
    const next = () => {
      x = (x + 0x9e3779b9) | 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
    this.spare = null;
    return this;
  }

  /** Next 32 random bits as an unsigned integer. */
  nextUint32(): number {
    const s0 = this.s0,
      s1 = this.s1,
      s2 = this.s2,
      s3 = this.s3;
    const r = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    let n2 = s2 ^ s0;
    let n3 = s3 ^ s1;
    const n1 = s1 ^ n2;
    const n0 = s0 ^ n3;
    n2 ^= t;
    n3 = rotl(n3, 11);
    this.s0 = n0 >>> 0;
    this.s1 = n1 >>> 0;
    this.s2 = n2 >>> 0;
    this.s3 = n3 >>> 0;
    return r;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  random(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Standard normal (Box-Muller; the second value of each pair is kept for the next call). */
  normal(): number {
    if (this.spare !== null) {
      const v = this.spare;
      this.spare = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.random();
    const v = this.random();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /**
   * Uniform integer in [low, high) (safe integers). Ranges up to 2^32 keep the historical
   * `floor(random() * range)` stream; larger ones (up to 2^53) draw a 53-bit integer and reject
   * the top remainder, so every value is exact and in range.
   */
  int(low: number, high: number): number {
    const range = high - low;
    if (range <= 4294967296) return low + Math.floor(this.random() * range);
    if (!Number.isSafeInteger(low) || !Number.isSafeInteger(high) || range > 9007199254740992)
      throw new RangeError(
        `Generator.int: [${low}, ${high}) is not a range of safe integers up to 2^53 wide`,
      );
    const limit = 9007199254740992 - (9007199254740992 % range);
    for (;;) {
      const x = (this.nextUint32() >>> 11) * 4294967296 + this.nextUint32(); // 53 bits
      if (x < limit) return low + (x % range);
    }
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** The generator used when none is passed. Seeded with 0 at load. */
export const defaultGenerator = new Generator(0);

/** Reseeds the default generator: the same seed gives the same numbers on every run. */
export function manualSeed(seed: number): void {
  defaultGenerator.manualSeed(seed);
}
