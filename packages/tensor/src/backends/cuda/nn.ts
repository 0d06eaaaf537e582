/**
 * CUDA kernels of the nn family, registered under 'cuda' (see ../cuda-kernels.ts): the 'cuda'
 * implementations of the fused ops of nn/functional (`nn.rmsNorm`, `nn.layerNorm`,
 * `nn.causalConv1d`, `nn.dropout` here; `nn.embedding`, `nn.crossEntropy` in ./nn-index.ts),
 * with the signatures of their CPU twins (registered as 'cpu' by `lazyOp` on first use) and the
 * same saved tensors. Each calls @nl/native entry points (native/lib/cuda-nn.ts) that queue the
 * kernels of native/src/cuda/kernels/nn_*.h on the tensors' device.
 */
import { native } from '@nl/native';
import type { BackwardCtx, ForwardCtx } from '../../autograd/custom-op.js';
import { registerKernel } from '../../backend/registry.js';
import type { Tensor } from '../../tensor.js';
import { dev, dt, Temps } from './nn-util.js';

type Attrs = Record<string, any>;

function rowsOf(x: Tensor): { rows: number; d: number } {
  const d = x.shape[x.shape.length - 1];
  return { rows: d === 0 ? 0 : x.numel / d, d };
}

registerKernel('nn.rmsNorm.forward', 'cuda', (ctx: ForwardCtx<Attrs>, inputs: Tensor[], attrs: Attrs) => {
  const tmp = new Temps();
  try {
    const x = tmp.contig(inputs[0]);
    const w = inputs[1] ? tmp.contig(inputs[1]) : null;
    const { rows, d } = rowsOf(x);
    const y = tmp.out(x.shape, x.dtype, x);
    const rstd = tmp.out([rows], 'float64', x);
    native.cudaRmsNormForward(dt(x), ...dev(x), ...dev(w), rows, d, attrs.eps, ...dev(y), ...dev(rstd));
    ctx.save(rstd);
    return y;
  } finally {
    tmp.free();
  }
});

registerKernel('nn.rmsNorm.backward', 'cuda', (ctx: BackwardCtx<Attrs>, [g]: (Tensor | null)[]) => {
  if (g === null) return ctx.inputs.map(() => null);
  const tmp = new Temps();
  try {
    const x = tmp.contig(ctx.inputs[0]);
    const w = ctx.inputs[1] ? tmp.contig(ctx.inputs[1]) : null;
    const gg = tmp.like(g, x);
    const { rows, d } = rowsOf(x);
    const dx = tmp.out(x.shape, x.dtype, x);
    const dw = w && ctx.needsInputGrad[1] ? tmp.out([d], w.dtype, x) : null;
    native.cudaRmsNormBackward(dt(x), ...dev(gg), ...dev(x), ...dev(w), ...dev(ctx.saved[0]), rows, d, ...dev(dx), ...dev(dw), ...tmp.colScratch(rows, dw ? d : 0, x)); // prettier-ignore
    return w ? [dx, dw] : [dx];
  } finally {
    tmp.free();
  }
});

registerKernel('nn.layerNorm.forward', 'cuda', (ctx: ForwardCtx<Attrs>, inputs: Tensor[], attrs: Attrs) => {
  const tmp = new Temps();
  try {
    const x = tmp.contig(inputs[0]);
    const w = attrs.hasWeight ? tmp.contig(inputs[1]) : null;
    const b = attrs.hasBias ? tmp.contig(inputs[attrs.hasWeight ? 2 : 1]) : null;
    const { rows, d } = rowsOf(x);
    const y = tmp.out(x.shape, x.dtype, x);
    const mean = tmp.out([rows], 'float64', x);
    const rstd = tmp.out([rows], 'float64', x);
    native.cudaLayerNormForward(dt(x), ...dev(x), ...dev(w), ...dev(b), rows, d, attrs.eps, ...dev(y), ...dev(mean), ...dev(rstd)); // prettier-ignore
    ctx.save(mean, rstd);
    return y;
  } finally {
    tmp.free();
  }
});

registerKernel('nn.layerNorm.backward', 'cuda', (ctx: BackwardCtx<Attrs>, [g]: (Tensor | null)[]) => {
  if (g === null) return ctx.inputs.map(() => null);
  const { hasWeight, hasBias } = ctx.attrs;
  const tmp = new Temps();
  try {
    const x = tmp.contig(ctx.inputs[0]);
    const w = hasWeight ? tmp.contig(ctx.inputs[1]) : null;
    const gg = tmp.like(g, x);
    const { rows, d } = rowsOf(x);
    const dx = tmp.out(x.shape, x.dtype, x);
    const dw = hasWeight && ctx.needsInputGrad[1] ? tmp.out([d], x.dtype, x) : null;
    const db = hasBias && ctx.needsInputGrad[hasWeight ? 2 : 1] ? tmp.out([d], x.dtype, x) : null;
    const [mean, rstd] = ctx.saved;
    native.cudaLayerNormBackward(dt(x), ...dev(gg), ...dev(x), ...dev(w), ...dev(mean), ...dev(rstd), rows, d, ...dev(dx), ...dev(dw), ...dev(db), ...tmp.colScratch(rows, dw || db ? d : 0, x)); // prettier-ignore
    const out: (Tensor | null)[] = [dx];
    if (hasWeight) out.push(dw);
    if (hasBias) out.push(db);
    return out;
  } finally {
    tmp.free();
  }
});

registerKernel('nn.causalConv1d.forward', 'cuda', (_ctx: ForwardCtx<Attrs>, inputs: Tensor[]) => {
  const tmp = new Temps();
  try {
    const [x, w] = [tmp.contig(inputs[0]), tmp.contig(inputs[1])];
    const bias = inputs[2] ? tmp.contig(inputs[2]) : null;
    const [b, t, c] = x.shape;
    const y = tmp.out(x.shape, x.dtype, x);
    native.cudaCausalConv1dForward(dt(x), ...dev(x), ...dev(w), ...dev(bias), b, t, c, w.shape[1], ...dev(y));
    return y;
  } finally {
    tmp.free();
  }
});

registerKernel('nn.causalConv1d.backward', 'cuda', (ctx: BackwardCtx<Attrs>, [g]: (Tensor | null)[]) => {
  if (g === null) return ctx.inputs.map(() => null);
  const tmp = new Temps();
  try {
    const [x, w] = [tmp.contig(ctx.inputs[0]), tmp.contig(ctx.inputs[1])];
    const hasBias = ctx.inputs.length > 2;
    const gg = tmp.like(g, x);
    const [b, t, c] = x.shape;
    const k = w.shape[1];
    const dx = tmp.out(x.shape, x.dtype, x);
    const dw = ctx.needsInputGrad[1] ? tmp.out(w.shape, x.dtype, x) : null;
    const db = hasBias && ctx.needsInputGrad[2] ? tmp.out([c], x.dtype, x) : null;
    native.cudaCausalConv1dBackward(dt(x), ...dev(gg), ...dev(x), ...dev(w), b, t, c, k, ...dev(dx), ...dev(dw), ...dev(db), ...tmp.colScratch(b * t, dw ? c * k : db ? c : 0, x)); // prettier-ignore
    return hasBias ? [dx, dw, db] : [dx, dw];
  } finally {
    tmp.free();
  }
});

registerKernel('nn.dropout.forward', 'cuda', (ctx: ForwardCtx<Attrs>, inputs: Tensor[], attrs: Attrs) => {
  const tmp = new Temps();
  try {
    const x = tmp.contig(inputs[0]);
    const mask = tmp.out(x.shape, x.dtype, x);
    const y = tmp.out(x.shape, x.dtype, x);
    native.cudaDropoutForward(dt(x), ...dev(x), x.numel, attrs.seed, attrs.p, ...dev(mask), ...dev(y));
    ctx.save(mask);
    return y;
  } finally {
    tmp.free();
  }
});

registerKernel('nn.dropout.backward', 'cuda', (ctx: BackwardCtx<Attrs>, [g]: (Tensor | null)[]) => {
  if (g === null) return [null];
  const mask = ctx.saved[0];
  const tmp = new Temps();
  try {
    return [tmp.like(g, mask).mul(mask)];
  } finally {
    tmp.free();
  }
});

import './nn-index.js';
