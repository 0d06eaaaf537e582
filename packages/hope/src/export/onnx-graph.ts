/**
 * A small ONNX graph builder, serialised by our own protobuf writer (./protobuf.ts, no dependency):
 * nodes with generated output names, float32 / int64 initializers, typed graph inputs and outputs
 * with symbolic dims, serialised as a ModelProto (opset 17, IR 8).
 *
 * Subgraphs: `g.loop(...)` builds an ONNX `Loop` whose body is another OnnxGraph sharing this one's
 * name counter and initializers (a body's `float` / `int64` land in the outermost graph, and the
 * body reads them, like any outer value, from the enclosing scope — ONNX allows it).
 */
import { PbWriter } from './protobuf.js';

// onnx.proto field numbers and enums (ONNX IR 8)
const DT = { FLOAT: 1, INT32: 6, INT64: 7, BOOL: 9 } as const; // TensorProto.DataType
const ATTR = { FLOAT: 1, INT: 2, GRAPH: 5, INTS: 7 } as const; // AttributeProto.AttributeType

/** An attribute value: int, float, int list (a number[] of integers is written as INTS), subgraph. */
export type AttrValue = number | number[] | { float: number } | { graph: PbWriter };

/** Element types used by the exported graphs. */
export type ElemType = 'float32' | 'int32' | 'int64' | 'bool';

/** Dims of a graph input / output; `null`: shape left unstated (rank unknown). */
export type Dims = (number | string)[] | null;

const ELEM: Record<ElemType, number> = {
  float32: DT.FLOAT,
  int32: DT.INT32,
  int64: DT.INT64,
  bool: DT.BOOL,
};

/** AttributeProto: name 1, f 2, i 3, g 6, ints 8, type 20. */
function attribute(name: string, v: AttrValue): PbWriter {
  const a = new PbWriter().string(1, name);
  if (Array.isArray(v)) return a.intList(8, v).int(20, ATTR.INTS);
  if (typeof v === 'number') return a.int(3, v).int(20, ATTR.INT);
  if ('graph' in v) return a.message(6, v.graph).int(20, ATTR.GRAPH);
  return a.float(2, v.float).int(20, ATTR.FLOAT);
}

/** ValueInfoProto { name 1, type 2: TypeProto { tensor_type 1: { elem_type 1, shape 2: { dim 1 } } } }. */
function valueInfo(name: string, elem: ElemType, dims: Dims): PbWriter {
  const tensor = new PbWriter().int(1, ELEM[elem]);
  if (dims) {
    const shape = new PbWriter().messages(
      1,
      dims.map((d) => (typeof d === 'number' ? new PbWriter().int(1, d) : new PbWriter().string(2, d))),
    );
    tensor.message(2, shape);
  }
  return new PbWriter().string(1, name).message(2, new PbWriter().message(1, tensor));
}

/** A loop-carried value: its start value (an outer name) and its type as the body sees it. */
export interface LoopCarried {
  init: string;
  elem: ElemType;
  dims: Dims;
}

/** What a loop body returns: the next carried values (same order) and per-iteration scan outputs. */
export interface LoopBodyResult {
  carried: string[];
  scans?: { name: string; elem: ElemType }[];
}

/** Names and ids shared by a graph and its subgraphs (ONNX names are unique model-wide). */
interface Scope {
  count: number;
  nodeCount: number;
  readonly inits: PbWriter[];
  readonly int64Consts: Map<string, string>;
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
  private readonly inputs: PbWriter[] = [];
  private readonly outputs: PbWriter[] = [];
  private readonly scope: Scope;

  /** A new top-level graph, or (with `parent`) a subgraph sharing the parent's names and initializers. */
  constructor(parent?: OnnxGraph) {
    this.scope = parent ? parent.scope : { count: 0, nodeCount: 0, inits: [], int64Consts: new Map() };
  }

  /** A fresh value name `prefix_<n>`, unique in the whole model. */
  fresh(prefix: string): string {
    return `${prefix}_${this.scope.count++}`;
  }

  /** Adds a node; returns its (first) output name, or `out` when given. */
  node(op: string, inputs: string[], attrs: Record<string, AttrValue> = {}, out?: string): string {
    return this.nodeOuts(op, inputs, [out ?? this.fresh(op.toLowerCase())], attrs)[0]!;
  }

  /** Adds a node with several outputs (names given, or `n` generated); returns their names. */
  nodeOuts(
    op: string,
    inputs: string[],
    outs: string[] | number,
    attrs: Record<string, AttrValue> = {},
  ): string[] {
    const names =
      typeof outs === 'number' ? Array.from({ length: outs }, () => this.fresh(op.toLowerCase())) : outs;
    // NodeProto: input 1, output 2, name 3, op_type 4, attribute 5
    this.nodes.push(
      new PbWriter()
        .strings(1, inputs)
        .strings(2, names)
        .string(3, `n${this.scope.nodeCount++}_${op}`)
        .string(4, op)
        .messages(
          5,
          Object.entries(attrs).map(([k, v]) => attribute(k, v)),
        ),
    );
    return names;
  }

  /**
   * An ONNX `Loop` run `tripCount` times (an int64 scalar value name). `body(b, i, carried)` builds
   * the body in subgraph `b` (same API; outer values and initializers are visible in it) from the
   * iteration number `i` (int64 scalar) and the current carried values, and returns the next
   * carried values plus any scan outputs. Returns the final carried values and the scan outputs,
   * each the per-iteration values stacked on a new leading axis [tripCount, ...].
   */
  loop(
    tripCount: string,
    carried: LoopCarried[],
    body: (b: OnnxGraph, i: string, carried: string[]) => LoopBodyResult,
  ): { carried: string[]; scans: string[] } {
    const b = new OnnxGraph(this);
    const iter = b.input(b.fresh('loop_iter'), 'int64', []);
    const condIn = b.input(b.fresh('loop_cond'), 'bool', []);
    const cur = carried.map((c) => b.input(b.fresh('loop_in'), c.elem, c.dims));
    const res = body(b, iter, cur);
    if (res.carried.length !== carried.length)
      throw new Error(`OnnxGraph.loop: the body returned ${res.carried.length} carried values, expected ${carried.length}`); // prettier-ignore
    b.output(b.node('Identity', [condIn]), 'bool', []);
    // a body output must be a value the body produced: pass-throughs get an Identity
    res.carried.forEach((name, j) => b.output(b.node('Identity', [name]), carried[j]!.elem, null));
    const scans = res.scans ?? [];
    for (const s of scans) b.output(b.node('Identity', [s.name]), s.elem, null);
    const outs = this.nodeOuts(
      'Loop',
      [tripCount, '', ...carried.map((c) => c.init)],
      carried.length + scans.length,
      { body: { graph: b.graphProto(this.fresh('loop_body')) } },
    );
    return { carried: outs.slice(0, carried.length), scans: outs.slice(carried.length) };
  }

  /** A float32 initializer (values copied as little-endian bytes). */
  float(name: string, values: Float32Array, dims: number[]): string {
    const bytes = new Uint8Array(
      values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength),
    );
    this.scope.inits.push(tensorProto(name, dims, DT.FLOAT, { raw: bytes }));
    return name;
  }

  /** An int64 constant (1-D, or a scalar with `scalar`), shared between uses. */
  int64(values: number[], scalar = false): string {
    const key = `${scalar ? 's' : 'v'}:${values.join(',')}`;
    const { int64Consts, inits } = this.scope;
    const have = int64Consts.get(key);
    if (have) return have;
    const name = `const_${int64Consts.size}`;
    inits.push(tensorProto(name, scalar ? [] : [values.length], DT.INT64, { int64: values }));
    int64Consts.set(key, name);
    return name;
  }

  input(name: string, elem: ElemType, dims: Dims): string {
    this.inputs.push(valueInfo(name, elem, dims));
    return name;
  }

  /** Declares `name` (an existing value) a graph output. */
  output(name: string, elem: ElemType, dims: Dims): void {
    this.outputs.push(valueInfo(name, elem, dims));
  }

  /** GraphProto: node 1, name 2, initializer 5 (top level only), input 11, output 12. */
  private graphProto(graphName: string, inits: PbWriter[] = []): PbWriter {
    return new PbWriter()
      .messages(1, this.nodes)
      .string(2, graphName)
      .messages(5, inits)
      .messages(11, this.inputs)
      .messages(12, this.outputs);
  }

  /** The serialised ModelProto (call on the top-level graph). */
  encode(graphName: string, producer: string): Uint8Array {
    const graph = this.graphProto(graphName, this.scope.inits);
    // ModelProto: ir_version 1, producer_name 2, graph 7, opset_import 8 (OperatorSetIdProto: domain 1, version 2)
    return new PbWriter()
      .int(1, 8)
      .string(2, producer)
      .message(7, graph)
      .message(8, new PbWriter().string(1, '').int(2, 17))
      .finish();
  }
}
