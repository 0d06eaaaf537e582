// hope.checkIds on 'cuda' (the emulated device without a GPU): the first id outside [0, V) is
// found on the device and named like the CPU kernel names it.
import { tensor } from '@nl/tensor';
import { enableCudaEmulation } from '@nl/tensor/testing';
import { describe, expect, it } from 'vitest';
import { checkIdTensor } from '../src/kernels/check-ids.js';

enableCudaEmulation();

describe('hope.checkIds on cuda', () => {
  it('passes good ids and names the first bad one as on the CPU', () => {
    for (const device of ['cpu', 'cuda'] as const) {
      const ok = tensor([0, 5, 9, 3], { dtype: 'int32', device, shape: [2, 2] });
      expect(() => checkIdTensor('batch', ok, 10)).not.toThrow();
      const bad = tensor([0, 5, 12, -1, 10], { dtype: 'int32', device });
      expect(() => checkIdTensor('batch', bad, 10)).toThrow(
        'batch: token id 12 at index 2 is outside [0, 10)',
      );
      const strided = tensor([1, 99, 2, -3], { dtype: 'int32', device, shape: [2, 2] }).t();
      expect(() => checkIdTensor('ids', strided, 50)).toThrow(
        'ids: token id 99 at index 2 is outside [0, 50)',
      );
    }
  });
});
