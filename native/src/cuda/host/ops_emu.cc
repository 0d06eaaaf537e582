// The op table for the emulated device: every CUDA kernel run by the host emulator.
#include "cuda/host/emulate.h"
#include "cuda/ops/table.h"

namespace nl::cuda {
namespace {

struct EmuExec {
  explicit EmuExec(void*) {}
  template <class K>
  std::string launch(const K& k, const Launch& l) {
    return emulate(k, l);
  }
  // no cuBLAS in the emulator: the tiled kernel serves
  bool gemm_blas(const GemmArgsD&, std::string&) { return false; }
};

}  // namespace

const OpTable& emu_ops() {
  using ExecType = EmuExec;
  static const OpTable table{NL_CUDA_OPS(NL_CUDA_OP_ENTRY)};
  return table;
}

}  // namespace nl::cuda
