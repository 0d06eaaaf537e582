/**
 * The generic adapter from @nl/hope's {@link LanguageModel} contract (HopeLM, TransformerLM,
 * TitansLM, DeltaNetLM) to the trainer's {@link TrainableLM}:
 *
 *   trainStep(batch, lr): zero grads; model.lossAndBackward(batch); clip the global grad norm to
 *     `gradClip`; set the groups' lr; optimizer step
 *   stream(): model.decoder();  evalLoss: model.evalLoss;  modelConfig: model.config
 *   save/load: @nl/hope's exact encodings (model.safetensors = the state dict; optimizer.json +
 *     optimizer.safetensors = the optimizer's full state), so resume == uninterrupted, bit for bit
 *
 * The outer optimizer comes from the trainer config (`optimizer`, `weightDecay`):
 *   adamw  fused AdamW, betas (0.9, 0.95); weight decay on matrices (>= 2-D) only
 *   muon   Muon (momentum 0.95, Nesterov, 5 Newton–Schulz steps) on hidden matrices (2-D, both
 *          sides >= 8) with lr × {@link MUON_LR_SCALE}; embeddings and the LM head (a side equal
 *          to the vocabulary), thin matrices (conv kernels [C, 4], gates [d, 1]) and vectors take
 *          Muon's AdamW part at `lr`
 *   m3     M3 (practical mode, slow momentum every 10 steps) on every parameter at `lr`
 */
import {
  OPTIMIZER_TENSORS_FILE,
  encodeOptimizer,
  encodeWeights,
  loadOptimizer,
  loadWeights,
  type AnyOptimizer,
  type LanguageModel,
  type SavedModelConfig,
  type TokenBatch,
} from '@nl/hope';
import { AdamW, M3, Muon, clipGradNorm } from '@nl/optim';
import { fromTypedArray, manualSeed, tensor, type Device, type Tensor } from '@nl/tensor';
import { ConfigError, type TrainConfig } from '../config.js';
import { resolveDevice } from '../device.js';
import type { ModelContext, ModelFactory, ModelState, TokenStream, TrainableLM } from '../model-api.js';

/** Outer optimizers the adapter builds. */
export const OPTIMIZER_NAMES = ['adamw', 'muon', 'm3'] as const;

/** Muon's matrix learning rate relative to the trainer's lr (3e-3 → 0.02, Muon's usual value). */
export const MUON_LR_SCALE = 20 / 3;

type OptConfig = Pick<TrainConfig, 'optimizer' | 'weightDecay' | 'gradClip' | 'lr'>;

/**
 * The outer optimizer over `model`'s parameters as configured.
 * @throws ConfigError for an optimizer name the adapter does not build
 */
export function buildOptimizer(model: LanguageModel, config: OptConfig): AnyOptimizer {
  const named = model.namedParameters();
  const vocab = model.config.vocabSize;
  const matrices = named.filter(([, p]) => p.shape.length >= 2).map(([, p]) => p);
  const vectors = named.filter(([, p]) => p.shape.length < 2).map(([, p]) => p);
  const groups = <T extends object>(decay: T, noDecay: T) =>
    [
      { params: matrices, ...decay },
      { params: vectors, ...noDecay },
    ].filter((g) => g.params.length > 0);
  const wd = config.weightDecay;
  switch (config.optimizer) {
    case 'adamw':
      return new AdamW(groups({ weightDecay: wd }, { weightDecay: 0 }), {
        lr: config.lr,
        betas: [0.9, 0.95],
        eps: 1e-8,
        fused: true,
      });
    case 'muon': {
      const isHidden = (s: readonly number[]) =>
        s.length === 2 && s[0] !== vocab && s[1] !== vocab && Math.min(s[0], s[1]) >= 8;
      const hidden = matrices.filter((p) => isHidden(p.shape));
      const edges = matrices.filter((p) => !isHidden(p.shape));
      const gs = [
        { params: hidden, useMuon: true, weightDecay: wd },
        { params: edges, useMuon: false, adamWeightDecay: wd },
        { params: vectors, useMuon: false, adamWeightDecay: 0 },
      ].filter((g) => g.params.length > 0);
      return new Muon(gs, { lr: config.lr * MUON_LR_SCALE, adamLr: config.lr, adamBetas: [0.9, 0.95] });
    }
    case 'm3':
      return new M3(groups({ weightDecay: wd }, { weightDecay: 0 }), { lr: config.lr });
    default:
      throw new ConfigError(
        `optimizer "${config.optimizer}" is not one the model adapter builds; use one of ${OPTIMIZER_NAMES.join(', ')}`,
      );
  }
}

/** Set every group's learning rate for this step. */
function setLearningRate(opt: AnyOptimizer, lr: number): void {
  for (const g of opt.paramGroups as Record<string, unknown>[]) {
    if (opt instanceof Muon) {
      g.lr = lr * MUON_LR_SCALE;
      g.adamLr = lr;
    } else g.lr = lr;
  }
}

/** A {@link LanguageModel} with its outer optimizer, driven by the trainer. */
export class LanguageModelTrainer implements TrainableLM {
  readonly optimizer: AnyOptimizer;
  private readonly params: ReturnType<LanguageModel['parameters']>;

  /**
   * @param model - already on `device` (its optimizer state is created there)
   * @param device - where batches are uploaded (default 'cpu')
   */
  constructor(
    readonly model: LanguageModel,
    private readonly config: OptConfig,
    readonly device: Device = 'cpu',
  ) {
    this.params = model.parameters();
    this.optimizer = buildOptimizer(model, config);
  }

  numParameters(): number {
    return this.model.numParameters();
  }

  private withBatch<T>(batch: TokenBatch, fn: (t: Tensor) => T): T {
    const shape = [batch.batchSize, batch.seqLen + 1];
    // CPU: a zero-copy wrap; another device: one host -> device upload of the batch
    const t =
      this.device === 'cpu'
        ? fromTypedArray(batch.tokens, shape)
        : tensor(batch.tokens, { shape, device: this.device });
    try {
      return fn(t);
    } finally {
      t.dispose();
    }
  }

  trainStep(batch: TokenBatch, lr: number): number {
    this.model.train();
    this.optimizer.zeroGrad();
    const loss = this.withBatch(batch, (t) => this.model.lossAndBackward(t));
    if (!Number.isFinite(loss)) return loss; // the trainer stops; the weights stay as they were
    // on Tensors the norm comes back as a device tensor (no host read); unused here, so freed
    if (this.config.gradClip > 0) clipGradNorm(this.params, this.config.gradClip).dispose();
    setLearningRate(this.optimizer, lr);
    this.optimizer.step();
    return loss;
  }

  evalLoss(batch: TokenBatch): number {
    this.model.eval();
    try {
      return this.withBatch(batch, (t) => this.model.evalLoss(t));
    } finally {
      this.model.train();
    }
  }

  stream(): TokenStream {
    this.model.eval();
    const d = this.model.decoder();
    return {
      feed: (ids) => d.feed(ids),
      dispose: () => {
        d.dispose();
        this.model.train();
      },
    };
  }

  modelConfig(): Record<string, unknown> {
    return { ...this.model.config };
  }

  save(): ModelState {
    const opt = encodeOptimizer(this.optimizer);
    return {
      weights: encodeWeights(this.model),
      optimizer: opt.json,
      extra: { [OPTIMIZER_TENSORS_FILE]: opt.tensors },
    };
  }

  load(state: ModelState): void {
    const tensors = state.extra?.[OPTIMIZER_TENSORS_FILE];
    if (!tensors) throw new Error(`checkpoint: ${OPTIMIZER_TENSORS_FILE} is missing (no optimizer state)`);
    loadWeights(this.model, state.weights);
    loadOptimizer(this.optimizer, state.optimizer, tensors);
  }

  dispose(): void {
    this.optimizer.dispose(); // its state tensors (on the model's device)
    this.model.dispose();
  }
}

/**
 * A factory for the trainer's registry: seeds @nl/tensor's generator with `config.seed`, builds
 * the model from the checkpoint's saved model config (resume, eval, sample) or from
 * `presetConfig(ctx)` (a fresh run), and wraps it with its optimizer.
 * @param build - e.g. @nl/hope's `buildModel`
 */
export function languageModelFactory(
  presetConfig: (ctx: ModelContext) => SavedModelConfig,
  build: (config: SavedModelConfig) => LanguageModel,
): ModelFactory {
  return (ctx) => {
    const { config } = ctx;
    const device = resolveDevice(config.device);
    if (!(OPTIMIZER_NAMES as readonly string[]).includes(config.optimizer))
      throw new ConfigError(
        `optimizer "${config.optimizer}" is not one the model adapter builds; use one of ${OPTIMIZER_NAMES.join(', ')}`,
      );
    manualSeed(config.seed);
    const model = build((ctx.savedModelConfig as SavedModelConfig | undefined) ?? presetConfig(ctx));
    try {
      // built (and seeded) on the CPU, then moved: the same initial weights on every device
      if (device !== 'cpu') model.to(device);
      return new LanguageModelTrainer(model, config, device);
    } catch (e) {
      model.dispose();
      throw e;
    }
  };
}
