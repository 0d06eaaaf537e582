/**
 * Pieces shared by the recurrent token mixers (DeltaNet, Titans LMM), FLA-style:
 *
 *   QKVConv   h [B, T, D] → one projection to [q | k | v] [B, T, 3D] → depthwise causal conv
 *             (window K, no bias) → SiLU → q, k, v [B, T, H, D/H]. Streams with a cache of the
 *             last K−1 projected rows [1, K−1, 3D].
 *   l2norm    x / √(Σ x² + ε) over the last dim.
 *   GatedOut  o [B, T, H, D/H] → per-head RMSNorm → ⊙ SiLU(W_g h) → W_o → [B, T, D].
 */
import type { MemorySnapshot } from '@nl/memory';
import { cat, narrow, nn, zeros, type Tensor } from '@nl/tensor';
import { linear, residualStd } from './common.js';

/**
 * The memory's current state as a snapshot without copying (the decoder's cache; `snapshot()`
 * would clone every tensor). Only for state computed under noGrad, which no later op writes.
 */
export function liveSnapshot(mem: {
  readonly state: Record<string, Tensor> | null;
  readonly tokens: number;
}): MemorySnapshot {
  return { state: mem.state === null ? null : { ...mem.state }, tokens: mem.tokens };
}

/** A memory module as the blocks drive it: fast state installed per call, none kept between. */
interface StatefulMemory {
  readonly state: Record<string, Tensor> | null;
  readonly tokens: number;
  restore(s: MemorySnapshot): void;
  reset(): void;
}

/**
 * Runs `read` on `memory` starting from a decoder's carried state `past` (fresh state when null)
 * and leaves the module stateless again. Returns the output and, when `streaming`, the state to
 * carry to the next call (a live snapshot, see {@link liveSnapshot}).
 */
export function runFromState(
  memory: StatefulMemory,
  past: MemorySnapshot | null | undefined,
  streaming: boolean,
  read: () => Tensor,
): { o: Tensor; mem: MemorySnapshot | null } {
  if (past) memory.restore(past);
  else memory.reset();
  const o = read();
  const mem = streaming ? liveSnapshot(memory) : null;
  memory.reset(); // the module keeps no state between calls
  return { o, mem };
}

/** ℓ2-normalizes x over its last dim: x / √(Σ x² + eps). */
export function l2norm(x: Tensor, eps = 1e-6): Tensor {
  return x.mul(x.square().sum(-1, true).add(eps).rsqrt());
}

/** Fused q, k, v projection + short causal depthwise conv + SiLU. */
export class QKVConv extends nn.Module {
  readonly proj: nn.Linear;
  readonly conv: nn.CausalConv1d;

  constructor(
    private readonly dim: number,
    private readonly heads: number,
    private readonly window: number,
    dtype: 'float32' | 'float64',
  ) {
    super();
    this.proj = this.registerModule('proj', linear(dim, 3 * dim, dtype));
    this.conv = this.registerModule('conv', new nn.CausalConv1d(3 * dim, window, { bias: false, dtype }));
  }

  /** h [B, T, D] → q, k, v [B, T, H, D/H] from zero history. */
  forward(h: Tensor): { q: Tensor; k: Tensor; v: Tensor } {
    return this.run(h, null);
  }

  /**
   * h [B, T, D] → q, k, v [B, T, H, D/H]. With `stream`, continues `cache` [1, K−1, 3D] (null:
   * zero history) and also returns the new cache (the last K−1 projected rows); without, starts
   * from zero history and returns cache null.
   */
  run(
    h: Tensor,
    stream: { cache: Tensor | null } | null,
  ): { q: Tensor; k: Tensor; v: Tensor; cache: Tensor | null } {
    const [b, t] = h.shape as [number, number];
    const d = this.dim;
    const kw = this.window - 1;
    const z = this.proj.forward(h); // [B, T, 3D]
    let c: Tensor;
    let next: Tensor | null = null;
    if (stream === null) {
      c = this.conv.forward(z); // zero history before t = 0
    } else {
      const past =
        stream.cache ?? zeros([b, kw, 3 * d], { dtype: h.dtype as 'float32' | 'float64', device: h.device });
      const zin = cat([past, z], 1); // [1, K−1+T, 3D]
      c = narrow(this.conv.forward(zin), 1, kw, t);
      next = narrow(zin, 1, t, kw).contiguous(); // [1, K−1, 3D]
    }
    c = c.silu(); // [B, T, 3D]
    const split = (i: number): Tensor => narrow(c, -1, i * d, d).reshape([b, t, this.heads, d / this.heads]);
    return { q: split(0), k: split(1), v: split(2), cache: next };
  }
}

/** Output of a recurrent mixer: per-head RMSNorm, SiLU output gate, out projection. */
export class GatedOut extends nn.Module {
  readonly norm: nn.RMSNorm;
  readonly gate: nn.Linear;
  readonly out: nn.Linear;

  constructor(dim: number, heads: number, layers: number, dtype: 'float32' | 'float64', eps: number) {
    super();
    this.norm = this.registerModule('norm', new nn.RMSNorm(dim / heads, { dtype, eps }));
    this.gate = this.registerModule('gate', linear(dim, dim, dtype));
    this.out = this.registerModule('out', linear(dim, dim, dtype, residualStd(layers)));
  }

  /** o [B, T, H, Dh], h [B, T, D] (the block's normed input) → [B, T, D] */
  forward(o: Tensor, h: Tensor): Tensor {
    const [b, t, hh, dh] = o.shape as [number, number, number, number];
    const g = this.gate.forward(h).silu().reshape([b, t, hh, dh]);
    return this.out.forward(
      this.norm
        .forward(o)
        .mul(g)
        .reshape([b, t, hh * dh]),
    ); // [B, T, D]
  }
}

/** Parameters of QKVConv + GatedOut for width d, h heads and conv window k. */
export function mixerPartsParamCount(d: number, h: number, k: number): number {
  return 3 * d * d + 3 * d * k + d / h + 2 * d * d;
}
