// CUDA entry points of the select family: index checks, indexSelect, indexAdd, gather,
// scatterAdd, scatterSpread, topk, multinomial (prep + sample). Every buffer is looked up and
// every operand's extent checked (binding/cuda_args.h); the shapes are checked so that index
// coordinates in the other dims stay inside x / out; index values are range-checked by the kernels
// (a bad one is skipped). cudaCheckIndices is the one call that waits for the device: it returns
// the first bad index so the TS kernels throw the CPU's error before launching.
#include <napi.h>

#include "binding/cuda_args.h"
#include "binding/register.h"
#include "cuda/ops/table.h"

namespace nl::binding {
namespace {

using cuda::DT;
using cuda::Shape;
using cuda::Strides;

cuda::Strides contiguous_strides(const Shape& s) {
  Strides st;
  int64_t acc = 1;
  for (int d = s.rank - 1; d >= 0; --d) {
    st.s[d] = acc;
    acc *= s.dim[d];
  }
  return st;
}

// s with dim d = v; its element count must fit int64.
Shape with_dim(Napi::Env env, const std::string& op, Shape s, int d, int64_t v) {
  s.dim[d] = v;
  int64_t n = 1;
  for (int c = 0; c < s.rank; ++c)
    if (s.dim[c] != 0 && __builtin_mul_overflow(n, s.dim[c], &n)) throw_range(env, op, "element count overflows");
  return s;
}

int dim_arg(const Napi::CallbackInfo& info, size_t i, const std::string& op, const Shape& s) {
  const int64_t d = count(info, i, op, "dim");
  if (d >= s.rank) throw_range(info.Env(), op, "dim " + std::to_string(d) + " is out of range for " + std::to_string(s.rank) + " dims");
  return int(d);
}

int64_t int_arg(const Napi::CallbackInfo& info, size_t i, const std::string& op, const char* name) {
  const double v = number(info, i, op, name);
  if (!(std::fabs(v) <= 9007199254740991.0) || v != std::trunc(v))
    throw_range(info.Env(), op, std::string(name) + " must be an integer, got " + num_text(v));
  return int64_t(v);
}

// Index shape `is` fits `xs` in every dim but `d` (d = -1: in every dim).
void check_fits(Napi::Env env, const std::string& op, const Shape& is, const Shape& xs, int d) {
  if (is.rank != xs.rank) throw_range(env, op, "index and operand ranks differ");
  for (int c = 0; c < is.rank; ++c)
    if (c != d && is.dim[c] > xs.dim[c])
      throw_range(env, op, "index is larger than the operand in dim " + std::to_string(c));
}

// A 1-D int32 index: k elements at off + j * stride.
void check_index_1d(Napi::Env env, const std::string& op, const DevBuf& b, int64_t off, int64_t stride, int64_t k) {
  if (k == 0) return;
  int64_t last = 0;
  if (__builtin_mul_overflow(k - 1, stride, &last) || __builtin_add_overflow(last, off, &last))
    throw_range(env, op, "index extent overflows");
  check_span(env, op, "index", b, DT::I32, off, last);
}

void check_out(Napi::Env env, const std::string& op, const char* name, const DevBuf& b, DT dt, int64_t n) {
  if (n > 0) check_span(env, op, name, b, dt, 0, n - 1);
}

// cudaCheckIndices(idx, off, shape, strides, lo, hi) -> [position, value]: the first element (row-major)
// outside [lo, hi) and its value, or [-1, 0]. Waits for the device.
Napi::Value CheckIndices(const Napi::CallbackInfo& info) {
  const std::string op = "cudaCheckIndices";
  expect_args(info, op, 6);
  Napi::Env env = info.Env();
  cuda::CheckIndicesArgs g{};
  DevBuf idx = dev_buffer(info, 0, op, "index");
  g.shape = shape_arg(info, 2, op, "shape");
  g.si = strides_arg(info, 3, op, "index", g.shape, count(info, 1, op, "offset"));
  g.lo = int_arg(info, 4, op, "lo");
  g.hi = int_arg(info, 5, op, "hi");
  check_strided(env, op, "index", idx, DT::I32, g.shape, g.si);
  g.idx = idx.ptr;
  int64_t res[2] = {-1, 0};
  if (g.shape.numel() > 0) {
    void* scratch = nullptr;
    const size_t bytes = size_t(cuda::kCheckBlocks + 2) * sizeof(int64_t);
    check_cuda(env, op, idx.rt->alloc(bytes, false, &scratch), idx.rt);
    g.scratch = scratch;
    std::string err = idx.rt->ops().check_indices(idx.rt, g);
    if (err.empty()) err = idx.rt->download(res, static_cast<int64_t*>(scratch) + cuda::kCheckBlocks, sizeof(res));
    idx.rt->free(scratch);
    check_cuda(env, op, err, idx.rt);
  }
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(uint32_t(0), double(res[0]));
  out.Set(uint32_t(1), double(res[1]));
  return out;
}

// cudaIndexSelect(out, dt, x, xOff, xShape, xStrides, dim, idx, idxOff, idxStride, k)
Napi::Value IndexSelect(const Napi::CallbackInfo& info) {
  const std::string op = "cudaIndexSelect";
  expect_args(info, op, 11);
  Napi::Env env = info.Env();
  cuda::IndexSelectArgs g{};
  DevBuf out = dev_buffer(info, 0, op, "out");
  g.dt = dt_arg(info, 1, op, "dtype");
  DevBuf x = dev_buffer(info, 2, op, "x");
  const Shape xs = shape_arg(info, 4, op, "x shape");
  g.sx = strides_arg(info, 5, op, "x", xs, count(info, 3, op, "x offset"));
  g.d = dim_arg(info, 6, op, xs);
  DevBuf idx = dev_buffer(info, 7, op, "index");
  g.idx_off = count(info, 8, op, "index offset");
  g.idx_stride = count(info, 9, op, "index stride");
  const int64_t k = count(info, 10, op, "k");
  same_device(env, op, {&out, &x, &idx});
  g.shape = with_dim(env, op, xs, g.d, k);
  g.size = xs.dim[g.d];
  check_out(env, op, "out", out, g.dt, g.shape.numel());
  check_strided(env, op, "x", x, g.dt, xs, g.sx);
  check_index_1d(env, op, idx, g.idx_off, g.idx_stride, k);
  g.out = out.ptr;
  g.x = x.ptr;
  g.idx = idx.ptr;
  if (g.shape.numel() > 0) check_cuda(env, op, out.rt->ops().index_select(out.rt, g), out.rt);
  return env.Undefined();
}

// cudaIndexAdd(out, dt, outShape, dim, idx, idxOff, idxStride, k, src, srcOff, srcStrides)
Napi::Value IndexAdd(const Napi::CallbackInfo& info) {
  const std::string op = "cudaIndexAdd";
  expect_args(info, op, 11);
  Napi::Env env = info.Env();
  cuda::IndexAddArgs g{};
  DevBuf out = dev_buffer(info, 0, op, "out");
  g.dt = dt_arg(info, 1, op, "dtype");
  const Shape os = shape_arg(info, 2, op, "out shape");
  g.d = dim_arg(info, 3, op, os);
  DevBuf idx = dev_buffer(info, 4, op, "index");
  g.idx_off = count(info, 5, op, "index offset");
  g.idx_stride = count(info, 6, op, "index stride");
  const int64_t k = count(info, 7, op, "k");
  DevBuf src = dev_buffer(info, 8, op, "src");
  g.shape = with_dim(env, op, os, g.d, k);
  g.ss = strides_arg(info, 10, op, "src", g.shape, count(info, 9, op, "src offset"));
  same_device(env, op, {&out, &idx, &src});
  g.size = os.dim[g.d];
  g.so = contiguous_strides(os);
  check_out(env, op, "out", out, g.dt, os.numel());
  check_strided(env, op, "src", src, g.dt, g.shape, g.ss);
  check_index_1d(env, op, idx, g.idx_off, g.idx_stride, k);
  g.out = out.ptr;
  g.src = src.ptr;
  g.idx = idx.ptr;
  if (g.shape.numel() > 0) check_cuda(env, op, out.rt->ops().index_add(out.rt, g), out.rt);
  return env.Undefined();
}

// cudaGather(out, dt, x, xOff, xShape, xStrides, dim, idx, idxOff, idxShape, idxStrides)
Napi::Value Gather(const Napi::CallbackInfo& info) {
  const std::string op = "cudaGather";
  expect_args(info, op, 11);
  Napi::Env env = info.Env();
  cuda::GatherArgs g{};
  DevBuf out = dev_buffer(info, 0, op, "out");
  g.dt = dt_arg(info, 1, op, "dtype");
  DevBuf x = dev_buffer(info, 2, op, "x");
  const Shape xs = shape_arg(info, 4, op, "x shape");
  g.sx = strides_arg(info, 5, op, "x", xs, count(info, 3, op, "x offset"));
  g.d = dim_arg(info, 6, op, xs);
  DevBuf idx = dev_buffer(info, 7, op, "index");
  g.shape = shape_arg(info, 9, op, "index shape");
  g.si = strides_arg(info, 10, op, "index", g.shape, count(info, 8, op, "index offset"));
  same_device(env, op, {&out, &x, &idx});
  check_fits(env, op, g.shape, xs, g.d);
  g.size = xs.dim[g.d];
  check_out(env, op, "out", out, g.dt, g.shape.numel());
  check_strided(env, op, "x", x, g.dt, xs, g.sx);
  check_strided(env, op, "index", idx, DT::I32, g.shape, g.si);
  g.out = out.ptr;
  g.x = x.ptr;
  g.idx = idx.ptr;
  if (g.shape.numel() > 0) check_cuda(env, op, out.rt->ops().gather(out.rt, g), out.rt);
  return env.Undefined();
}

// cudaScatterAdd(out, dt, outShape, dim, idx, idxOff, idxShape, idxStrides, src, srcOff, srcStrides)
// src's strides are walked over index's shape (src may be larger than index).
Napi::Value ScatterAdd(const Napi::CallbackInfo& info) {
  const std::string op = "cudaScatterAdd";
  expect_args(info, op, 11);
  Napi::Env env = info.Env();
  cuda::ScatterAddArgs g{};
  DevBuf out = dev_buffer(info, 0, op, "out");
  g.dt = dt_arg(info, 1, op, "dtype");
  const Shape os = shape_arg(info, 2, op, "out shape");
  g.d = dim_arg(info, 3, op, os);
  DevBuf idx = dev_buffer(info, 4, op, "index");
  g.shape = shape_arg(info, 6, op, "index shape");
  g.si = strides_arg(info, 7, op, "index", g.shape, count(info, 5, op, "index offset"));
  DevBuf src = dev_buffer(info, 8, op, "src");
  g.ss = strides_arg(info, 10, op, "src", g.shape, count(info, 9, op, "src offset"));
  same_device(env, op, {&out, &idx, &src});
  check_fits(env, op, g.shape, os, g.d);
  g.size = os.dim[g.d];
  g.so = contiguous_strides(os);
  check_out(env, op, "out", out, g.dt, os.numel());
  check_strided(env, op, "src", src, g.dt, g.shape, g.ss);
  check_strided(env, op, "index", idx, DT::I32, g.shape, g.si);
  g.out = out.ptr;
  g.src = src.ptr;
  g.idx = idx.ptr;
  if (g.shape.numel() > 0) check_cuda(env, op, out.rt->ops().scatter_add(out.rt, g), out.rt);
  return env.Undefined();
}

// cudaScatterSpread(full, dt, fullShape, g, gOff, gShape, gStrides): full (contiguous) gets g at
// the same coordinates.
Napi::Value ScatterSpread(const Napi::CallbackInfo& info) {
  const std::string op = "cudaScatterSpread";
  expect_args(info, op, 7);
  Napi::Env env = info.Env();
  cuda::SpreadArgs g{};
  DevBuf full = dev_buffer(info, 0, op, "full");
  g.dt = dt_arg(info, 1, op, "dtype");
  const Shape fs = shape_arg(info, 2, op, "full shape");
  DevBuf gb = dev_buffer(info, 3, op, "g");
  g.shape = shape_arg(info, 5, op, "g shape");
  g.sg = strides_arg(info, 6, op, "g", g.shape, count(info, 4, op, "g offset"));
  same_device(env, op, {&full, &gb});
  check_fits(env, op, g.shape, fs, -1);
  g.sf = contiguous_strides(fs);
  check_out(env, op, "full", full, g.dt, fs.numel());
  check_strided(env, op, "g", gb, g.dt, g.shape, g.sg);
  g.full = full.ptr;
  g.g = gb.ptr;
  if (g.shape.numel() > 0) check_cuda(env, op, full.rt->ops().scatter_spread(full.rt, g), full.rt);
  return env.Undefined();
}

// cudaTopk(out, x, dt, xOff, xShape, xStrides, dim, k, largest): out int32 [outer, k, inner].
Napi::Value Topk(const Napi::CallbackInfo& info) {
  const std::string op = "cudaTopk";
  expect_args(info, op, 9);
  Napi::Env env = info.Env();
  cuda::TopkArgs g{};
  DevBuf out = dev_buffer(info, 0, op, "out");
  DevBuf x = dev_buffer(info, 1, op, "x");
  g.dt = dt_arg(info, 2, op, "dtype");
  const Shape xs = shape_arg(info, 4, op, "x shape");
  g.sx = strides_arg(info, 5, op, "x", xs, count(info, 3, op, "x offset"));
  const int d = dim_arg(info, 6, op, xs);
  g.k = count(info, 7, op, "k");
  g.largest = info[8].ToBoolean();
  same_device(env, op, {&out, &x});
  g.n = xs.dim[d];
  if (g.k > g.n) throw_range(env, op, "k " + std::to_string(g.k) + " > " + std::to_string(g.n));
  g.row_shape = with_dim(env, op, xs, d, 1);
  g.rows = g.row_shape.numel();
  g.inner = 1;
  for (int c = d + 1; c < xs.rank; ++c) g.inner *= xs.dim[c];
  g.step = g.sx.s[d];
  check_out(env, op, "out", out, DT::I32, with_dim(env, op, xs, d, g.k).numel());
  check_strided(env, op, "x", x, g.dt, xs, g.sx);
  g.x = x.ptr;
  g.out = out.ptr;
  if (xs.numel() > 0) check_cuda(env, op, out.rt->ops().topk(out.rt, g), out.rt);
  return env.Undefined();
}

// Weights [rows, n] at off + r * rs + i * cs.
void check_weights(Napi::Env env, const std::string& op, const DevBuf& w, DT dt, int64_t off, int64_t rows, int64_t n,
                   int64_t rs, int64_t cs) {
  Shape s;
  s.rank = 2;
  s.dim[0] = rows;
  s.dim[1] = n;
  Strides st;
  st.offset = off;
  st.s[0] = rs;
  st.s[1] = cs;
  check_strided(env, op, "weights", w, dt, s, st);
}

// cudaMultinomialPrep(err, total, w, dt, wOff, rows, n, rowStride, colStride)
Napi::Value MultinomialPrep(const Napi::CallbackInfo& info) {
  const std::string op = "cudaMultinomialPrep";
  expect_args(info, op, 9);
  Napi::Env env = info.Env();
  cuda::MultinomialPrepArgs g{};
  DevBuf err = dev_buffer(info, 0, op, "err");
  DevBuf total = dev_buffer(info, 1, op, "total");
  DevBuf w = dev_buffer(info, 2, op, "weights");
  g.dt = dt_arg(info, 3, op, "dtype");
  g.off = count(info, 4, op, "weights offset");
  g.rows = count(info, 5, op, "rows");
  g.n = count(info, 6, op, "n");
  g.rs = count(info, 7, op, "row stride");
  g.cs = count(info, 8, op, "column stride");
  same_device(env, op, {&err, &total, &w});
  check_weights(env, op, w, g.dt, g.off, g.rows, g.n, g.rs, g.cs);
  check_out(env, op, "err", err, DT::I32, g.rows);
  check_out(env, op, "total", total, DT::F64, g.rows);
  g.w = w.ptr;
  g.err = err.ptr;
  g.total = total.ptr;
  if (g.rows > 0) check_cuda(env, op, w.rt->ops().multinomial_prep(w.rt, g), w.rt);
  return env.Undefined();
}

// cudaMultinomialSample(out, w, dt, wOff, rows, n, rowStride, colStride, err, total, u, samples)
Napi::Value MultinomialSample(const Napi::CallbackInfo& info) {
  const std::string op = "cudaMultinomialSample";
  expect_args(info, op, 12);
  Napi::Env env = info.Env();
  cuda::MultinomialSampleArgs g{};
  DevBuf out = dev_buffer(info, 0, op, "out");
  DevBuf w = dev_buffer(info, 1, op, "weights");
  g.dt = dt_arg(info, 2, op, "dtype");
  g.off = count(info, 3, op, "weights offset");
  g.rows = count(info, 4, op, "rows");
  g.n = count(info, 5, op, "n");
  g.rs = count(info, 6, op, "row stride");
  g.cs = count(info, 7, op, "column stride");
  DevBuf err = dev_buffer(info, 8, op, "err");
  DevBuf total = dev_buffer(info, 9, op, "total");
  DevBuf u = dev_buffer(info, 10, op, "u");
  g.samples = count(info, 11, op, "samples");
  same_device(env, op, {&out, &w, &err, &total, &u});
  const int64_t draws = checked_product(env, op, "rows * samples", {g.rows, g.samples});
  check_weights(env, op, w, g.dt, g.off, g.rows, g.n, g.rs, g.cs);
  check_out(env, op, "out", out, DT::I32, draws);
  check_out(env, op, "u", u, DT::F64, draws);
  check_out(env, op, "err", err, DT::I32, g.rows);
  check_out(env, op, "total", total, DT::F64, g.rows);
  g.w = w.ptr;
  g.err = err.ptr;
  g.total = total.ptr;
  g.u = u.ptr;
  g.out = out.ptr;
  if (draws > 0 && g.n > 0) check_cuda(env, op, w.rt->ops().multinomial_sample(w.rt, g), w.rt);
  return env.Undefined();
}

}  // namespace

void register_cuda_select(Napi::Env env, Napi::Object exports) {
  exports.Set("cudaCheckIndices", Napi::Function::New(env, CheckIndices, "cudaCheckIndices"));
  exports.Set("cudaIndexSelect", Napi::Function::New(env, IndexSelect, "cudaIndexSelect"));
  exports.Set("cudaIndexAdd", Napi::Function::New(env, IndexAdd, "cudaIndexAdd"));
  exports.Set("cudaGather", Napi::Function::New(env, Gather, "cudaGather"));
  exports.Set("cudaScatterAdd", Napi::Function::New(env, ScatterAdd, "cudaScatterAdd"));
  exports.Set("cudaScatterSpread", Napi::Function::New(env, ScatterSpread, "cudaScatterSpread"));
  exports.Set("cudaTopk", Napi::Function::New(env, Topk, "cudaTopk"));
  exports.Set("cudaMultinomialPrep", Napi::Function::New(env, MultinomialPrep, "cudaMultinomialPrep"));
  exports.Set("cudaMultinomialSample", Napi::Function::New(env, MultinomialSample, "cudaMultinomialSample"));
}

}  // namespace nl::binding
