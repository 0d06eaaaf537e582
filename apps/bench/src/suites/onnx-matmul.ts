/**
 * A one-node ONNX model (Y = MatMul(A, B), float32) for onnxruntime-node, built with onnx-proto,
 * so the bench measures ORT's CPU MatMul in the same process and run as our kernels.
 */
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';

const { onnx } = onnxProto;

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

/** Serialised ONNX model computing Y[m,n] = A[m,k] · B[k,n]. */
export function matmulModel(m: number, n: number, k: number): Uint8Array {
  const graph = onnx.GraphProto.create({
    name: 'matmul',
    node: [onnx.NodeProto.create({ opType: 'MatMul', input: ['A', 'B'], output: ['Y'], name: 'mm' })],
    input: [valueInfo('A', [m, k]), valueInfo('B', [k, n])],
    output: [valueInfo('Y', [m, n])],
  });
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'nl-bench',
    opsetImport: [onnx.OperatorSetIdProto.create({ domain: '', version: 13 })],
    graph,
  });
  return onnx.ModelProto.encode(model).finish();
}

export interface OrtMatmul {
  run(): Promise<Float32Array>;
  release(): Promise<void>;
}

/** An ORT CPU session multiplying fixed inputs a [m,k] and b [k,n]. */
export async function ortMatmul(
  a: Float32Array,
  b: Float32Array,
  m: number,
  n: number,
  k: number,
  threads: number,
): Promise<OrtMatmul> {
  const session = await ort.InferenceSession.create(matmulModel(m, n, k), {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  const feeds = { A: new ort.Tensor('float32', a, [m, k]), B: new ort.Tensor('float32', b, [k, n]) };
  return {
    async run() {
      const out = await session.run(feeds);
      return out.Y.data as Float32Array;
    },
    release: () => session.release(),
  };
}
