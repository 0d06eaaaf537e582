/**
 * The README's recipe for Hope's self-modifying 2-layer MLP memory (nested-learning.md §4.4): within
 * one chunk, with factors p, a, e, g from the snapshot, W2 follows a gated delta rule on W2ᵀ and W1
 * a linear attention on W1ᵀ. Checked against the literal per-token DGD updates, float64.
 */
import { describe, it } from 'vitest';
import { deltaRuleForward, silu, siluGrad } from '../../src/kernels/index.js';
import { assertClose, normalizeRows, randArray, rng } from './helpers.js';

describe('Hope MLP memory recipe', () => {
  it('delta rule on W2ᵀ and linear attention on W1ᵀ equal the literal chunk updates', () => {
    const r = rng(21);
    const T = 13,
      D = 4,
      Dh = 6;
    const k = normalizeRows(randArray(T * D, r), D);
    const vHat = randArray(T * D, r);
    const alpha = randArray(T, r, (u) => 0.8 + 0.2 * Math.abs(u));
    const eta = randArray(T, r, (u) => 0.3 * Math.abs(u));
    const W1 = randArray(D * Dh, r, (u) => 0.5 * u); // [D, Dh]
    const W2 = randArray(Dh * D, r, (u) => 0.5 * u); // [Dh, D]
    // snapshot factors
    const a = new Float64Array(T * Dh),
      e = new Float64Array(T * D),
      g = new Float64Array(T * Dh);
    for (let t = 0; t < T; t++) {
      const p = Array.from({ length: Dh }, (_, j) =>
        [...Array(D).keys()].reduce((s, i) => s + W2[j * D + i] * k[t * D + i], 0),
      );
      for (let j = 0; j < Dh; j++) a[t * Dh + j] = silu(p[j]);
      for (let i = 0; i < D; i++) {
        let s = k[t * D + i] - vHat[t * D + i];
        for (let j = 0; j < Dh; j++) s += W1[i * Dh + j] * a[t * Dh + j];
        e[t * D + i] = s;
      }
      for (let j = 0; j < Dh; j++) {
        let c = 0;
        for (let i = 0; i < D; i++) c += W1[i * Dh + j] * e[t * D + i];
        g[t * Dh + j] = c * siluGrad(p[j]);
      }
    }
    // literal updates
    const L1 = Float64Array.from(W1),
      L2 = Float64Array.from(W2);
    for (let t = 0; t < T; t++) {
      const W2k = Array.from({ length: Dh }, (_, j) =>
        [...Array(D).keys()].reduce((s, i) => s + L2[j * D + i] * k[t * D + i], 0),
      );
      for (let j = 0; j < Dh; j++)
        for (let i = 0; i < D; i++)
          L2[j * D + i] =
            alpha[t] * L2[j * D + i] - eta[t] * W2k[j] * k[t * D + i] - eta[t] * g[t * Dh + j] * k[t * D + i];
      for (let i = 0; i < D; i++)
        for (let j = 0; j < Dh; j++)
          L1[i * Dh + j] = alpha[t] * L1[i * Dh + j] - eta[t] * e[t * D + i] * a[t * Dh + j];
    }
    // kernels on the transposes
    const tr = (x: Float64Array, rows: number, cols: number) =>
      Float64Array.from({ length: rows * cols }, (_, idx) => x[(idx % rows) * cols + Math.floor(idx / rows)]);
    const w2 = deltaRuleForward(
      {
        q: new Float64Array(T * D),
        k,
        v: Float64Array.from(g, (x, idx) => -alpha[Math.floor(idx / Dh)] * x),
        alpha,
        beta: Float64Array.from(eta, (x, t) => x / alpha[t]),
        s0: tr(W2, Dh, D), // [D, Dh]
        shape: { batch: 1, seqLen: T, heads: 1, dk: D, dv: Dh },
      },
      { chunkSize: 4 },
    );
    const w1 = deltaRuleForward(
      {
        q: new Float64Array(T * Dh),
        k: a,
        v: Float64Array.from(e, (x) => -x),
        alpha,
        beta: eta,
        s0: tr(W1, D, Dh), // [Dh, D]
        shape: { batch: 1, seqLen: T, heads: 1, dk: Dh, dv: D },
      },
      { chunkSize: 4, erase: false },
    );
    assertClose('W2', tr(w2.state, D, Dh), L2, { atol: 1e-12, ratio: 1e-13 });
    assertClose('W1', tr(w1.state, Dh, D), L1, { atol: 1e-12, ratio: 1e-13 });
  });
});
