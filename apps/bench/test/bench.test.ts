import { describe, expect, it } from 'vitest';
import { jsMatmul } from '../src/suites/gemm.js';
import { ortMatmul } from '../src/suites/onnx-matmul.js';
import { formatTable } from '../src/table.js';

describe('bench plumbing', () => {
  it('the ONNX MatMul model run by onnxruntime-node equals the JS loop', async () => {
    const [m, n, k] = [5, 7, 3];
    const a = Float32Array.from({ length: m * k }, (_, i) => Math.sin(i));
    const b = Float32Array.from({ length: k * n }, (_, i) => Math.cos(i));
    const want = new Float32Array(m * n);
    jsMatmul(a, b, want, m, n, k);
    const session = await ortMatmul(a, b, m, n, k, 1);
    const got = await session.run();
    await session.release();
    expect(got.length).toBe(m * n);
    for (let i = 0; i < m * n; i++) expect(got[i]).toBeCloseTo(want[i], 5);
  });

  it('formats rows into aligned columns with ratios', () => {
    const text = formatTable(
      [
        { suite: 's', case: '2x2', impl: 'a', rate: 12.345, unit: 'GFLOP/s', medianMs: 1.5, ratio: 1 },
        {
          suite: 's',
          case: '2x2',
          impl: 'bb',
          rate: null,
          unit: 'GFLOP/s',
          medianMs: null,
          ratio: null,
          note: 'skipped',
        },
      ],
      'vs a',
    );
    const lines = text.split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[2]).toContain('12.35');
    expect(lines[2]).toContain('1.00x');
    expect(lines[3]).toContain('skipped');
  });
});
