/**
 * The 'cuda' kernels of `memory.cms` / `memory.cmsObserve` (cms-fused.ts), composed of @nl/tensor
 * ops on the device (cuBLAS / tiled GEMMs and elementwise kernels): the same chunk algorithm as the
 * native CPU kernels (native/src/cpu/cms.h), so outputs, saved tensors and gradients have the same
 * layout. Nothing is read back to the host: the schedule arrives as host integers in the attributes.
 * A dedicated CUDA kernel would fuse the elementwise epilogues (silu, residual, probe) into the
 * GEMM tiles; this version launches them as separate ops.
 */
import {
  add,
  matmul,
  mul,
  narrow,
  reshape,
  select,
  sigmoid,
  stack,
  sub,
  sum,
  tidy,
  transpose,
  zeros,
  type Tensor,
} from '@nl/tensor';
import { registerKernel } from '@nl/tensor/internal';
import type { CmsObserveAttrs, CmsOpAttrs } from './cms-fused.js';

/** The op inputs split by role (as cms-fused.ts). */
function split(ins: readonly Tensor[], a: CmsOpAttrs) {
  const L = a.levels;
  const at = (k: number) => ins.slice(1 + k * L, 1 + (k + 1) * L);
  let i = 1 + 4 * L;
  const agg = a.independent ? ins[i++]! : null;
  const probe = a.probe ? ins[i++]! : null;
  return { x: ins[0]!, w1: at(0), d1: at(1), w2: at(2), d2: at(3), agg, probe };
}

const mT = (t: Tensor): Tensor => transpose(t, 0, 1);
/** silu'(h) from h and s = sigmoid(h). */
const dsilu = (h: Tensor, s: Tensor): Tensor => mul(s, add(mul(h, sub(1, s)), 1));

function forwardCuda(_ctx: unknown, inputs: Tensor[], a: CmsOpAttrs): Tensor[] {
  const s = split(inputs, a);
  const [B, T, D] = s.x.shape as [number, number, number];
  const L = a.levels;
  const x = reshape(s.x, [B * T, D]); // [N, D]
  const w1e = s.w1.map((w, l) => add(w, s.d1[l]!)); // θ0 + Δ (A11)
  const w2e = s.w2.map((w, l) => add(w, s.d2[l]!));
  const xs: Tensor[] = [];
  const hs: Tensor[] = [];
  const ss: Tensor[] = [];
  let cur = x;
  let out: Tensor | null = null;
  for (let l = 0; l < L; l++) {
    const input = a.independent ? x : cur;
    xs.push(input);
    const h = matmul(input, mT(w1e[l]!)); // [N, Dh]
    const sg = sigmoid(h);
    hs.push(h);
    ss.push(sg);
    let y = add(input, matmul(mul(h, sg), mT(w2e[l]!))); // [N, D]
    if (s.probe) y = add(y, reshape(select(s.probe, 0, l), [B * T, D]));
    if (a.independent) {
      const term = mul(y, narrow(s.agg!, 0, l, 1));
      out = out === null ? term : add(out, term);
    } else cur = y;
  }
  const Dh = w1e[0]!.shape[0]!;
  const res = [
    reshape(a.independent ? out! : cur, [B, T, D]).contiguous(),
    reshape(stack(hs, 0), [L, B, T, Dh]),
    reshape(stack(ss, 0), [L, B, T, Dh]),
    stack(w1e, 0),
    stack(w2e, 0),
  ];
  if (!a.independent) res.push(reshape(stack(xs, 0), [L, B, T, D]));
  return res;
}

function backwardCuda(
  ctx: {
    inputs: readonly Tensor[];
    outputs: readonly Tensor[];
    attrs: CmsOpAttrs;
    needsInputGrad: readonly boolean[];
  },
  grads: (Tensor | null)[],
): (Tensor | null)[] {
  return tidy(() => {
    const a = ctx.attrs;
    const s = split(ctx.inputs, a);
    const [B, T, D] = s.x.shape as [number, number, number];
    const L = a.levels;
    const N = B * T;
    const [, hsAll, ssAll, w1eAll, w2eAll, xsAll] = ctx.outputs as Tensor[];
    const Dh = hsAll!.shape[3]!;
    const lvl = (t: Tensor, l: number, cols: number) => reshape(select(t, 0, l), [N, cols]);
    const dy = grads[0]
      ? reshape(grads[0], [N, D])
      : zeros([N, D], { dtype: s.x.dtype as 'float32', device: s.x.device });
    const dw1: Tensor[] = new Array<Tensor>(L);
    const dw2: Tensor[] = new Array<Tensor>(L);
    const dprobe: Tensor[] = new Array<Tensor>(L);
    const dagg: Tensor[] = [];
    let dx: Tensor;
    if (!a.independent) {
      let g = dy; // ∂L/∂y_ℓ down the chain
      for (let l = L - 1; l >= 0; l--) {
        const h = lvl(hsAll!, l, Dh);
        const sg = lvl(ssAll!, l, Dh);
        dprobe[l] = g;
        const u = mul(matmul(g, select(w2eAll!, 0, l)), dsilu(h, sg)); // gh [N, Dh]
        dw2[l] = matmul(mT(g), mul(h, sg));
        dw1[l] = matmul(mT(u), lvl(xsAll!, l, D));
        g = add(g, matmul(u, select(w1eAll!, 0, l)));
      }
      dx = g;
    } else {
      const x = reshape(s.x, [N, D]);
      dx = mul(dy, sum(s.agg!));
      for (let l = 0; l < L; l++) {
        const h = lvl(hsAll!, l, Dh);
        const sg = lvl(ssAll!, l, Dh);
        const w = narrow(s.agg!, 0, l, 1);
        const act = mul(h, sg);
        const u0 = matmul(dy, select(w2eAll!, 0, l)); // [N, Dh]
        const xin = s.probe ? add(x, lvl(s.probe, l, D)) : x;
        dagg.push(add(sum(mul(xin, dy)), sum(mul(act, u0))));
        dprobe[l] = mul(dy, w);
        const u = mul(mul(u0, w), dsilu(h, sg));
        dw2[l] = mul(matmul(mT(dy), act), w);
        dw1[l] = matmul(mT(u), x);
        dx = add(dx, matmul(u, select(w1eAll!, 0, l)));
      }
    }
    const need = ctx.needsInputGrad;
    const out: (Tensor | null)[] = [reshape(dx, [B, T, D]).contiguous()];
    for (let l = 0; l < L; l++) out.push(need[1 + l] ? dw1[l]! : null);
    for (let l = 0; l < L; l++) out.push(null); // Δ1: no gradient (first order, A11)
    for (let l = 0; l < L; l++) out.push(need[1 + 2 * L + l] ? dw2[l]! : null);
    for (let l = 0; l < L; l++) out.push(null); // Δ2
    if (a.independent) out.push(stack(dagg, 0));
    if (s.probe) out.push(reshape(stack(dprobe, 0), [L, B, T, D]));
    return out;
  });
}

/** Level l's events in processing order: its fires and (nested) the fires of slower levels. */
export function cmsEvents(a: CmsObserveAttrs, l: number, T: number): { pos: number; reset: boolean }[] {
  const ev: { pos: number; level: number; reset: boolean }[] = [];
  a.chunkSizes.forEach((c, j) => {
    const self = j === l;
    if (!self && !(a.nested && c > a.chunkSizes[l]!)) return;
    for (let p = c - a.pending[j]!; p <= T; p += c) ev.push({ pos: p, level: j, reset: !self });
  });
  return ev.sort((x, y) => x.pos - y.pos || x.level - y.level);
}

function observeCuda(_ctx: unknown, inputs: Tensor[], a: CmsObserveAttrs): Tensor[] {
  const L = a.chunkSizes.length;
  const [xin, hsAll, ssAll, w2eAll, err] = inputs as Tensor[];
  const st = inputs.slice(5, 5 + 4 * L); // (any trailing CPU-backward increments are not used here)
  const [, B, T, Dh] = hsAll!.shape as [number, number, number, number];
  const D = err!.shape[3]!;
  const d1 = st.slice(0, L);
  const d2 = st.slice(L, 2 * L);
  const g1 = st.slice(2 * L, 3 * L);
  const g2 = st.slice(3 * L, 4 * L);
  for (let l = 0; l < L; l++) {
    const h = select(hsAll!, 0, l); // [B, T, Dh]
    const sg = select(ssAll!, 0, l);
    const e = select(err!, 0, l); // [B, T, D]
    const xl = a.independent ? xin! : select(xin!, 0, l);
    const act = mul(h, sg);
    const gh = mul(matmul(e, select(w2eAll!, 0, l)), dsilu(h, sg)); // [B, T, Dh]
    const rows = (t: Tensor, p0: number, n: number, c: number) => reshape(narrow(t, 1, p0, n), [B * n, c]);
    const accumulate = (p0: number, p1: number) => {
      if (p1 <= p0) return;
      const n = p1 - p0;
      g2[l] = add(g2[l]!, matmul(mT(rows(e, p0, n, D)), rows(act, p0, n, Dh)));
      g1[l] = add(g1[l]!, matmul(mT(rows(gh, p0, n, Dh)), rows(xl, p0, n, D)));
    };
    let from = 0;
    for (const ev of cmsEvents(a, l, T)) {
      if (ev.reset) {
        d1[l] = zeros([...d1[l]!.shape], { dtype: d1[l]!.dtype as 'float32', device: d1[l]!.device });
        d2[l] = zeros([...d2[l]!.shape], { dtype: d2[l]!.dtype as 'float32', device: d2[l]!.device });
        continue;
      }
      accumulate(from, ev.pos);
      from = ev.pos;
      d1[l] = sub(d1[l]!, mul(g1[l]!, a.lrs[l]!));
      d2[l] = sub(d2[l]!, mul(g2[l]!, a.lrs[l]!));
      g1[l] = zeros([...g1[l]!.shape], { dtype: g1[l]!.dtype as 'float32', device: g1[l]!.device });
      g2[l] = zeros([...g2[l]!.shape], { dtype: g2[l]!.dtype as 'float32', device: g2[l]!.device });
    }
    accumulate(from, T);
  }
  return [...d1, ...d2, ...g1, ...g2];
}

registerKernel('memory.cms.forward', 'cuda', forwardCuda);
registerKernel('memory.cms.backward', 'cuda', backwardCuda);
registerKernel('memory.cmsObserve.forward', 'cuda', observeCuda);
