/**
 * A small but real {@link LanguageModel} for tests of checkpoints and the trainer, independent of
 * the Hope/Transformer implementations: embedding → x + causal conv (kernel 3) → x + tanh(W·rms(x))
 * → linear head. Its logits at t depend on tokens t-2..t, so the streaming decoder recomputes a
 * window of the last three ids (equal to `forward`'s rows, tested).
 */
import { crossEntropy, fromTypedArray, manualSeed, nn, noGrad, tidy, type Tensor } from '@nl/tensor';
import type { Decoder, LanguageModel, LMConfigBase } from '../src/models/contract.js';

/** TinyLM's config. */
export interface TinyLMConfig extends LMConfigBase {
  seed: number;
  [key: string]: unknown;
}

/** A tiny conv + MLP byte model. */
export class TinyLM extends nn.Module implements LanguageModel {
  readonly config: TinyLMConfig;
  readonly emb: nn.Embedding;
  readonly conv: nn.CausalConv1d;
  readonly norm: nn.RMSNorm;
  readonly fc: nn.Linear;
  readonly head: nn.Linear;

  constructor(config: Partial<TinyLMConfig> = {}) {
    super();
    this.config = { kind: 'transformer', vocabSize: 256, dim: 16, layers: 1, heads: 1, seed: 0, ...config };
    if (this.config.layers !== 1) throw new Error(`TinyLM: layers must be 1, got ${this.config.layers}`);
    const { vocabSize: V, dim: d, seed } = this.config;
    manualSeed(seed);
    this.emb = this.registerModule('emb', new nn.Embedding(V, d));
    this.conv = this.registerModule('conv', new nn.CausalConv1d(d, 3));
    this.norm = this.registerModule('norm', new nn.RMSNorm(d));
    this.fc = this.registerModule('fc', new nn.Linear(d, d));
    this.head = this.registerModule('head', new nn.Linear(d, V));
  }

  forward(tokens: Tensor): Tensor {
    const x0 = this.emb.forward(tokens);
    const x = x0.add(this.conv.forward(x0));
    return this.head.forward(x.add(this.fc.forward(this.norm.forward(x)).tanh()));
  }

  private loss(batch: Tensor): Tensor {
    const [B, T1] = batch.shape;
    const T = T1 - 1;
    const logits = this.forward(batch.slice(1, 0, T).contiguous());
    const targets = batch
      .slice(1, 1, T1)
      .contiguous()
      .reshape([B * T]);
    return crossEntropy(logits.reshape([B * T, this.config.vocabSize]), targets);
  }

  lossAndBackward(batch: Tensor): number {
    return tidy(() => {
      const l = this.loss(batch);
      l.backward();
      return l.item();
    });
  }

  evalLoss(batch: Tensor): number {
    return tidy(() => noGrad(() => this.loss(batch).item()));
  }

  decoder(): Decoder {
    const ids: number[] = [];
    const V = this.config.vocabSize;
    return {
      feed: (next: Int32Array): Float32Array => {
        if (next.length === 0) throw new Error('TinyLM decoder: feed needs at least one id');
        ids.push(...next);
        const w = Int32Array.from(ids.slice(-3));
        return tidy(() =>
          noGrad(() => {
            const logits = this.forward(fromTypedArray(w, [1, w.length]));
            return Float32Array.from(logits.dataSync().subarray((w.length - 1) * V));
          }),
        );
      },
      get position() {
        return ids.length;
      },
      dispose: () => {},
    };
  }
}
