// Argument reading for the nn CUDA entry points (binding/cuda_nn*.cc): every device operand is a
// (buffer, element offset) pair of arguments; its buffer is looked up (dev_buffer) and the `n`
// elements it spans from the offset are checked against the buffer's size before the pointer,
// advanced to the offset, is handed to an op. Optional operands are null (or undefined) buffers.
// All operands of a call must live on one device.
#pragma once
#include <napi.h>

#include <string>

#include "binding/cuda_args.h"

namespace nl::binding {

class NnArgs {
 public:
  NnArgs(const Napi::CallbackInfo& info, const char* op, size_t nargs) : info_(info), op_(op) {
    expect_args(info, op_, nargs);
  }
  Napi::Env env() const { return info_.Env(); }
  const std::string& op() const { return op_; }

  // A float dtype code.
  cuda::DT float_dt(size_t i) {
    cuda::DT d = dt_arg(info_, i, op_, "dtype");
    if (d == cuda::DT::I32) throw_type(env(), op_, "dtype must be float32 or float64, got int32");
    return d;
  }
  int64_t count_at(size_t i, const char* name) { return count(info_, i, op_, name); }
  double number_at(size_t i, const char* name) { return number(info_, i, op_, name); }
  // An integer (any sign) exactly representable in a double.
  int64_t integer_at(size_t i, const char* name) {
    const double v = number(info_, i, op_, name);
    if (!(std::fabs(v) <= 9007199254740991.0) || v != std::trunc(v))
      throw_range(env(), op_, std::string(name) + " must be an integer, got " + num_text(v));
    return int64_t(v);
  }
  // n * m ... checked for overflow.
  int64_t product(const char* what, std::initializer_list<int64_t> xs) {
    return checked_product(env(), op_, what, xs);
  }

  // Buffer at info[i], element offset at info[i + 1], spanning n elements of dt.
  void* buffer(size_t i, const char* name, cuda::DT dt, int64_t n) {
    DevBuf b = dev_buffer(info_, i, op_, name);
    const int64_t off = count(info_, i + 1, op_, name);
    if (n > 0) {
      int64_t last = 0;
      if (__builtin_add_overflow(off, n - 1, &last)) throw_range(env(), op_, std::string(name) + ": extent overflows");
      check_span(env(), op_, name, b, dt, off, last);
    }
    if (rt_ == nullptr) rt_ = b.rt;
    else if (b.rt != rt_) throw_range(env(), op_, "operands are on different CUDA devices");
    return static_cast<char*>(b.ptr) + off * int64_t(dt_size(dt));
  }
  // Like buffer(), or nullptr when info[i] is null / undefined.
  void* optional(size_t i, const char* name, cuda::DT dt, int64_t n) {
    if (info_[i].IsNull() || info_[i].IsUndefined()) return nullptr;
    return buffer(i, name, dt, n);
  }

  // Optional float64 scratch at info[i] (buffer), info[i + 1] (offset), info[i + 2] (elements).
  double* scratch(size_t i, int64_t* len) {
    *len = count(info_, i + 2, op_, "scratch length");
    return static_cast<double*>(optional(i, "scratch", cuda::DT::F64, *len));
  }

  // Runs the op on the operands' device; "nl.<op>: <err>" on failure.
  void run(const std::string& err) { check_cuda(env(), op_, err, rt_); }
  cuda::Runtime* rt() const { return rt_; }

 private:
  const Napi::CallbackInfo& info_;
  std::string op_;
  cuda::Runtime* rt_ = nullptr;
};

void register_cuda_nn_more(Napi::Env env, Napi::Object exports);

}  // namespace nl::binding
