/**
 * Op methods of Tensor (`a.add(b)`, `x.sum(-1)`, `a.matmul(b)`, ...), attached to the prototype
 * and declared by interface merging, so tensor.ts stays free of op imports.
 */
import { Tensor, type NestedArray } from './tensor.js';
import type { DType, TypedArray } from './dtype.js';
import type { Device } from './device.js';
import { isDeviceString } from './device.js';
import type { TensorOrNumber } from './ops/helpers.js';
import * as B from './ops/binary.js';
import * as U from './ops/unary.js';
import * as R from './ops/reduce.js';
import * as S from './ops/shape-ops.js';
import { matmul } from './ops/matmul.js';
import { cast, where } from './ops/where.js';
import { data, dataSync, item, toArray } from './tensor-data.js';
import { toDevice } from './ops/transfer.js';
import { softmax, logSoftmax } from './ops/softmax.js';
import * as SL from './ops/slice.js';
import { pad } from './ops/join.js';
import * as IX from './ops/index-ops.js';
import * as SC from './ops/scan.js';
import { fill_, zero_, copy_ } from './ops/inplace.js';
import { std, norm, maskedFill, repeat } from './ops/composite.js';
import { topk } from './ops/sampling.js';
import { runBackward, type BackwardOptions } from './autograd/tape.js';

declare module './tensor.js' {
  interface Tensor {
    add(o: TensorOrNumber): Tensor;
    sub(o: TensorOrNumber): Tensor;
    mul(o: TensorOrNumber): Tensor;
    div(o: TensorOrNumber): Tensor;
    pow(o: TensorOrNumber): Tensor;
    maximum(o: TensorOrNumber): Tensor;
    minimum(o: TensorOrNumber): Tensor;
    eq(o: TensorOrNumber): Tensor;
    ne(o: TensorOrNumber): Tensor;
    lt(o: TensorOrNumber): Tensor;
    le(o: TensorOrNumber): Tensor;
    gt(o: TensorOrNumber): Tensor;
    ge(o: TensorOrNumber): Tensor;
    neg(): Tensor;
    abs(): Tensor;
    exp(): Tensor;
    log(): Tensor;
    sqrt(): Tensor;
    rsqrt(): Tensor;
    sin(): Tensor;
    cos(): Tensor;
    tanh(): Tensor;
    sigmoid(): Tensor;
    relu(): Tensor;
    gelu(opts?: { approximate?: 'none' | 'tanh' }): Tensor;
    silu(): Tensor;
    softplus(): Tensor;
    square(): Tensor;
    reciprocal(): Tensor;
    log1p(): Tensor;
    expm1(): Tensor;
    sign(): Tensor;
    floor(): Tensor;
    ceil(): Tensor;
    round(): Tensor;
    clamp(min?: number | null, max?: number | null): Tensor;
    /** where(this != 0, a, b) */
    where(a: TensorOrNumber, b: TensorOrNumber): Tensor;
    sum(dim?: R.Dims, keepDim?: boolean): Tensor;
    mean(dim?: R.Dims, keepDim?: boolean): Tensor;
    prod(dim?: R.Dims, keepDim?: boolean): Tensor;
    max(dim?: R.Dims, keepDim?: boolean): Tensor;
    min(dim?: R.Dims, keepDim?: boolean): Tensor;
    argmax(dim?: number, keepDim?: boolean): Tensor;
    argmin(dim?: number, keepDim?: boolean): Tensor;
    logsumexp(dim?: R.Dims, keepDim?: boolean): Tensor;
    var(dim?: R.Dims, opts?: R.VarOptions): Tensor;
    matmul(o: Tensor): Tensor;
    reshape(shape: readonly number[]): Tensor;
    permute(dims: readonly number[]): Tensor;
    transpose(dim0?: number, dim1?: number): Tensor;
    /** 2-D transpose (last two dims for batched tensors). */
    t(): Tensor;
    expand(shape: readonly number[]): Tensor;
    expandAs(o: Tensor): Tensor;
    squeeze(dim?: number | readonly number[]): Tensor;
    unsqueeze(dim: number): Tensor;
    flatten(startDim?: number, endDim?: number): Tensor;
    contiguous(): Tensor;
    clone(): Tensor;
    detach(): Tensor;
    softmax(dim?: number): Tensor;
    logSoftmax(dim?: number): Tensor;
    slice(dim: number, start?: number, end?: number, step?: number): Tensor;
    narrow(dim: number, start: number, length: number): Tensor;
    select(dim: number, index: number): Tensor;
    split(sizeOrSections: number | readonly number[], dim?: number): Tensor[];
    chunk(chunks: number, dim?: number): Tensor[];
    pad(pads: readonly number[], value?: number): Tensor;
    indexSelect(dim: number, index: Tensor): Tensor;
    indexAdd(dim: number, index: Tensor, src: Tensor): Tensor;
    gather(dim: number, index: Tensor): Tensor;
    scatterAdd(dim: number, index: Tensor, src: Tensor): Tensor;
    tril(k?: number): Tensor;
    triu(k?: number): Tensor;
    cumsum(dim: number): Tensor;
    cumprod(dim: number): Tensor;
    std(dim?: R.Dims, opts?: R.VarOptions): Tensor;
    norm(p?: number, dim?: R.Dims, keepDim?: boolean): Tensor;
    /** this with `value` where mask != 0. */
    maskedFill(mask: Tensor, value: number): Tensor;
    /** Tiles like torch.repeat. */
    repeat(repeats: readonly number[]): Tensor;
    topk(k: number, dim?: number, opts?: { largest?: boolean }): { values: Tensor; indices: Tensor };
    /** In place: every element = value (not recorded; refuses tensors requiring grad outside noGrad). */
    fill_(value: number): Tensor;
    zero_(): Tensor;
    /** In place: copy (broadcast, converting dtype) from src. */
    copy_(src: Tensor): Tensor;
    /** Converts dtype, or moves to a device; returns `this` when nothing changes. */
    to(target: DType | Device): Tensor;
    dataSync(): TypedArray;
    data(): Promise<TypedArray>;
    toArray(): NestedArray;
    item(): number;
    /** Reverse-mode autograd from this tensor (grad may be omitted for one-element tensors). */
    backward(grad?: Tensor, opts?: BackwardOptions): void;
  }
}

type Method = (this: Tensor, ...args: any[]) => unknown;
const methods: Record<string, Method> = {
  add(o) {
    return B.add(this, o);
  },
  sub(o) {
    return B.sub(this, o);
  },
  mul(o) {
    return B.mul(this, o);
  },
  div(o) {
    return B.div(this, o);
  },
  pow(o) {
    return B.pow(this, o);
  },
  maximum(o) {
    return B.maximum(this, o);
  },
  minimum(o) {
    return B.minimum(this, o);
  },
  eq(o) {
    return B.eq(this, o);
  },
  ne(o) {
    return B.ne(this, o);
  },
  lt(o) {
    return B.lt(this, o);
  },
  le(o) {
    return B.le(this, o);
  },
  gt(o) {
    return B.gt(this, o);
  },
  ge(o) {
    return B.ge(this, o);
  },
  gelu(opts) {
    return U.gelu(this, opts);
  },
  clamp(lo, hi) {
    return U.clamp(this, lo, hi);
  },
  where(a, b) {
    return where(this, a, b);
  },
  sum(d, k) {
    return R.sum(this, d, k);
  },
  mean(d, k) {
    return R.mean(this, d, k);
  },
  prod(d, k) {
    return R.prod(this, d, k);
  },
  max(d, k) {
    return R.max(this, d, k);
  },
  min(d, k) {
    return R.min(this, d, k);
  },
  argmax(d, k) {
    return R.argmax(this, d, k);
  },
  argmin(d, k) {
    return R.argmin(this, d, k);
  },
  logsumexp(d, k) {
    return R.logsumexp(this, d, k);
  },
  var(d, o) {
    return R.variance(this, d, o);
  },
  matmul(o) {
    return matmul(this, o);
  },
  reshape(s) {
    return S.reshape(this, s);
  },
  permute(d) {
    return S.permute(this, d);
  },
  transpose(a, b) {
    return S.transpose(this, a, b);
  },
  t() {
    return S.transpose(this, -2, -1);
  },
  expand(s) {
    return S.expand(this, s);
  },
  expandAs(o) {
    return S.expand(this, o.shape);
  },
  squeeze(d) {
    return S.squeeze(this, d);
  },
  unsqueeze(d) {
    return S.unsqueeze(this, d);
  },
  flatten(a, b) {
    return S.flatten(this, a, b);
  },
  contiguous() {
    return S.contiguous(this);
  },
  clone() {
    return S.clone(this);
  },
  detach() {
    return S.detach(this);
  },
  to(target) {
    if (isDeviceString(target)) return toDevice(this, target);
    return cast(this, target as DType);
  },
  softmax(d) {
    return softmax(this, d);
  },
  logSoftmax(d) {
    return logSoftmax(this, d);
  },
  slice(d, a, b, st) {
    return SL.slice(this, d, a, b, st);
  },
  narrow(d, a, n) {
    return SL.narrow(this, d, a, n);
  },
  select(d, i) {
    return SL.select(this, d, i);
  },
  split(s, d) {
    return SL.split(this, s, d);
  },
  chunk(n, d) {
    return SL.chunk(this, n, d);
  },
  pad(p, v) {
    return pad(this, p, v);
  },
  indexSelect(d, i) {
    return IX.indexSelect(this, d, i);
  },
  indexAdd(d, i, s) {
    return IX.indexAdd(this, d, i, s);
  },
  gather(d, i) {
    return IX.gather(this, d, i);
  },
  scatterAdd(d, i, s) {
    return IX.scatterAdd(this, d, i, s);
  },
  tril(k) {
    return SC.tril(this, k);
  },
  triu(k) {
    return SC.triu(this, k);
  },
  cumsum(d) {
    return SC.cumsum(this, d);
  },
  cumprod(d) {
    return SC.cumprod(this, d);
  },
  std(d, o) {
    return std(this, d, o);
  },
  norm(p, d, k) {
    return norm(this, p, d, k);
  },
  maskedFill(m, v) {
    return maskedFill(this, m, v);
  },
  repeat(r) {
    return repeat(this, r);
  },
  topk(k, d, o) {
    return topk(this, k, d, o);
  },
  fill_(v) {
    return fill_(this, v);
  },
  zero_() {
    return zero_(this);
  },
  copy_(s) {
    return copy_(this, s);
  },
  dataSync() {
    return dataSync(this);
  },
  data() {
    return data(this);
  },
  toArray() {
    return toArray(this);
  },
  item() {
    return item(this);
  },
  backward(g, o) {
    runBackward(this, g, o);
  },
};
for (const name of [
  'neg',
  'abs',
  'exp',
  'log',
  'sqrt',
  'rsqrt',
  'sin',
  'cos',
  'tanh',
  'sigmoid',
  'relu',
  'silu',
  'softplus',
  'square',
  'reciprocal',
  'log1p',
  'expm1',
  'sign',
  'floor',
  'ceil',
  'round',
] as const) {
  const f = U[name] as (x: Tensor) => Tensor;
  methods[name] = function (this: Tensor) {
    return f(this);
  };
}
for (const [name, fn] of Object.entries(methods)) {
  Object.defineProperty(Tensor.prototype, name, {
    value: fn,
    writable: true,
    configurable: true,
    enumerable: false,
  });
}
