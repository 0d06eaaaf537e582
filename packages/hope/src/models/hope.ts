/**
 * HopeLM (nested-learning.md §6): embedding → N × HopeBlock → final RMSNorm → LM head.
 * Implements the shared `LanguageModel` contract; the fast state (self-modifying memories, CMS Δ,
 * conv caches) lives in the blocks and is reset to the meta-learned init at every training /
 * evaluation sequence. Training and evaluation run the online CMS scheme of `hope-online.ts`;
 * `forward` and the decoder keep the CMS static (plain decoding). `HopeSession` drives the
 * continual-learning hooks below (`step`, `fastState`, `freeze`, ...).
 */
import { manualSeed, noGrad, tidy, nn, type Device, type Tensor } from '@nl/tensor';
import { INIT_STD, checkBatch, checkTokens, linear, onDevice } from './common.js';
import type { Decoder, LanguageModel } from './contract.js';
import { HopeBlock, type HopeBlockState } from './hope-block.js';
import { resolveHopeConfig, type HopeConfig, type HopeConfigInput } from './hope-config.js';
import { HopeDecoder } from './hope-decoder.js';
import { teacherForcedOnDevice } from './hope-online.js';
import { registerModelKind } from './build.js';

/** Detached copy of the whole model's fast state (one entry per layer). */
export interface HopeFastState {
  layers: HopeBlockState[];
}

export class HopeLM extends nn.Module implements LanguageModel {
  readonly config: HopeConfig & Record<string, unknown>;
  readonly embed: nn.Embedding;
  readonly layers: nn.ModuleList;
  readonly normF: nn.RMSNorm;
  readonly head: nn.Linear;

  /** Builds a model; draws the initial parameters from `manualSeed(config.seed)`. */
  constructor(input: HopeConfigInput) {
    super();
    const c = resolveHopeConfig(input);
    this.config = c as HopeConfig & Record<string, unknown>;
    manualSeed(c.seed);
    const opts = { dtype: c.dtype };
    this.embed = this.registerModule('embed', new nn.Embedding(c.vocabSize, c.dim, opts));
    noGrad(() => nn.init.normal_(this.embed.weight, 0, INIT_STD));
    const blocks: HopeBlock[] = [];
    for (let i = 0; i < c.layers; i++) blocks.push(new HopeBlock(c));
    this.layers = this.registerModule('layers', new nn.ModuleList(blocks));
    this.normF = this.registerModule('normF', new nn.RMSNorm(c.dim, opts));
    this.head = this.registerModule('head', linear(c.dim, c.vocabSize, c.dtype));
    if (c.tieEmbeddings) this.head.replaceParameter('weight', this.embed.weight);
  }

  /** Where the parameters live (`to(device)` moves them); inputs on another device are copied here. */
  get device(): Device {
    return this.embed.weight.device;
  }

  /** The layers as HopeBlocks. */
  get blocks(): HopeBlock[] {
    return [...this.layers.children()] as HopeBlock[];
  }

  /**
   * Continues the fast state over ids Int32 [B, T] → logits [B, T, V]. Memories write; CMS levels
   * are read only (their updates come from `observe()` after a backward with `probes`).
   */
  step(ids: Tensor, opts: { probes?: boolean } = {}): Tensor {
    let x = this.embed.forward(ids); // [B, T, D]
    for (const b of this.blocks) x = b.forward(x, opts);
    return this.head.forward(this.normF.forward(x)); // [B, T, V]
  }

  /** After `step(ids, { probes: true })` and a backward: every CMS level takes δ and its due updates. */
  observe(): void {
    for (const b of this.blocks) b.cms.observeGrads();
  }

  /** Teacher-forced logits from a fresh state (CMS static): tokens Int32 [B, T] → [B, T, V]. */
  forward(tokens: Tensor): Tensor {
    checkTokens('HopeLM.forward', tokens, this.config.vocabSize);
    this.resetFast();
    if (tokens.device === this.device) return this.step(tokens);
    const ids = onDevice(tokens, this.device); // one upload (the graph keeps what it needs)
    try {
      return this.step(ids);
    } finally {
      ids.dispose();
    }
  }

  /**
   * Mean next-token loss (nats) on `batch` Int32 [B, T+1] from a fresh state, with the online CMS
   * scheme; gradients accumulate into `.grad` (README "HopeLM", training).
   */
  lossAndBackward(batch: Tensor): number {
    const [b, t] = checkBatch('HopeLM.lossAndBackward', batch, this.config.vocabSize);
    const loss = tidy(() => {
      this.resetFast();
      // the step's one device -> host transfer: the summed loss
      return teacherForcedOnDevice(this, onDevice(batch, this.device), { outer: true }).nats.item() / (b * t);
    });
    this.resetFast(); // the pass's tensors were freed with its scope
    return loss;
  }

  /** Mean next-token loss (nats) on `batch` Int32 [B, T+1]: the same scheme, no outer gradients. */
  evalLoss(batch: Tensor): number {
    const [b, t] = checkBatch('HopeLM.evalLoss', batch, this.config.vocabSize);
    const loss = tidy(() => {
      this.resetFast();
      // one device -> host transfer: the summed loss
      return (
        teacherForcedOnDevice(this, onDevice(batch, this.device), { outer: false }).nats.item() / (b * t)
      );
    });
    this.resetFast(); // the pass's tensors were freed with its scope
    return loss;
  }

  /** A batch-1 streaming decoder from a fresh state (or from `state`). */
  decoder(state?: HopeFastState): Decoder {
    return new HopeDecoder(this, state);
  }

  /** Every layer back to the meta-learned init. */
  resetFast(): void {
    for (const b of this.blocks) b.resetFast();
  }

  /** Detached copy of the fast state. */
  fastState(): HopeFastState {
    return noGrad(() => ({ layers: this.blocks.map((b) => b.fastState()) }));
  }

  /** Installs `fastState()`'s result (shared, never written in place). */
  loadFastState(s: HopeFastState): void {
    const blocks = this.blocks;
    if (s.layers.length !== blocks.length)
      throw new Error(
        `HopeLM.loadFastState: state has ${s.layers.length} layers, model has ${blocks.length}`,
      );
    blocks.forEach((b, i) => b.loadFastState(s.layers[i]!));
  }

  /** Fast-state module names: 'titans', 'cms', 'layers.i', 'layers.i.titans', 'layers.i.cms'. */
  fastModuleNames(): string[] {
    const out = ['titans', 'cms'];
    this.blocks.forEach((_, i) => out.push(`layers.${i}`, `layers.${i}.titans`, `layers.${i}.cms`));
    return out;
  }

  /** The memory modules a fast-state name refers to. */
  fastModules(name: string): { freeze(): void; unfreeze(): void; readonly frozen: boolean }[] {
    const blocks = this.blocks;
    if (name === 'titans') return blocks.map((b) => b.titans);
    if (name === 'cms') return blocks.map((b) => b.cms);
    const m = /^layers\.(\d+)(?:\.(titans|cms))?$/.exec(name);
    const b = m ? blocks[Number(m[1])] : undefined;
    if (!m || b === undefined)
      throw new Error(`HopeLM: no fast-state module '${name}' (known: ${this.fastModuleNames().join(', ')})`);
    if (m[2] === 'titans') return [b.titans];
    if (m[2] === 'cms') return [b.cms];
    return [b.titans, b.cms];
  }
}

registerModelKind('hope', (c) => new HopeLM(c as unknown as HopeConfigInput));
