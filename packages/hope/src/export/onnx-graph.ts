/**
 * A small ONNX graph builder, serialised by our own protobuf writer (./protobuf.ts, no dependency):
 * nodes with generated output names, float32 / int64 initializers, typed graph inputs and outputs
 * with symbolic dims, serialised as a ModelProto (opset 17, IR 8).
 */
import { PbWriter } from './protobuf.js';

// onnx.proto field numbers and enums (ONNX IR 8)
const DT = { FLOAT: 1, INT32: 6, INT64: 7 } as const; // TensorProto.DataType
const ATTR = { FLOAT: 1, INT: 2, INTS: 7 } as const; // AttributeProto.AttributeType

/** An attribute value: int, float, int list (a number[] of integers is written as INTS). */
export type AttrValue = number | number[] | { float: number };

/** Element types used by the exported graphs. */
export type ElemType = 'float32' | 'int32' | 'int64';

const ELEM: Record<ElemType, number> = { float32: DT.FLOAT, int32: DT.INT32, int64: DT.INT64 };

/** AttributeProto: name 1, f 2, i 3, ints 8, type 20. */
function attribute(name: string, v: AttrValue): PbWriter {
  const a = new PbWriter().string(1, name);
  if (Array.isArray(v)) return a.intList(8, v).int(20, ATTR.INTS);
  if (typeof v === 'object') return a.float(2, v.float).int(20, ATTR.FLOAT);
  return a.int(3, v).int(20, ATTR.INT);
}

/** ValueInfoProto { name 1, type 2: TypeProto { tensor_type 1: { elem_type 1, shape 2: { dim 1 } } } }. */
function valueInfo(name: string, elem: ElemType, dims: (number | string)[]): PbWriter {
  const shape = new PbWriter().messages(
    1,
    dims.map((d) => (typeof d === 'number' ? new PbWriter().int(1, d) : new PbWriter().string(2, d))),
  );
  const tensor = new PbWriter().int(1, ELEM[elem]).message(2, shape);
  return new PbWriter().string(1, name).message(2, new PbWriter().message(1, tensor));
}

/** TensorProto: dims 1, data_type 2, int64_data 7, name 8, raw_data 9. */
function tensorProto(
  name: string,
  dims: number[],
  dataType: number,
  data: { raw?: Uint8Array; int64?: number[] },
) {
  const t = new PbWriter().intList(1, dims).int(2, dataType);
  if (data.int64) t.intList(7, data.int64);
  t.string(8, name);
  if (data.raw) t.bytes(9, data.raw);
  return t;
}

export class OnnxGraph {
  private readonly nodes: PbWriter[] = [];
  private readonly inits: PbWriter[] = [];
  private readonly inputs: PbWriter[] = [];
  private readonly outputs: PbWriter[] = [];
  private count = 0;
  private readonly int64Consts = new Map<string, string>();

  /** Adds a node; returns its (first) output name, or `out` when given. */
  node(op: string, inputs: string[], attrs: Record<string, AttrValue> = {}, out?: string): string {
    const name = out ?? `${op.toLowerCase()}_${this.count++}`;
    // NodeProto: input 1, output 2, name 3, op_type 4, attribute 5
    this.nodes.push(
      new PbWriter()
        .strings(1, inputs)
        .strings(2, [name])
        .string(3, `n${this.nodes.length}_${op}`)
        .string(4, op)
        .messages(
          5,
          Object.entries(attrs).map(([k, v]) => attribute(k, v)),
        ),
    );
    return name;
  }

  /** A float32 initializer (values copied as little-endian bytes). */
  float(name: string, values: Float32Array, dims: number[]): string {
    const bytes = new Uint8Array(
      values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength),
    );
    this.inits.push(tensorProto(name, dims, DT.FLOAT, { raw: bytes }));
    return name;
  }

  /** An int64 constant (1-D, or a scalar with `scalar`), shared between uses. */
  int64(values: number[], scalar = false): string {
    const key = `${scalar ? 's' : 'v'}:${values.join(',')}`;
    const have = this.int64Consts.get(key);
    if (have) return have;
    const name = `const_${this.int64Consts.size}`;
    this.inits.push(tensorProto(name, scalar ? [] : [values.length], DT.INT64, { int64: values }));
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
    // GraphProto: node 1, name 2, initializer 5, input 11, output 12
    const graph = new PbWriter()
      .messages(1, this.nodes)
      .string(2, graphName)
      .messages(5, this.inits)
      .messages(11, this.inputs)
      .messages(12, this.outputs);
    // ModelProto: ir_version 1, producer_name 2, graph 7, opset_import 8 (OperatorSetIdProto: domain 1, version 2)
    return new PbWriter()
      .int(1, 8)
      .string(2, producer)
      .message(7, graph)
      .message(8, new PbWriter().string(1, '').int(2, 17))
      .finish();
  }
}
