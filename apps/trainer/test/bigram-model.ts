/**
 * A real, tiny language model for testing the trainer without @nl/tensor: a bigram model whose
 * parameters are a logit table W [256, 256] (row = current byte, column = next byte), trained by
 * SGD with momentum on the exact cross-entropy gradient. All arithmetic is on Float32Arrays in a
 * fixed order, so runs are bit-for-bit reproducible and a save → load round trip is exact.
 * Weights are stored as safetensors (F32 tensor "W"); the momentum buffer as a second
 * safetensors file, `optimizer.safetensors`, through the checkpoint's extra files.
 */
import type { TokenBatch } from '@nl/hope';
import type { ModelFactory, ModelState, TrainableLM } from '../src/model-api.js';

const V = 256;

/** Minimal safetensors writer for named F32 tensors. */
export function encodeSafetensors(
  tensors: Record<string, { shape: number[]; data: Float32Array }>,
): Uint8Array {
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  while ((8 + json.length) % 8 !== 0) json += ' ';
  const h = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + h.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  let o = 8 + h.length;
  for (const t of Object.values(tensors)) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), o);
    o += t.data.byteLength;
  }
  return out;
}

/** Minimal safetensors reader for F32 tensors (little-endian hosts). */
export function decodeSafetensors(
  bytes: Uint8Array,
): Record<string, { shape: number[]; data: Float32Array }> {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  const out: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const [name, t] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    if (t.dtype !== 'F32') throw new Error(`bigram: tensor ${name} has dtype ${t.dtype}, expected F32`);
    const raw = bytes.slice(8 + n + t.data_offsets[0], 8 + n + t.data_offsets[1]);
    out[name] = { shape: t.shape, data: new Float32Array(raw.buffer) };
  }
  return out;
}

/** The bigram model with SGD + momentum. */
export class BigramLM implements TrainableLM {
  readonly W = new Float32Array(V * V);
  private readonly momentumBuf = new Float32Array(V * V);
  private steps = 0;
  trainCalls = 0;

  constructor(private readonly momentum: number) {}

  numParameters(): number {
    return V * V;
  }

  private softmaxRow(x: number, p: Float64Array): void {
    const o = x * V;
    let max = -Infinity;
    for (let j = 0; j < V; j++) max = Math.max(max, this.W[o + j]);
    let sum = 0;
    for (let j = 0; j < V; j++) sum += p[j] = Math.exp(this.W[o + j] - max);
    for (let j = 0; j < V; j++) p[j] /= sum;
  }

  private lossAndGrad(batch: TokenBatch, grad?: Float32Array): number {
    const { tokens, batchSize: B, seqLen: T } = batch;
    const p = new Float64Array(V);
    let loss = 0;
    const N = B * T;
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < T; t++) {
        const x = tokens[b * (T + 1) + t];
        const y = tokens[b * (T + 1) + t + 1];
        this.softmaxRow(x, p);
        loss -= Math.log(p[y]);
        if (grad) {
          for (let j = 0; j < V; j++) grad[x * V + j] += p[j] / N;
          grad[x * V + y] -= 1 / N;
        }
      }
    }
    return loss / N;
  }

  trainStep(batch: TokenBatch, lr: number): number {
    this.trainCalls++;
    const grad = new Float32Array(V * V);
    const loss = this.lossAndGrad(batch, grad);
    for (let i = 0; i < V * V; i++) {
      this.momentumBuf[i] = this.momentum * this.momentumBuf[i] + grad[i];
      this.W[i] -= lr * this.momentumBuf[i];
    }
    this.steps++;
    return loss;
  }

  evalLoss(batch: TokenBatch): number {
    return this.lossAndGrad(batch);
  }

  stream() {
    return {
      feed: (ids: Int32Array) => this.W.slice(ids[ids.length - 1] * V, (ids[ids.length - 1] + 1) * V),
    };
  }

  modelConfig(): Record<string, unknown> {
    return { kind: 'bigram', vocabSize: V, momentum: this.momentum };
  }

  save(): ModelState {
    return {
      weights: encodeSafetensors({ W: { shape: [V, V], data: this.W } }),
      optimizer: { name: 'sgd', momentum: this.momentum, steps: this.steps },
      extra: {
        'optimizer.safetensors': encodeSafetensors({ momentum: { shape: [V, V], data: this.momentumBuf } }),
      },
    };
  }

  load(state: ModelState): void {
    const w = decodeSafetensors(state.weights).W;
    const m =
      state.extra?.['optimizer.safetensors'] &&
      decodeSafetensors(state.extra['optimizer.safetensors']).momentum;
    if (!w || w.data.length !== V * V) throw new Error('bigram: checkpoint lacks W [256, 256]');
    if (!m || m.data.length !== V * V) throw new Error('bigram: checkpoint lacks the momentum buffer');
    this.W.set(w.data);
    this.momentumBuf.set(m.data);
    this.steps = Number(state.optimizer.steps);
  }
}

/** Factory as registered in a test registry; `created` collects instances for inspection. */
export function bigramFactory(created: BigramLM[] = [], momentum = 0.9): ModelFactory {
  return ({ config, savedModelConfig }) => {
    if (config.optimizer !== 'sgd')
      throw new Error(`bigram: only the sgd optimizer is implemented, got ${config.optimizer}`);
    const m = new BigramLM(savedModelConfig ? Number(savedModelConfig.momentum) : momentum);
    created.push(m);
    return m;
  };
}
