// The op table: every CUDA op by name and argument struct. Each family header (ops/<family>.h)
// defines its Args structs and `template <class Exec> std::string <name>_op(Exec&, const Args&)`
// and lists its ops in an X-macro; NL_CUDA_OPS joins the lists. The table is instantiated twice,
// with the same text: for the GPU (gpu/ops_gpu.cu, Exec = GpuExec) and for the host emulator
// (host/ops_emu.cc, Exec = EmuExec). To add a family: write ops/<family>.h, include it here, add
// its list to NL_CUDA_OPS, and bind the ops in binding/cuda_<family>.cc.
#pragma once
#include <string>

#include "cuda/ops/elementwise.h"
#include "cuda/ops/gemm.h"
#include "cuda/ops/layout.h"
#include "cuda/ops/memory.h"
#include "cuda/ops/nn.h"
#include "cuda/ops/optim.h"
#include "cuda/ops/select.h"
#include "cuda/ops/self_mod.h"
#include "cuda/ops/titans.h"

#define NL_CUDA_OPS_ELEMENTWISE(X) \
  X(binary, BinaryArgs)            \
  X(unary, UnaryArgs)              \
  X(copy, CopyArgs)                \
  X(fill, FillArgs)

#define NL_CUDA_OPS(X)        \
  NL_CUDA_OPS_ELEMENTWISE(X) \
  NL_CUDA_OPS_GEMM(X)        \
  NL_CUDA_OPS_LAYOUT(X)      \
  NL_CUDA_OPS_SELECT(X)      \
  NL_CUDA_OPS_NN(X)          \
  NL_CUDA_OPS_OPTIM(X)       \
  NL_CUDA_OPS_MEMORY(X)      \
  NL_CUDA_OPS_SELF_MOD(X)    \
  NL_CUDA_OPS_TITANS(X)

namespace nl::cuda {

struct OpTable {
#define NL_CUDA_OP_SLOT(name, Args) std::string (*name)(void* ctx, const Args& args);
  NL_CUDA_OPS(NL_CUDA_OP_SLOT)
#undef NL_CUDA_OP_SLOT
};

// The tables (host/ops_emu.cc; gpu/ops_gpu.cu when CUDA is compiled in). `ctx` is the runtime.
const OpTable& emu_ops();

}  // namespace nl::cuda

// Fills an OpTable whose entries build `ExecType` from the runtime pointer and call <name>_op.
#define NL_CUDA_OP_ENTRY(name, Args) \
  +[](void* ctx, const Args& a) -> std::string { ExecType ex(ctx); return name##_op(ex, a); },
