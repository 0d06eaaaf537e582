/**
 * The optimizer kernels of the 'cuda' device (the `optim.*` signatures of ./types.ts, the
 * arithmetic of the CPU kernels next to this file): elementwise updates in double with state
 * stores rounded to their dtype (native/src/cuda/kernels/optim.h), Adam(W) as multi-tensor
 * launches (16 tensors each), the others one launch per tensor;
 * reductions (gradient norms) stay on the device as float64 scalars; Newton–Schulz and delta
 * momentum's products run on the CUDA GEMM. M3 and DMGD: ./cuda-state.ts. Nothing reads device
 * memory back, except a preconditioned-momentum group whose preconditioner is a host function
 * other than the identity (it runs on the host between a download and an upload).
 */
import { native } from '@nl/native';
import { keep, tensor, Tensor, zeros } from '@nl/tensor';
import { registerKernel } from '@nl/tensor/internal';
import { identityPreconditioner, preconditionedMomentumStep } from '../preconditioned.js';
import { asMatrix, type FloatArray } from '../param.js';
import type { ParamState } from '../optimizer.js';
import {
  EW,
  ew,
  ewMulti,
  type EwPart,
  gemm,
  newtonSchulzCuda,
  readAs,
  span,
  sumSquares,
  withScratch,
  type FloatDType,
} from './cuda-util.js';
import {
  OPTIM_KERNELS,
  type AdamKernel,
  type ClipGradNormKernel,
  type DeltaMomentumKernel,
  type MuonApplyKernel,
  type MuonMomentumKernel,
  type MuonReferenceKernel,
  type NewtonSchulzKernel,
  type PreconditionedMomentumKernel,
  type SgdKernel,
} from './types.js';
import './cuda-state.js';

const dtypeOf = (t: Tensor) => t.dtype as FloatDType;

const sgdCuda: SgdKernel = (params, grads, bufs, first, o) => {
  params.forEach((p, i) =>
    withScratch(p, (s) => {
      const P = span(p);
      const buf = bufs[i] ? span(bufs[i]!) : null;
      const h = [o.lr, o.momentum, o.dampening, o.weightDecay];
      ew(EW.sgd, P.dt, p.numel, [P, readAs(grads[i]!, dtypeOf(p), s), buf], h, [
        o.nesterov,
        o.maximize,
        first[i]!,
      ]);
    }),
  );
};

// Multi-tensor: the whole group in ceil(L / 16) launches per dtype (per-tensor step sizes).
const adamCuda: AdamKernel = (params, grads, expAvg, expAvgSq, maxExpAvgSq, steps, o, decoupled) => {
  if (params.length === 0) return;
  const [beta1, beta2] = o.betas;
  withScratch(params[0]!, (s) => {
    const byDtype = new Map<number, EwPart[]>();
    params.forEach((p, i) => {
      const step = steps[i]!;
      const stepSize = o.lr / (1 - beta1 ** step);
      const bc2Sqrt = Math.sqrt(1 - beta2 ** step);
      const vmax = o.amsgrad && maxExpAvgSq[i] ? span(maxExpAvgSq[i]!) : null;
      const P = span(p);
      const operands = [P, readAs(grads[i]!, dtypeOf(p), s), span(expAvg[i]!), span(expAvgSq[i]!), vmax];
      const h = [o.lr, beta1, beta2, o.eps, o.weightDecay, stepSize, bc2Sqrt];
      const list = byDtype.get(P.dt) ?? [];
      list.push({ ops: operands, n: p.numel, h });
      byDtype.set(P.dt, list);
    });
    for (const [dt, parts] of byDtype)
      ewMulti(EW.adam, dt as 0 | 1, parts, [decoupled, o.amsgrad, o.maximize]);
  });
};

const muonMomentumCuda: MuonMomentumKernel = (grads, bufs, out, o) => {
  const n = out.numel / Math.max(1, grads.length);
  const stack = span(out);
  withScratch(out, (s) =>
    grads.forEach((g, b) => {
      const G = readAs(g, dtypeOf(out), s);
      ew(EW.muonMomentum, stack.dt, n, [G, span(bufs[b]!), { ...stack, off: stack.off + b * n }], [o.momentum], [o.nesterov]); // prettier-ignore
    }),
  );
};

const newtonSchulzKernel: NewtonSchulzKernel = (x, rows, cols, steps) => {
  const batch = x.numel / (rows * cols);
  withScratch(x, (s) => newtonSchulzCuda(s, span(x), dtypeOf(x), batch, rows, cols, steps));
};

const muonApplyCuda: MuonApplyKernel = (params, out, scale, o) => {
  const n = out.numel / Math.max(1, params.length);
  const stack = span(out);
  const decay = 1 - o.lr * o.weightDecay;
  params.forEach((p, b) => {
    const P = span(p);
    ew(EW.muonApply, P.dt, n, [P, { ...stack, off: stack.off + b * n }], [scale, o.lr, decay]);
  });
};

/**
 * The float64-reference Muon step, parameter by parameter: momentum into a stack of the
 * parameter dtype (as momentumInput), Newton–Schulz in float64, the scaled direction, the apply.
 */
const muonReferenceCuda: MuonReferenceKernel = (params, grads, bufs, o) => {
  params.forEach((p, i) =>
    withScratch(p, (s) => {
      const { rows, cols } = asMatrix(p.shape);
      const n = p.numel;
      const dt = dtypeOf(p);
      const u = s.alloc(dt, n);
      ew(EW.muonMomentum, u.dt, n, [readAs(grads[i]!, dt, s), span(bufs[i]!), u], [o.momentum], [o.nesterov]);
      const x64 = dt === 'float64' ? u : s.alloc('float64', n);
      if (x64 !== u) native.cudaCopy(x64.ptr, x64.dt, [n], u.ptr, u.dt, 0, [1]);
      newtonSchulzCuda(s, x64, 'float64', 1, rows, cols, o.nsSteps);
      if (x64 !== u) native.cudaCopy(u.ptr, u.dt, [n], x64.ptr, x64.dt, 0, [1]);
      const scale = Math.sqrt(Math.max(1, rows / cols));
      const P = span(p);
      ew(EW.muonApply, P.dt, n, [P, u], [scale, o.lr, 1 - o.lr * o.weightDecay]);
    }),
  );
};

/** m ← m(αI − λ ĝᵀĝ) − ηg with the two products on the float64 GEMM; W ← W(1 − η·wd) + m. */
const deltaMomentumCuda: DeltaMomentumKernel = (params, grads, bufs, o) => {
  params.forEach((p, i) =>
    withScratch(p, (s) => {
      const { rows, cols } = asMatrix(p.shape);
      const n = p.numel;
      const dt = dtypeOf(p);
      const P = span(p);
      const G = readAs(grads[i]!, dt, s);
      const M = span(bufs[i]!);
      let E = null;
      let ss = null;
      if (o.erase !== 0 && n > 0) {
        const g64 = readAs(grads[i]!, 'float64', s);
        const m64 = readAs(bufs[i]!, 'float64', s);
        const K = s.alloc('float64', rows * rows);
        E = s.alloc('float64', n);
        gemm(1, false, true, rows, rows, cols, 1, m64, cols, 0, g64, cols, 0, 0, K, rows, 0); // K = m gᵀ
        gemm(1, false, false, rows, cols, rows, 1, K, rows, 0, g64, cols, 0, 0, E, cols, 0); // E = K g
        if (o.normalize) {
          ss = s.alloc('float64', 1);
          sumSquares(s, [{ at: G, n }], ss);
        }
      }
      const h = [o.momentum, o.erase, o.lr, 1 - o.lr * o.weightDecay];
      ew(EW.delta, P.dt, n, [P, G, M, E], h, [o.normalize], ss);
    }),
  );
};

/**
 * Preconditioned momentum: the identity and `rmsPreconditioner` on the device (the latter's v
 * a float64 [numel] state tensor, as the CPU kernel adopts it); any other preconditioner on the host.
 */
const preconditionedCuda: PreconditionedMomentumKernel = (params, grads, states, o) => {
  const rms = (o.preconditioner as { rms?: { beta2: number; eps: number } }).rms;
  params.forEach((p, i) => {
    const s = states[i]!;
    // the CPU kernel adopts its buffers as [numel] tensors
    if (!s.momentumBuffer) s.momentumBuffer = keep(zeros([p.numel], { dtype: p.dtype, device: p.device }));
    const pcV = s.pcV;
    const rmsOnDevice =
      rms !== undefined && (pcV === undefined || (pcV instanceof Tensor && pcV.dtype === 'float64'));
    if (o.preconditioner !== identityPreconditioner && !rmsOnDevice)
      return preconditionedOnHost(p, grads[i]!, s, o);
    withScratch(p, (sc) => {
      const P = span(p);
      const G = readAs(grads[i]!, dtypeOf(p), sc);
      const M = span(s.momentumBuffer as Tensor);
      const decay = 1 - o.lr * o.weightDecay;
      if (!rmsOnDevice) return ew(EW.delta, P.dt, p.numel, [P, G, M, null], [o.momentum, 0, o.lr, decay]);
      if (!s.pcV) {
        s.pcV = keep(zeros([p.numel], { dtype: 'float64', device: p.device }));
        s.pcStep = 0;
      }
      const t = (s.pcStep as number) + 1;
      s.pcStep = t;
      const h = [o.momentum, o.lr, decay, rms.beta2, 1 - rms.beta2 ** t, rms.eps];
      ew(EW.precondRms, P.dt, p.numel, [P, G, M, span(s.pcV as Tensor)], h);
    });
  });
};

const download = (t: Tensor): FloatArray => t.dataSync() as FloatArray;
const upload = (t: Tensor, a: FloatArray) => {
  const S = span(t);
  if (a.length > 0) native.cudaUpload(S.ptr, S.off * a.BYTES_PER_ELEMENT, a);
};

/** A host preconditioner: state and gradient downloaded, the step on the host, results uploaded. */
function preconditionedOnHost(
  p: Tensor,
  g: Tensor,
  s: ParamState,
  o: Parameters<PreconditionedMomentumKernel>[3],
): void {
  const host: ParamState = {};
  for (const [k, v] of Object.entries(s)) host[k] = v instanceof Tensor ? download(v) : v;
  const view = download(p);
  preconditionedMomentumStep(view, p.shape, download(g), host, o, 'PreconditionedMomentum');
  upload(p, view);
  for (const [k, v] of Object.entries(host)) {
    const cur = s[k];
    if (typeof v === 'number' || v instanceof Tensor) s[k] = v;
    else if (
      cur instanceof Tensor &&
      cur.numel === v.length &&
      cur.dtype === (v instanceof Float32Array ? 'float32' : 'float64')
    )
      upload(cur, v);
    else {
      if (cur instanceof Tensor) cur.dispose();
      s[k] = keep(tensor(v, { shape: [v.length], device: p.device }));
    }
  }
}

/** total ← ‖all grads‖₂ (device reduction); every grad scaled by maxNorm/(total + 1e-6) when < 1. */
const clipCuda: ClipGradNormKernel = (grads, maxNorm, total) => {
  withScratch(total, (s) => {
    const gs = grads.map((g) => ({ at: span(g), n: g.numel }));
    const T = span(total);
    sumSquares(s, gs, T, true);
    for (const { at, n } of gs) ew(EW.clipScale, at.dt, n, [at], [maxNorm], [], T);
  });
};

registerKernel(OPTIM_KERNELS.sgd, 'cuda', sgdCuda);
registerKernel(OPTIM_KERNELS.adam, 'cuda', adamCuda);
registerKernel(OPTIM_KERNELS.muonMomentum, 'cuda', muonMomentumCuda);
registerKernel(OPTIM_KERNELS.newtonSchulz, 'cuda', newtonSchulzKernel);
registerKernel(OPTIM_KERNELS.muonApply, 'cuda', muonApplyCuda);
registerKernel(OPTIM_KERNELS.muonReference, 'cuda', muonReferenceCuda);
registerKernel(OPTIM_KERNELS.deltaMomentum, 'cuda', deltaMomentumCuda);
registerKernel(OPTIM_KERNELS.preconditionedMomentum, 'cuda', preconditionedCuda);
registerKernel(OPTIM_KERNELS.clipGradNorm, 'cuda', clipCuda);
