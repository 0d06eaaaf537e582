/**
 * The emulated CUDA device's race check (cuda/host/emu_order.h): the host emulator runs the
 * threads of each phase (and the blocks) forward, reversed or shuffled, and in 'check' mode runs
 * every launch in four orders and fails on any difference. Shown here on test-only kernels
 * (cuda/host/race_probe.h) with known races; every op family runs under the check in
 * tools/cuda-race-check.sh and in packages/tensor/test/cuda-race-order.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { addonPath, native } from '@nl/native';

const dev = native.cudaOpen(0, true);
// what NL_CUDA_EMU_ORDER set (tools/cuda-race-check.sh runs this file under 'check'); restored after each case
const initial = native.cudaEmuSetThreadOrder();
const ORDERS = ['forward', 'reverse', 'shuffle:1', 'shuffle:2'];
const N = 32;

function probe(kind: 0 | 1 | 2 | 3, order: string): Float32Array {
  const out = native.cudaAlloc(dev.id, N * 4, true);
  const before = native.cudaEmuSetThreadOrder(order);
  try {
    native.cudaEmuRaceProbe(kind, out, N);
    return (() => {
      const host = new Float32Array(N);
      native.cudaDownload(out, 0, host);
      return host;
    })();
  } finally {
    native.cudaEmuSetThreadOrder(before);
    native.cudaFree(out);
  }
}

afterEach(() => {
  expect(native.cudaEmuSetThreadOrder()).toBe(initial);
});

describe('emulator thread order', () => {
  it('a race-free kernel (shared memory across a barrier) gives the same bits in every order', () => {
    for (const order of ORDERS) {
      const out = probe(0, order);
      for (let t = 0; t < N; t++) expect(out[t]).toBe(((t + 1) % N) + 1);
    }
  });

  it('orders really differ: the last writer of a shared word is the last thread run', () => {
    expect(probe(1, 'forward')[0]).toBe(N - 1);
    expect(probe(1, 'reverse')[0]).toBe(0);
    const shuffled = [probe(1, 'shuffle:1')[0], probe(1, 'shuffle:2')[0]];
    expect(shuffled.some((v) => v !== N - 1)).toBe(true);
    expect(probe(1, 'shuffle:1')[0]).toBe(shuffled[0]); // a seed is one schedule
  });

  it('a missing barrier shows as order-dependent reads of shared memory', () => {
    // forward: thread t reads s[t + 1] before thread t + 1 wrote it (zeroed shared memory)
    const forward = probe(2, 'forward');
    for (let t = 0; t < N - 1; t++) expect(forward[t]).toBe(0);
    expect(forward[N - 1]).toBe(1);
    // reverse: every s[t + 1] was written first, except s[0] read by the last thread
    const reverse = probe(2, 'reverse');
    for (let t = 0; t < N - 1; t++) expect(reverse[t]).toBe(t + 2);
    expect(reverse[N - 1]).toBe(0);
  });

  it("'check' fails the launch of a racy kernel, naming it, and passes race-free and atomic ones", () => {
    expect(() => probe(1, 'check')).toThrow(
      /order-dependent result \(a race\) in kernel (nl::cuda::)?RaceProbeKernel/,
    );
    expect(() => probe(2, 'check')).toThrow(/order-dependent result.*reverse thread order/);
    const ok = probe(0, 'check');
    for (let t = 0; t < N; t++) expect(ok[t]).toBe(((t + 1) % N) + 1);
    // float atomic adds: rounding may differ between orders (tolerated), the sum may not
    const sum = probe(3, 'check')[0]!;
    expect(sum).toBeCloseTo((0.1 * N * (N + 1)) / 2, 3);
  });

  it('rejects an unknown order and keeps the one set', () => {
    expect(() => native.cudaEmuSetThreadOrder('sideways')).toThrow(/forward, reverse, shuffle:<seed>/);
    expect(() => native.cudaEmuSetThreadOrder('shuffle:x')).toThrow(/non-negative integer/);
    expect(native.cudaEmuSetThreadOrder()).toBe(initial);
  });
});

describe('NL_CUDA_EMU_ORDER', () => {
  const script = (body: string) =>
    `const n = require(${JSON.stringify(addonPath)}); try { const d = n.cudaOpen(0, true); ${body} } catch (e) { console.log('ERR ' + e.message); }`;
  const run = (order: string, body: string) =>
    spawnSync(process.execPath, ['-e', script(body)], {
      env: { ...process.env, NL_CUDA_EMU_ORDER: order },
      encoding: 'utf8',
    });

  it('sets the order when the emulated device opens', () => {
    const body =
      "const o = n.cudaAlloc(d.id, 16, true); n.cudaEmuRaceProbe(1, o, 4); const h = new Float32Array(1); n.cudaDownload(o, 0, h); console.log(n.cudaEmuSetThreadOrder() + ' ' + h[0]);";
    expect(run('reverse', body).stdout.trim()).toBe('reverse 0');
    expect(run('forward', body).stdout.trim()).toBe('forward 3');
    expect(run('check', body).stdout).toMatch(/ERR nl\.cudaEmuRaceProbe: order-dependent result/);
  });

  it('a bad value fails cudaOpen with a clear message', () => {
    expect(run('backwards', '').stdout).toMatch(/ERR nl\.cudaOpen: NL_CUDA_EMU_ORDER: thread order must be/);
  });
});
