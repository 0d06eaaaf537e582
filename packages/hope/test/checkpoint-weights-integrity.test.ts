// loadWeights refuses weights that could only fail later with an unrelated message (issue 15):
// float bytes labelled I32 (the dtype differs from the model's tensor) and NaN / Inf weights,
// naming the file and the tensor; the model is left unchanged.
import { describe, expect, it } from 'vitest';
import { io, manualSeed, memory, nn } from '@nl/tensor';
import { CheckpointError, encodeWeights, loadWeights } from '../src/checkpoint/index.js';

function model(): nn.Linear {
  manualSeed(3);
  return new nn.Linear(3, 2);
}

describe('loadWeights integrity', () => {
  it('refuses float data labelled I32, naming the tensor and both dtypes', () => {
    const m = model();
    const { tensors } = io.decodeSafetensors(encodeWeights(m));
    const w = tensors.weight;
    const relabelled = io.encodeSafetensors({
      ...tensors,
      weight: {
        dtype: 'I32',
        shape: w.shape,
        data: new Int32Array((w.data as Float32Array).buffer.slice(0)),
      },
    });
    const before = Array.from(m.weight.dataSync());
    const n0 = memory().numTensors;
    expect(() => loadWeights(m, relabelled)).toThrow(CheckpointError);
    expect(() => loadWeights(m, relabelled)).toThrow(
      /'weight' is stored as int32 but the model's tensor is float32/,
    );
    expect(Array.from(m.weight.dataSync())).toEqual(before);
    expect(memory().numTensors).toBe(n0);
  });
  it('refuses NaN weights at load, naming the tensor and the element', () => {
    const m = model();
    const { tensors } = io.decodeSafetensors(encodeWeights(m));
    const bias = Float32Array.from(tensors.bias.data as Float32Array);
    bias[1] = NaN;
    const bad = io.encodeSafetensors({ ...tensors, bias: { dtype: 'F32', shape: [2], data: bias } });
    expect(() => loadWeights(m, bad)).toThrow(
      /model\.safetensors is not loadable: .*'bias' holds NaN at element 1/,
    );
  });
  it('still loads its own weights bit for bit', () => {
    const a = model();
    manualSeed(9);
    const b = new nn.Linear(3, 2);
    loadWeights(b, encodeWeights(a));
    expect(Array.from(b.weight.dataSync())).toEqual(Array.from(a.weight.dataSync()));
  });
});
