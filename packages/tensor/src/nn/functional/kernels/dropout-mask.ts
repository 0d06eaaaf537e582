/**
 * Dropout keep-masks from a small counter-based generator, so a given seed always gives the
 * same mask on every machine and run (independent of the global RNG's state).
 *
 * Generator: murmur3-finalised hash of (mixed seed + golden-ratio step * index) -> uniform u in [0, 1); element i is kept
 * when u >= p. The mask holds 0 or 1/(1-p) (inverted dropout), so y = x * mask.
 */

/** murmur3's 32-bit finaliser: a bijective avalanche mix. */
function fmix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * Fills `mask` with 0 (dropped) or 1/(1-p) (kept).
 * @param seed - any 32-bit integer; the same seed gives the same mask
 * @param p - drop probability in [0, 1)
 * @param mask - out, one entry per element
 */
export function dropoutMask(seed: number, p: number, mask: Float32Array | Float64Array): void {
  const scale = 1 / (1 - p);
  const s = fmix32(seed >>> 0);
  for (let i = 0; i < mask.length; i++) {
    const u = fmix32((s + Math.imul(i + 1, 0x9e3779b9)) >>> 0) / 4294967296;
    mask[i] = u >= p ? scale : 0;
  }
}
