/**
 * A small seedable pseudo-random generator for the data pipeline: xoshiro128** (Blackman &
 * Vigna, 2018) seeded through splitmix32, so every seed — 0 included — gives a well-mixed state.
 * Pure 32-bit integer arithmetic (`Math.imul`, `>>> 0`), so the stream is identical on every
 * platform and Node version. The state is four uint32 words and round-trips through
 * `state()` / `Rng.fromState()`, which is what checkpoints save to make resumed runs exact.
 */

/** Serializable generator state: four unsigned 32-bit words (not all zero). */
export type RngState = [number, number, number, number];

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** splitmix32 step: returns [next seed, output]; used only to expand a seed into a state. */
function splitmix32(seed: number): [number, number] {
  const s = (seed + 0x9e3779b9) >>> 0;
  let z = s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return [s, (z ^ (z >>> 16)) >>> 0];
}

/** xoshiro128** generator with an explicit, serializable state. */
export class Rng {
  private s: Uint32Array;

  private constructor(state: RngState) {
    // `private` binds TypeScript callers only: from JavaScript, `new Rng(42)` would build an empty
    // state and `int()` would then loop forever, so the words are checked here too.
    if (!Array.isArray(state) || state.length !== 4)
      throw new TypeError('Rng: create a generator with Rng.fromSeed(seed) or Rng.fromState(state)');
    this.s = Uint32Array.from(state);
  }

  /**
   * A generator from an integer seed.
   * @param seed - any safe integer; only its low 32 bits and sign-free value are used
   */
  static fromSeed(seed: number): Rng {
    if (!Number.isSafeInteger(seed)) throw new RangeError(`Rng seed must be a safe integer, got ${seed}`);
    let x = seed >>> 0;
    const out: number[] = [];
    for (let i = 0; i < 4; i++) {
      const [next, v] = splitmix32(x);
      x = next;
      out.push(v);
    }
    return new Rng(out as RngState);
  }

  /** A generator that continues exactly where `state` (from {@link Rng.state}) left off. */
  static fromState(state: unknown): Rng {
    if (
      !Array.isArray(state) ||
      state.length !== 4 ||
      !state.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffffffff) ||
      state.every((w) => w === 0)
    ) {
      throw new TypeError(
        `invalid Rng state: expected 4 uint32 words, not all zero; got ${JSON.stringify(state)}`,
      );
    }
    return new Rng(state as RngState);
  }

  /** The current state, a copy safe to JSON-serialize. */
  state(): RngState {
    return [this.s[0], this.s[1], this.s[2], this.s[3]];
  }

  /** Next uniform uint32 in [0, 2^32). */
  nextU32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Next uniform float in [0, 1) with 32 bits of randomness. */
  next(): number {
    return this.nextU32() / 4294967296;
  }

  /**
   * Uniform integer in [0, n) without modulo bias (rejection sampling).
   * @param n - exclusive upper bound, 1 <= n <= 2^32
   */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > 4294967296)
      throw new RangeError(`Rng.int bound must be an integer in [1, 2^32], got ${n}`);
    const limit = 4294967296 - (4294967296 % n);
    for (;;) {
      const x = this.nextU32();
      if (x < limit) return x % n;
    }
  }
}
