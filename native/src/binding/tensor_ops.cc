// @nl/tensor CPU kernels: elementwise binary/unary over strided views and contiguous row reductions.
//   tensorBinary(op, out, a, aOffset, b, bOffset, shape, stridesA, stridesB)
//   tensorUnary(op, out, a, aOffset, shape, stridesA, p0, p1)
//   tensorReduceRows(op, out, a, aOffset, rows, n)
//   tensorReduceCols(op, out, a, aOffset, rows, n)
//   tensorSoftmaxRows(log, out, a, aOffset, rows, n)
// out is contiguous with prod(shape) elements; shape/strides are JS arrays of at most 8
// non-negative integers (stride 0 broadcasts). Every reachable index is checked before running.
// Op codes: src/tables/op_codes.json (generated nl/op_codes.h here, lib/op-codes.ts in JS);
// opCodes() reports the table this binary was compiled with.
#include <napi.h>

#include <string>

#include "binding/args.h"
#include "binding/register.h"
#include "cpu/tensor_ops.h"

namespace nl::binding {
namespace {

StridedShape read_shape(const Napi::CallbackInfo& info, size_t i, const char* op) {
  if (!info[i].IsArray()) throw_type(info.Env(), op, "shape must be an array");
  Napi::Array arr = info[i].As<Napi::Array>();
  StridedShape s;
  s.nd = static_cast<int>(arr.Length());
  if (s.nd < 1 || s.nd > kTensorMaxDims) {
    throw_range(info.Env(), op, "shape must have 1 to " + std::to_string(kTensorMaxDims) + " dims, got " + std::to_string(s.nd));
  }
  for (int d = 0; d < s.nd; ++d) {
    Napi::Value v = arr.Get(static_cast<uint32_t>(d));
    double x = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1;
    if (!is_count(x)) throw_range(info.Env(), op, "shape entries must be non-negative integers, got shape[" + std::to_string(d) + "] = " + num_text(x));
    s.shape[d] = static_cast<int64_t>(x);
  }
  return s;
}

void read_strides(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name, int nd, int64_t* out) {
  if (!info[i].IsArray() || static_cast<int>(info[i].As<Napi::Array>().Length()) != nd) {
    throw_type(info.Env(), op, std::string(name) + " must be an array with one stride per dim");
  }
  Napi::Array arr = info[i].As<Napi::Array>();
  for (int d = 0; d < nd; ++d) {
    Napi::Value v = arr.Get(static_cast<uint32_t>(d));
    double x = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -1;
    if (!is_count(x)) throw_range(info.Env(), op, std::string(name) + " entries must be non-negative integers, got " + std::string(name) + "[" + std::to_string(d) + "] = " + num_text(x));
    out[d] = static_cast<int64_t>(x);
  }
}

std::string shape_text(const StridedShape& s) {
  std::string t = "[";
  for (int d = 0; d < s.nd; ++d) t += (d ? ", " : "") + std::to_string(s.shape[d]);
  return t + "]";
}

// Element count, overflow-checked (the non-zero dims' product must fit as well).
int64_t numel(const Napi::CallbackInfo& info, const char* op, const StridedShape& s) {
  int64_t n = 1;
  bool zero = false;
  for (int d = 0; d < s.nd; ++d) {
    if (s.shape[d] == 0) zero = true;
    else if (__builtin_mul_overflow(n, s.shape[d], &n)) {
      throw_range(info.Env(), op, "shape " + shape_text(s) + " has more elements than fit in 64-bit integers");
    }
  }
  return zero ? 0 : n;
}

void check_reach(const Napi::CallbackInfo& info, const char* op, const char* name, const StridedShape& s,
                 const int64_t* st, int64_t offset, int64_t length) {
  if (numel(info, op, s) == 0) return;
  int64_t last = offset;
  for (int d = 0; d < s.nd; ++d) {
    int64_t step;
    if (__builtin_mul_overflow(s.shape[d] - 1, st[d], &step) || __builtin_add_overflow(last, step, &last)) {
      throw_range(info.Env(), op, std::string(name) + ": offset " + std::to_string(offset) + " + (shape[" +
                                      std::to_string(d) + "] - 1) * stride = " + std::to_string(s.shape[d] - 1) + " * " +
                                      std::to_string(st[d]) + " ... overflows 64-bit integers (shape " +
                                      shape_text(s) + ")");
    }
  }
  if (last >= length) {
    throw_range(info.Env(), op, std::string(name) + " is too small: the view reaches element " + std::to_string(last) +
                                    " but the array has " + std::to_string(length));
  }
}

DType same_float(const Napi::CallbackInfo& info, const char* op, std::initializer_list<ArrayView> arrays) {
  DType d = arrays.begin()->dtype;
  for (const ArrayView& a : arrays) {
    if (a.dtype != d) throw_type(info.Env(), op, "arrays must share a dtype");
  }
  if (d != DType::F32 && d != DType::F64) throw_type(info.Env(), op, "arrays must be Float32Array or Float64Array");
  return d;
}

Napi::Value Binary(const Napi::CallbackInfo& info) {
  const char* op = "tensorBinary";
  expect_args(info, op, 9);
  const int64_t code = count(info, 0, op, "op");
  if (code >= kCpuSimdBinaryOps) throw_range(info.Env(), op, "binary op code " + std::to_string(code) + " is not implemented by the CPU SIMD kernels");
  ArrayView out = typed_array(info, 1, op, "out");
  ArrayView a = typed_array(info, 2, op, "a");
  const int64_t ao = count(info, 3, op, "aOffset");
  ArrayView b = typed_array(info, 4, op, "b");
  const int64_t bo = count(info, 5, op, "bOffset");
  StridedShape s = read_shape(info, 6, op);
  int64_t sa[kTensorMaxDims], sb[kTensorMaxDims];
  read_strides(info, 7, op, "stridesA", s.nd, sa);
  read_strides(info, 8, op, "stridesB", s.nd, sb);
  DType d = same_float(info, op, {out, a, b});
  const int64_t count_out = numel(info, op, s);
  if (out.length < count_out) throw_range(info.Env(), op, "out is smaller than the shape");
  check_reach(info, op, "a", s, sa, ao, a.length);
  check_reach(info, op, "b", s, sb, bo, b.length);
  if (count_out == 0) return info.Env().Undefined();
  if (d == DType::F32) {
    tensor_binary<float>(static_cast<BinaryOp>(code), s, out.as<float>(), a.as<float>() + ao, sa, b.as<float>() + bo, sb);
  } else {
    tensor_binary<double>(static_cast<BinaryOp>(code), s, out.as<double>(), a.as<double>() + ao, sa, b.as<double>() + bo, sb);
  }
  return info.Env().Undefined();
}

Napi::Value Unary(const Napi::CallbackInfo& info) {
  const char* op = "tensorUnary";
  expect_args(info, op, 8);
  const int64_t code = count(info, 0, op, "op");
  if (code >= kCpuSimdUnaryOps) throw_range(info.Env(), op, "unary op code " + std::to_string(code) + " is not implemented by the CPU SIMD kernels");
  ArrayView out = typed_array(info, 1, op, "out");
  ArrayView a = typed_array(info, 2, op, "a");
  const int64_t ao = count(info, 3, op, "aOffset");
  StridedShape s = read_shape(info, 4, op);
  int64_t sa[kTensorMaxDims];
  read_strides(info, 5, op, "stridesA", s.nd, sa);
  const double p0 = number(info, 6, op, "p0");
  const double p1 = number(info, 7, op, "p1");
  DType d = same_float(info, op, {out, a});
  const int64_t count_out = numel(info, op, s);
  if (out.length < count_out) throw_range(info.Env(), op, "out is smaller than the shape");
  check_reach(info, op, "a", s, sa, ao, a.length);
  if (count_out == 0) return info.Env().Undefined();
  if (d == DType::F32) {
    tensor_unary<float>(static_cast<UnaryOp>(code), s, out.as<float>(), a.as<float>() + ao, sa, p0, p1);
  } else {
    tensor_unary<double>(static_cast<UnaryOp>(code), s, out.as<double>(), a.as<double>() + ao, sa, p0, p1);
  }
  return info.Env().Undefined();
}

Napi::Value ReduceRows(const Napi::CallbackInfo& info) {
  const char* op = "tensorReduceRows";
  expect_args(info, op, 6);
  const int64_t code = count(info, 0, op, "op");
  if (code >= kRowReduceOpCount) throw_range(info.Env(), op, "unknown row-reduce op code " + std::to_string(code));
  ArrayView out = typed_array(info, 1, op, "out");
  ArrayView a = typed_array(info, 2, op, "a");
  const int64_t ao = count(info, 3, op, "aOffset");
  const int64_t rows = count(info, 4, op, "rows");
  const int64_t n = count(info, 5, op, "n");
  DType d = same_float(info, op, {out, a});
  if (n == 0 && rows > 0) throw_range(info.Env(), op, "cannot reduce empty rows");
  if (out.length < rows) throw_range(info.Env(), op, "out is smaller than rows");
  const int64_t rn = checked_product(info.Env(), op, "rows * n", {rows, n});
  if (rows > 0 && checked_add(info.Env(), op, "aOffset + rows * n", ao, rn) > a.length) {
    throw_range(info.Env(), op, "a is smaller than aOffset + rows * n = " + std::to_string(ao) + " + " + std::to_string(rn));
  }
  if (d == DType::F32) {
    tensor_reduce_rows<float>(static_cast<RowReduceOp>(code), rows, n, out.as<float>(), a.as<float>() + ao);
  } else {
    tensor_reduce_rows<double>(static_cast<RowReduceOp>(code), rows, n, out.as<double>(), a.as<double>() + ao);
  }
  return info.Env().Undefined();
}

// tensorReduceCols(op, out, a, aOffset, rows, n): sum/mean over the leading dim of [rows, n].
Napi::Value ReduceCols(const Napi::CallbackInfo& info) {
  const char* op = "tensorReduceCols";
  expect_args(info, op, 6);
  const int64_t code = count(info, 0, op, "op");
  if (code != static_cast<int64_t>(RowReduceOp::Sum) && code != static_cast<int64_t>(RowReduceOp::Mean)) {
    throw_range(info.Env(), op, "only sum and mean reduce columns, got op code " + std::to_string(code));
  }
  ArrayView out = typed_array(info, 1, op, "out");
  ArrayView a = typed_array(info, 2, op, "a");
  const int64_t ao = count(info, 3, op, "aOffset");
  const int64_t rows = count(info, 4, op, "rows");
  const int64_t n = count(info, 5, op, "n");
  DType d = same_float(info, op, {out, a});
  if (out.length < n) throw_range(info.Env(), op, "out is smaller than n");
  const int64_t rn = checked_product(info.Env(), op, "rows * n", {rows, n});
  if (rows > 0 && checked_add(info.Env(), op, "aOffset + rows * n", ao, rn) > a.length) {
    throw_range(info.Env(), op, "a is smaller than aOffset + rows * n = " + std::to_string(ao) + " + " + std::to_string(rn));
  }
  if (n == 0) return info.Env().Undefined();  // no columns: nothing to write (rows may be huge)
  if (d == DType::F32) {
    tensor_reduce_cols<float>(static_cast<RowReduceOp>(code), rows, n, out.as<float>(), a.as<float>() + ao);
  } else {
    tensor_reduce_cols<double>(static_cast<RowReduceOp>(code), rows, n, out.as<double>(), a.as<double>() + ao);
  }
  return info.Env().Undefined();
}

// tensorSoftmaxRows(log, out, a, aOffset, rows, n): (log-)softmax of each row of a contiguous [rows, n].
Napi::Value SoftmaxRows(const Napi::CallbackInfo& info) {
  const char* op = "tensorSoftmaxRows";
  expect_args(info, op, 6);
  const bool log = boolean(info, 0, op, "log");
  ArrayView out = typed_array(info, 1, op, "out");
  ArrayView a = typed_array(info, 2, op, "a");
  const int64_t ao = count(info, 3, op, "aOffset");
  const int64_t rows = count(info, 4, op, "rows");
  const int64_t n = count(info, 5, op, "n");
  DType d = same_float(info, op, {out, a});
  if (out.length < checked_product(info.Env(), op, "rows * n", {rows, n})) throw_range(info.Env(), op, "out is smaller than rows * n");
  const int64_t rn = checked_product(info.Env(), op, "rows * n", {rows, n});
  if (rows > 0 && checked_add(info.Env(), op, "aOffset + rows * n", ao, rn) > a.length) {
    throw_range(info.Env(), op, "a is smaller than aOffset + rows * n = " + std::to_string(ao) + " + " + std::to_string(rn));
  }
  if (rows == 0 || n == 0) return info.Env().Undefined();  // empty rows: nothing to write
  if (d == DType::F32) {
    tensor_softmax_rows<float>(log, rows, n, out.as<float>(), a.as<float>() + ao);
  } else {
    tensor_softmax_rows<double>(log, rows, n, out.as<double>(), a.as<double>() + ao);
  }
  return info.Env().Undefined();
}

// { binary: { add: 0, ... }, unary: { ... }, rowReduce: { ... } } as compiled in.
Napi::Value OpCodes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto table = [&](const char* const* names, int n) {
    Napi::Object t = Napi::Object::New(env);
    for (int i = 0; i < n; ++i) t.Set(names[i], i);
    return t;
  };
  Napi::Object out = Napi::Object::New(env);
  out.Set("binary", table(kBinaryOpNames, kBinaryOpCount));
  out.Set("unary", table(kUnaryOpNames, kUnaryOpCount));
  out.Set("rowReduce", table(kRowReduceOpNames, kRowReduceOpCount));
  return out;
}

}  // namespace

void register_tensor_ops(Napi::Env env, Napi::Object exports) {
  export_fn(env, exports, "opCodes", OpCodes);
  export_fn(env, exports, "tensorBinary", Binary);
  export_fn(env, exports, "tensorUnary", Unary);
  export_fn(env, exports, "tensorReduceRows", ReduceRows);
  export_fn(env, exports, "tensorReduceCols", ReduceCols);
  export_fn(env, exports, "tensorSoftmaxRows", SoftmaxRows);
}

}  // namespace nl::binding
