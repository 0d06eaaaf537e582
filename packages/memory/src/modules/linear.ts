/**
 * Matrix memories with exact tiling (nested-learning.md §1.4; kernels.md gated delta rule),
 * token-by-token on tensor ops. State M [B, H, Dv, Dk], read o_t = M_t q_t (after the write).
 *   LinearMemory (Hebbian):   M_t = α_t M_{t−1} + β_t v_t k_tᵀ           (α = β = 1: linear attention)
 *   GatedDeltaMemory:         M_t = α_t (M_{t−1} − β_t (M_{t−1} k_t) k_tᵀ) + β_t v_t k_tᵀ
 * (the gated delta rule S_t = α_t (I − β_t k kᵀ) S_{t−1} + β_t k vᵀ written on M = Sᵀ).
 * The initial memory M0 [H, Dv, Dk] is a meta-learned parameter (zeros by default).
 */
import { add, contiguous, expand, mul, ones, sub, transpose, zeros, type Tensor } from '@nl/tensor';
import { checkChunk } from './check.js';
import { fusedGatedDelta } from './fused-delta.js';
import type { MemoryConfig, MemoryGates } from '../contract.js';
import { MemoryModule, type FastState, type ScanResult } from './base.js';
import { gateAt, mv, outerBH, stackTokens, tokenAt } from './ops.js';

/** Options of the matrix memories. */
export interface MatrixMemoryConfig extends MemoryConfig {
  /** Learn the initial memory M0 (default true; zeros at construction). */
  learnInit?: boolean;
  /**
   * 'loop' (default): the token-by-token recurrence on tensor ops. 'fused': one native chunked
   * WY kernel call per forward (kernels/delta-rule) through defineOp, same result (exact tiling).
   */
  impl?: 'loop' | 'fused';
  /** Kernel chunk size of the fused path (default 64; exact tiling: no effect on results). */
  chunkSize?: number;
}

abstract class MatrixMemory extends MemoryModule {
  /** Initial memory M0 [H, Dv, Dk]. */
  readonly m0: Tensor;
  readonly impl: 'loop' | 'fused';
  readonly chunkSize: number;
  protected abstract readonly erase: boolean;

  protected constructor(label: string, cfg: MatrixMemoryConfig) {
    super(label, cfg);
    this.impl = cfg.impl ?? 'loop';
    this.chunkSize = checkChunk(label, cfg.chunkSize ?? 64);
    const m0 = zeros([cfg.heads, cfg.dv, cfg.dk], { dtype: this.dtype });
    if (cfg.learnInit ?? true) this.m0 = this.registerParameter('m0', m0);
    else this.m0 = this.registerBuffer('m0', m0);
  }

  protected initialState(b: number): FastState {
    return { m: expand(this.m0, [b, this.heads, this.dv, this.dk]) };
  }

  /** One write: the new memory from m [B, H, Dv, Dk], k [B, H, Dk], v [B, H, Dv]. */
  protected abstract update(
    m: Tensor,
    k: Tensor,
    v: Tensor,
    alpha: Tensor | number,
    beta: Tensor | number,
  ): Tensor;

  protected scan(q: Tensor | null, k: Tensor, v: Tensor, gates: MemoryGates, state: FastState): ScanResult {
    let m = state.m!;
    const outs: Tensor[] = [];
    const T = k.shape[1]!;
    if (this.impl === 'fused' && T > 0) return this.scanFused(q, k, v, gates, m);
    for (let t = 0; t < T; t++) {
      m = this.update(m, tokenAt(k, t), tokenAt(v, t), gateAt(gates.alpha, t, 1), gateAt(gates.beta, t, 1));
      if (q !== null) outs.push(mv(m, tokenAt(q, t)));
    }
    return { out: q === null ? null : this.stackOrEmpty(outs, q), state: { m } };
  }

  /** The whole sequence in one native call; S = Mᵀ. */
  private scanFused(q: Tensor | null, k: Tensor, v: Tensor, gates: MemoryGates, m: Tensor): ScanResult {
    const dtype = k.dtype as 'float32' | 'float64';
    const g = [k.shape[0]!, k.shape[1]!, this.heads];
    const alpha = gates.alpha ?? ones(g, { dtype, device: k.device });
    const beta = gates.beta ?? ones(g, { dtype, device: k.device });
    const s0 = contiguous(transpose(m, -2, -1)); // [B, H, Dk, Dv]
    const [o, sT] = fusedGatedDelta(q ?? k, k, v, alpha, beta, s0, {
      chunkSize: this.chunkSize,
      erase: this.erase,
    });
    return { out: q === null ? null : o, state: { m: transpose(sT, -2, -1) } };
  }

  protected readState(q: Tensor, state: FastState): Tensor {
    const T = q.shape[1]!;
    const outs: Tensor[] = [];
    for (let t = 0; t < T; t++) outs.push(mv(state.m!, tokenAt(q, t)));
    return this.stackOrEmpty(outs, q);
  }

  private stackOrEmpty(outs: Tensor[], q: Tensor): Tensor {
    if (outs.length > 0) return stackTokens(outs);
    return zeros([q.shape[0]!, 0, this.heads, this.dv], {
      dtype: q.dtype as 'float32' | 'float64',
      device: q.device,
    });
  }
}

/** Hebbian / (gated) linear-attention memory: M_t = α_t M_{t−1} + β_t v_t k_tᵀ. Gates α, β (default 1). */
export class LinearMemory extends MatrixMemory {
  protected readonly erase = false;
  constructor(cfg: MatrixMemoryConfig) {
    super('LinearMemory', cfg);
  }

  protected update(m: Tensor, k: Tensor, v: Tensor, alpha: Tensor | number, beta: Tensor | number): Tensor {
    return add(mul(m, alpha), mul(outerBH(v, k), beta));
  }
}

/** Gated delta memory (DeltaNet / gated DeltaNet); gates α (decay), β (write strength), default 1. */
export class GatedDeltaMemory extends MatrixMemory {
  protected readonly erase = true;
  constructor(cfg: MatrixMemoryConfig) {
    super('GatedDeltaMemory', cfg);
  }

  protected update(m: Tensor, k: Tensor, v: Tensor, alpha: Tensor | number, beta: Tensor | number): Tensor {
    const erased = sub(m, mul(outerBH(mv(m, k), k), beta)); // M − β (M k) kᵀ
    return add(mul(erased, alpha), mul(outerBH(v, k), beta));
  }
}
