// The op table for the emulated device: every CUDA kernel run by the host emulator, in the
// schedule emu_order() says; and the race check's test-only probe (race_probe.h).
#include "cuda/host/emulate.h"
#include "cuda/host/race_probe.h"
#include "cuda/ops/table.h"
#include "cuda/runtime.h"

namespace nl::cuda {
namespace {

struct EmuExec {
  Runtime* rt;
  explicit EmuExec(void* ctx) : rt(static_cast<Runtime*>(ctx)) {}
  // In the schedule emu_order() names; in check mode under several, compared (emu_order.h).
  template <class K>
  std::string launch(const K& k, const Launch& l) {
    const EmuOrder order = emu_order();
    if (order.kind != EmuOrderKind::kCheck) return emulate(k, l, order);
    return emulate_checked(rt, kernel_name<K>(), &k, sizeof(K), [&](const EmuOrder& o) { return emulate(k, l, o); });
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

namespace nl::cuda {

std::string emu_race_probe(Runtime* rt, int kind, float* out, unsigned threads) {
  Launch l;
  l.block.x = threads;
  l.smem = threads * sizeof(float);
  EmuExec ex(rt);
  return ex.launch(RaceProbeKernel{out, kind}, l);
}

}  // namespace nl::cuda
