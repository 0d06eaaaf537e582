/**
 * Shared by the ONNX export tests (onnx-*.test.ts): a relative error, ORT tensors, and our own
 * streaming path run token by token with every block's cache read back (the reference the exported
 * step graph's state outputs are compared with). Not a test file itself.
 */
import * as ort from 'onnxruntime-node';
import { noGrad, tensor, tidy, type Tensor } from '@nl/tensor';
import type { BlockLM } from '../src/models/common.js';
import type { ShellConfig } from '../src/models/config-fields.js';

/** max |a − b| / max |b|. */
export function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`maxRelErr: lengths ${a.length} and ${b.length} differ`);
  let scale = 0;
  let err = 0;
  for (let i = 0; i < a.length; i++) {
    scale = Math.max(scale, Math.abs(b[i]!));
    err = Math.max(err, Math.abs(a[i]! - b[i]!));
  }
  return err / scale;
}

export const f32 = (data: Float32Array, dims: number[]) => new ort.Tensor('float32', data, dims);
export const i32 = (data: Int32Array, dims: number[]) => new ort.Tensor('int32', data, dims);
export const data = (t: ort.Tensor | undefined) => t!.data as Float32Array;

/** One block's streaming cache read to the host: conv rows and the memory's named state tensors. */
export interface HostCache {
  conv: Float32Array;
  mem: Record<string, Float32Array>;
  tokens: number;
}

/**
 * Streams `ids` one token at a time through the model's blocks (`LMBlock.stream`, what the
 * StreamDecoder runs) and returns, per token, the logits [V] and every block's cache.
 */
export function streamTokenByToken(
  model: BlockLM<ShellConfig>,
  ids: Int32Array,
): { logits: Float32Array; caches: HostCache[] }[] {
  return noGrad(() =>
    tidy(() => {
      const out: { logits: Float32Array; caches: HostCache[] }[] = [];
      let caches: (object | null)[] = model.blocks.map(() => null);
      for (const id of ids) {
        let x = model.embed.forward(tensor([id], { shape: [1, 1], dtype: 'int32' }));
        caches = model.blocks.map((b, l) => {
          const r = b.stream(x, caches[l]!);
          x = r.y;
          return r.cache;
        });
        const host = (t: Tensor) => Float32Array.from(t.dataSync());
        out.push({
          logits: host(model.head.forward(model.normF.forward(x))),
          caches: caches.map((c) => {
            const { conv, mem } = c as {
              conv: Tensor;
              mem: { state: Record<string, Tensor>; tokens: number };
            };
            const m = Object.fromEntries(Object.entries(mem.state).map(([k, v]) => [k, host(v)]));
            return { conv: host(conv), mem: m, tokens: mem.tokens };
          }),
        });
      }
      return out;
    }),
  );
}
