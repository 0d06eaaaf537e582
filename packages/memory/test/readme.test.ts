/** The README's Devices snippet, as written there (plus the assertions it states in comments). */
import { describe, expect, it } from 'vitest';
import { manualSeed, tensor } from '@nl/tensor';
import { enableSimDevice, resetSimTransfers, simTransfers } from '@nl/tensor/testing';
import { TitansMemory, setDebugChecks } from '@nl/memory';
import { checkSeq } from '@nl/memory/internal';

describe('README', () => {
  it('Devices: a fused Titans memory on sim, forward + backward with zero downloads', () => {
    enableSimDevice();
    manualSeed(1);
    const mem = new TitansMemory({ heads: 2, dk: 4, dv: 4, chunkSize: 4, impl: 'fused' });
    mem.to('sim');
    const x = tensor(new Float32Array(1 * 8 * 2 * 4).fill(0.5), { shape: [1, 8, 2, 4], device: 'sim', requiresGrad: true }); // prettier-ignore
    resetSimTransfers();
    const o = mem.forward(x, x, x); // fused Titans MLP kernel on 'sim'
    o.sum().backward();
    expect(simTransfers().downloads).toBe(0);
    expect(o.device).toBe('sim');
    expect(x.grad!.device).toBe('sim');
    setDebugChecks(true);
    setDebugChecks(false);
  });

  it('Entry points: the check helpers live behind @nl/memory/internal, not the root', async () => {
    expect(checkSeq('m', 'x', tensor(new Float32Array(8), { shape: [1, 2, 2, 2] }), 2, 2)).toEqual([1, 2]);
    const root = (await import('@nl/memory')) as Record<string, unknown>;
    for (const name of [
      'checkSeq',
      'checkGates',
      'checkKV',
      'checkChunk',
      'checkArray',
      'allocLike',
      'fusedSelfMod',
    ])
      expect(root[name], name).toBeUndefined();
    expect(typeof root.setDebugChecks).toBe('function');
  });
});
