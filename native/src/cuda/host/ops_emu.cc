// The op table for the emulated device: every CUDA kernel run by the host emulator.
#include "cuda/host/emulate.h"
#include "cuda/ops/table.h"
#include "cuda/runtime.h"

namespace nl::cuda {
namespace {

struct EmuExec {
  Runtime* rt;
  explicit EmuExec(void* ctx) : rt(static_cast<Runtime*>(ctx)) {}
  template <class K>
  std::string launch(const K& k, const Launch& l) {
    return emulate(k, l);
  }
  // no cuBLAS in the emulator: the tiled kernel serves
  bool gemm_blas(const GemmArgsD&, std::string&) { return false; }
  bool has_blas() const { return false; }
  bool gemm_bf16_blas(const GemmArgsD&) { return false; }
  int precision() const { return rt->precision(); }
  int32_t* fault() const { return rt->fault_word(); }
  void* scratch(size_t bytes, std::string& err) {
    void* p = nullptr;
    err = rt->alloc(bytes > 0 ? bytes : 1, false, &p);
    return err.empty() ? p : nullptr;
  }
  void release(void* p) { rt->free(p); }
};

}  // namespace

const OpTable& emu_ops() {
  using ExecType = EmuExec;
  static const OpTable table{NL_CUDA_OPS(NL_CUDA_OP_ENTRY)};
  return table;
}

}  // namespace nl::cuda
