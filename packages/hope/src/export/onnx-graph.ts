/**
 * A small ONNX graph builder over onnx-proto (the generated protobuf classes of onnx.proto):
 * nodes with generated output names, float32 / int64 initializers, typed graph inputs and outputs
 * with symbolic dims, serialised as a ModelProto (opset 17, IR 8).
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
const DT = onnx.TensorProto.DataType;

/** An attribute value: int, float, int list (a number[] of integers is written as INTS). */
export type AttrValue = number | number[] | { float: number };

/** Element types used by the exported graphs. */
export type ElemType = 'float32' | 'int32' | 'int64';

const ELEM: Record<ElemType, number> = { float32: DT.FLOAT, int32: DT.INT32, int64: DT.INT64 };

function attribute(name: string, v: AttrValue): InstanceType<typeof onnx.AttributeProto> {
  const A = onnx.AttributeProto.AttributeType;
  if (Array.isArray(v)) return onnx.AttributeProto.create({ name, type: A.INTS, ints: v });
  if (typeof v === 'object') return onnx.AttributeProto.create({ name, type: A.FLOAT, f: v.float });
  return onnx.AttributeProto.create({ name, type: A.INT, i: v });
}

function valueInfo(name: string, elem: ElemType, dims: (number | string)[]) {
  return onnx.ValueInfoProto.create({
    name,
    type: onnx.TypeProto.create({
      tensorType: onnx.TypeProto.Tensor.create({
        elemType: ELEM[elem],
        shape: onnx.TensorShapeProto.create({
          dim: dims.map((d) =>
            onnx.TensorShapeProto.Dimension.create(typeof d === 'number' ? { dimValue: d } : { dimParam: d }),
          ),
        }),
      }),
    }),
  });
}

export class OnnxGraph {
  private readonly nodes: InstanceType<typeof onnx.NodeProto>[] = [];
  private readonly inits: InstanceType<typeof onnx.TensorProto>[] = [];
  private readonly inputs: ReturnType<typeof valueInfo>[] = [];
  private readonly outputs: ReturnType<typeof valueInfo>[] = [];
  private count = 0;
  private readonly int64Consts = new Map<string, string>();

  /** Adds a node; returns its (first) output name, or `out` when given. */
  node(op: string, inputs: string[], attrs: Record<string, AttrValue> = {}, out?: string): string {
    const name = out ?? `${op.toLowerCase()}_${this.count++}`;
    this.nodes.push(
      onnx.NodeProto.create({
        opType: op,
        name: `n${this.nodes.length}_${op}`,
        input: inputs,
        output: [name],
        attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
      }),
    );
    return name;
  }

  /** A float32 initializer (values copied as little-endian bytes). */
  float(name: string, values: Float32Array, dims: number[]): string {
    const bytes = new Uint8Array(
      values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength),
    );
    this.inits.push(onnx.TensorProto.create({ name, dims, dataType: DT.FLOAT, rawData: bytes }));
    return name;
  }

  /** An int64 constant (1-D, or a scalar with `scalar`), shared between uses. */
  int64(values: number[], scalar = false): string {
    const key = `${scalar ? 's' : 'v'}:${values.join(',')}`;
    const have = this.int64Consts.get(key);
    if (have) return have;
    const name = `const_${this.int64Consts.size}`;
    this.inits.push(
      onnx.TensorProto.create({
        name,
        dims: scalar ? [] : [values.length],
        dataType: DT.INT64,
        int64Data: values,
      }),
    );
    this.int64Consts.set(key, name);
    return name;
  }

  input(name: string, elem: ElemType, dims: (number | string)[]): string {
    this.inputs.push(valueInfo(name, elem, dims));
    return name;
  }

  /** Declares `name` (an existing value) a graph output. */
  output(name: string, elem: ElemType, dims: (number | string)[]): void {
    this.outputs.push(valueInfo(name, elem, dims));
  }

  /** The serialised ModelProto. */
  encode(graphName: string, producer: string): Uint8Array {
    const graph = onnx.GraphProto.create({
      name: graphName,
      node: this.nodes,
      initializer: this.inits,
      input: this.inputs,
      output: this.outputs,
    });
    const model = onnx.ModelProto.create({
      irVersion: 8,
      producerName: producer,
      opsetImport: [onnx.OperatorSetIdProto.create({ domain: '', version: 17 })],
      graph,
    });
    return onnx.ModelProto.encode(model).finish();
  }
}
