/**
 * Suite `gemm-shapes`: f32 GEMM beyond the square A·B table of suite `gemm` —
 *   - transposed operands at 1024 (A^T·B, A·B^T, A^T·B^T): the transpose is absorbed by packing, so
 *     the rate should match plain A·B (no operand is copied whole);
 *   - batched small products, one call each: 64 x [64x64]·[64x64] and 16 x [256x64]·[64x256]
 *     (attention-score-like: 16 heads of Q[256,64]·K^T-shaped [64,256]);
 *   - a matrix-vector product x[1, 1024]·W^T (batch-1 inference through a Linear layer).
 * Ratios are to @nl/native's plain A·B rate at 1024 measured in the same run. onnxruntime-node runs
 * the same shapes (Transpose + MatMul, which ORT fuses; batched MatMul) for comparison, and every
 * native result is checked against ORT's.
 */
import { gemm, numThreads } from '@nl/native';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { measure, type Row } from '../harness.js';
import { maxRelDiff, randomF32 } from './gemm.js';

const { onnx } = onnxProto;

export interface GemmShape {
  label: string;
  batch: number;
  m: number;
  n: number;
  k: number;
  transA: boolean;
  transB: boolean;
}

function valueInfo(name: string, dims: number[]) {
  return onnx.ValueInfoProto.create({
    name,
    type: onnx.TypeProto.create({
      tensorType: onnx.TypeProto.Tensor.create({
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: onnx.TensorShapeProto.create({
          dim: dims.map((d) => onnx.TensorShapeProto.Dimension.create({ dimValue: d })),
        }),
      }),
    }),
  });
}

/** Operand dims as stored: A is [batch?, m, k] or [batch?, k, m] with transA (likewise B). */
function dims(s: GemmShape): { a: number[]; b: number[]; y: number[] } {
  const lead = s.batch > 1 ? [s.batch] : [];
  return {
    a: [...lead, ...(s.transA ? [s.k, s.m] : [s.m, s.k])],
    b: [...lead, ...(s.transB ? [s.n, s.k] : [s.k, s.n])],
    y: [...lead, s.m, s.n],
  };
}

/** Serialised ONNX model: Y = op(A)·op(B), op = Transpose of the last two dims where asked. */
export function gemmShapeModel(s: GemmShape): Uint8Array {
  const d = dims(s);
  const perm = s.batch > 1 ? [0, 2, 1] : [1, 0];
  const transpose = (input: string, output: string) =>
    onnx.NodeProto.create({
      opType: 'Transpose',
      input: [input],
      output: [output],
      name: `t_${input}`,
      attribute: [
        onnx.AttributeProto.create({
          name: 'perm',
          type: onnx.AttributeProto.AttributeType.INTS,
          ints: perm,
        }),
      ],
    });
  const node = [];
  if (s.transA) node.push(transpose('A', 'At'));
  if (s.transB) node.push(transpose('B', 'Bt'));
  node.push(
    onnx.NodeProto.create({
      opType: 'MatMul',
      input: [s.transA ? 'At' : 'A', s.transB ? 'Bt' : 'B'],
      output: ['Y'],
      name: 'mm',
    }),
  );
  const graph = onnx.GraphProto.create({
    name: 'gemm_shape',
    node,
    input: [valueInfo('A', d.a), valueInfo('B', d.b)],
    output: [valueInfo('Y', d.y)],
  });
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'nl-bench',
    opsetImport: [onnx.OperatorSetIdProto.create({ domain: '', version: 13 })],
    graph,
  });
  return onnx.ModelProto.encode(model).finish();
}

export interface GemmShapesOptions {
  /** Size of the square reference product and of the transposed cases. */
  size: number;
  batched: GemmShape[];
  timeMs: number;
}

/** The batched shapes of the full run (the quick run passes fewer products). */
export const BATCHED_SHAPES: GemmShape[] = [
  { label: '64 x [64x64]·[64x64]', batch: 64, m: 64, n: 64, k: 64, transA: false, transB: false },
  { label: '16 x [256x64]·[64x256]', batch: 16, m: 256, n: 256, k: 64, transA: false, transB: false },
];

export async function gemmShapesSuite(opts: GemmShapesOptions): Promise<Row[]> {
  const threads = numThreads();
  const s = opts.size;
  const shapes: GemmShape[] = [
    { label: `${s}² A·B`, batch: 1, m: s, n: s, k: s, transA: false, transB: false },
    { label: `${s}² A^T·B`, batch: 1, m: s, n: s, k: s, transA: true, transB: false },
    { label: `${s}² A·B^T`, batch: 1, m: s, n: s, k: s, transA: false, transB: true },
    { label: `${s}² A^T·B^T`, batch: 1, m: s, n: s, k: s, transA: true, transB: true },
    ...opts.batched,
    // Batch-1 inference shape (x[1, s] · W^T with W [s, s]): memory-bound, the small-m path.
    { label: `[1x${s}]·[${s}x${s}]^T`, batch: 1, m: 1, n: s, k: s, transA: false, transB: true },
  ];
  const rows: Row[] = [];
  let baseRate = 0;
  for (const sh of shapes) {
    const { batch, m, n, k, transA, transB } = sh;
    const flops = 2 * batch * m * n * k;
    const gflops = (ms: number) => flops / (ms * 1e-3) / 1e9;
    const a = randomF32(batch * m * k, 3),
      b = randomF32(batch * k * n, 4),
      c = new Float32Array(batch * m * n);
    const d = dims(sh);

    const native = () => gemm(a, b, c, m, n, k, { transA, transB, batch });
    native();
    const tNative = await measure(native, { timeMs: opts.timeMs });
    const rate = gflops(tNative.medianMs);
    if (baseRate === 0) baseRate = rate;

    const session = await ort.InferenceSession.create(gemmShapeModel(sh), {
      executionProviders: ['cpu'],
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    });
    const feeds = { A: new ort.Tensor('float32', a, d.a), B: new ort.Tensor('float32', b, d.b) };
    const ortY = (await session.run(feeds)).Y.data as Float32Array;
    const tOrt = await measure(() => session.run(feeds), { timeMs: opts.timeMs });
    await session.release();
    const err = maxRelDiff(c, ortY);

    rows.push({
      suite: 'gemm-shapes',
      case: sh.label,
      impl: '@nl/native',
      rate,
      unit: 'GFLOP/s',
      medianMs: tNative.medianMs,
      ratio: rate / baseRate,
      note: `${(gflops(tNative.medianMs) / gflops(tOrt.medianMs)).toFixed(2)}x ORT; ${
        err > 1e-4
          ? `MISMATCH vs ORT (max rel diff ${err.toExponential(1)})`
          : `max rel diff vs ORT ${err.toExponential(1)}`
      }`,
    });
    rows.push({
      suite: 'gemm-shapes',
      case: sh.label,
      impl: 'onnxruntime-node',
      rate: gflops(tOrt.medianMs),
      unit: 'GFLOP/s',
      medianMs: tOrt.medianMs,
      ratio: gflops(tOrt.medianMs) / baseRate,
    });
  }
  return rows;
}
