// Device pieces outside the per-optimizer table: gradient clipping and zeroGrad on 'sim' (no
// transfer, norm returned as a device tensor, same numbers as the host path), Newton–Schulz on
// tensors (the registry kernel and the GEMM composition a backend without it gets), DMGD's inner
// loss on the device, state that lives on the parameter's device.
import { describe, expect, it } from 'vitest';
import { tensor, Tensor } from '@nl/tensor';
import { enableSimDevice, resetSimTransfers, simTransfers } from '@nl/tensor/testing';
import { clipGradNorm, DMGD, M3, newtonSchulz, newtonSchulzTensor, SGD } from '../src/index.js';
import { copyGrads, deviceQuadratic, hostTwins } from './device-helpers.js';
import { rng } from './helpers.js';

enableSimDevice();

describe('clipGradNorm on devices', () => {
  for (const maxNorm of [0.5, 1e3]) {
    it(`sim == cpu == host arrays, norm as a device tensor, no transfer (maxNorm ${maxNorm})`, () => {
      const c = deviceQuadratic(3, 'cpu', 'float64');
      const s = deviceQuadratic(3, 'sim', 'float64');
      const host = hostTwins(3, 'float64');
      c.backward();
      s.backward();
      copyGrads(c.params, host);
      const nc = clipGradNorm(c.params, maxNorm);
      resetSimTransfers();
      const ns = clipGradNorm(s.params, maxNorm);
      expect(simTransfers()).toEqual({ uploads: 0, uploadBytes: 0, downloads: 0, downloadBytes: 0 });
      const nh = clipGradNorm(host, maxNorm);
      expect(ns).toBeInstanceOf(Tensor);
      expect(ns.device).toBe('sim');
      expect(ns.shape).toEqual([]);
      expect(ns.dtype).toBe('float64');
      resetSimTransfers();
      expect(ns.item()).toBe(nh); // reading it: one scalar download
      expect(simTransfers().downloads).toBe(1);
      expect(nc.item()).toBe(nh);
      const grads = (ps: Tensor[]) => ps.map((p) => Array.from(p.grad!.dataSync()));
      expect(grads(s.params)).toEqual(grads(c.params));
      expect(grads(c.params)).toEqual(host.map((p) => Array.from(p.gradView!)));
      if (maxNorm < nh) expect(Math.hypot(...grads(s.params).flat())).toBeCloseTo(maxNorm, 6);
      [nc, ns].forEach((t) => t.dispose());
      [c, s].forEach((q) => q.dispose());
    });
  }

  it('rejects parameters on different devices, naming both', () => {
    const a = tensor([1], { device: 'cpu' });
    const b = tensor([1], { device: 'sim' });
    expect(() => clipGradNorm([a, b], 1)).toThrow(/parameter 0 is on 'cpu' and parameter 1 on 'sim'/);
  });
});

describe('zeroGrad on sim', () => {
  it('zeroes the gradients in place on the device, no transfer', () => {
    const q = deviceQuadratic(4, 'sim', 'float32');
    q.backward();
    const grads = q.params.map((p) => p.grad!);
    const opt = new SGD(q.params, { lr: 0.1 });
    resetSimTransfers();
    opt.zeroGrad();
    expect(simTransfers().downloads + simTransfers().uploads).toBe(0);
    q.params.forEach((p, i) => {
      expect(p.grad).toBe(grads[i]); // same tensors
      expect(Array.from(p.grad!.dataSync()).every((v) => v === 0)).toBe(true);
    });
    q.dispose();
  });
});

describe('Newton–Schulz on tensors', () => {
  const r = rng(9);
  const shapes: Array<[number, number, number]> = [
    [3, 5, 8],
    [2, 9, 4],
  ];
  for (const [batch, rows, cols] of shapes) {
    const data = Float64Array.from({ length: batch * rows * cols }, () => r());
    it(`the registry kernel equals the host native call bit for bit, on cpu and sim (${batch}x${rows}x${cols})`, () => {
      const want = newtonSchulz(data, rows, cols, { batch, steps: 5 });
      for (const device of ['cpu', 'sim'] as const) {
        const x = tensor(data, { shape: [batch, rows, cols], device });
        resetSimTransfers();
        const y = newtonSchulzTensor(x, { steps: 5 });
        expect(simTransfers().downloads).toBe(0);
        expect(Array.from(y.dataSync())).toEqual(Array.from(want));
        x.dispose();
        y.dispose();
      }
    });
    it(`the GEMM composition (a backend without optim.newtonSchulz) matches it, with no transfer on sim (${batch}x${rows}x${cols})`, () => {
      const want = newtonSchulz(data, rows, cols, { batch, steps: 5 });
      const x = tensor(data, { shape: [batch, rows, cols], device: 'sim' });
      const out = tensor(new Float64Array(data.length), { shape: [batch, rows, cols], device: 'sim' });
      resetSimTransfers();
      newtonSchulzTensor(x, { steps: 5, useKernel: false, out });
      expect(simTransfers().downloads + simTransfers().uploads).toBe(0);
      const got = out.dataSync();
      let worst = 0;
      got.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - want[i]!))));
      expect(worst).toBeLessThan(1e-10);
      x.dispose();
      out.dispose();
    });
  }
});

describe('device state', () => {
  it('M3 state tensors live on the parameter device; DMGD inner loss is a device tensor equal to the host one', () => {
    const s = deviceQuadratic(5, 'sim', 'float64');
    const host = hostTwins(5, 'float64');
    const m3 = new M3(s.params, { frequency: 2 });
    const dmgdS = new DMGD(s.params, { hidden: 4 });
    const dmgdH = new DMGD(host, { hidden: 4 });
    for (let t = 0; t < 3; t++) {
      m3.zeroGrad();
      s.backward();
      copyGrads(s.params, host);
      resetSimTransfers();
      dmgdS.step();
      expect(simTransfers().downloads).toBe(0);
      dmgdH.step();
    }
    expect(s.values()).toEqual(host.map((p) => Array.from(p.view)));
    m3.step();
    for (const v of Object.values(m3.state.get(s.params[0]!)!))
      if (typeof v !== 'number') expect((v as Tensor).device).toBe('sim');
    for (const p of s.params.keys()) {
      const lt = dmgdS.lastInnerLossTensor.get(s.params[p]!)!;
      expect(lt.device).toBe('sim');
      expect(lt.item()).toBe(dmgdH.lastInnerLoss.get(host[p]!));
    }
    m3.dispose();
    dmgdS.dispose();
    s.dispose();
  });
});

describe('no leaks', () => {
  it('after the first step, step() / zeroGrad() / clipGradNorm leave the live tensor count unchanged', async () => {
    const { memory } = await import('@nl/tensor');
    const { Adam, AdamW, DeltaMomentum, Muon, PreconditionedMomentum, rmsPreconditioner } = await import(
      '../src/index.js'
    );
    const makers = [
      (p: Tensor[]) => new SGD(p, { momentum: 0.9 }),
      (p: Tensor[]) => new Adam(p, { amsgrad: true }),
      (p: Tensor[]) => new AdamW(p, { fused: true }),
      (p: Tensor[]) => new Muon(p),
      (p: Tensor[]) => new Muon(p, { impl: 'reference' }),
      (p: Tensor[]) => new DeltaMomentum(p),
      (p: Tensor[]) => new PreconditionedMomentum(p, { preconditioner: rmsPreconditioner() }),
      (p: Tensor[]) => new DMGD(p, { hidden: 4 }),
      (p: Tensor[]) => new M3(p, { frequency: 2 }),
    ];
    for (const make of makers) {
      const q = deviceQuadratic(6, 'sim', 'float32');
      const opt = make(q.params);
      const once = () => {
        opt.zeroGrad();
        q.backward();
        clipGradNorm(q.params, 0.1).dispose();
        opt.step();
      };
      once();
      const before = memory().numTensors;
      for (let t = 0; t < 4; t++) once();
      expect(memory().numTensors).toBe(before);
      opt.dispose();
      q.dispose();
    }
  });
});
