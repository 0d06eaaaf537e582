// The schedule of the host emulator (emulate.h): in which order it runs the threads of each phase
// and the blocks of a grid. A race-free kernel (launch.h) computes the same bits in every order;
// one whose threads touch the same shared / global location within a phase (one of them writing)
// does not, which is how races show up without a GPU.
//   forward        blocks and threads in index order (the default)
//   reverse        blocks and threads in reverse index order
//   shuffle:<seed> a pseudo-random permutation of the blocks and, per block and phase, of the threads
//   check          every launch runs forward, reverse, shuffle:1 and shuffle:2 from the same device
//                  memory; the op fails with "order-dependent result" naming the kernel when any
//                  live buffer differs (float atomic adds may differ in the last bits: tolerated)
// Set by NL_CUDA_EMU_ORDER when the emulated device first opens, or by cudaEmuSetThreadOrder.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace nl::cuda {

class Runtime;

enum class EmuOrderKind { kForward, kReverse, kShuffle, kCheck };

struct EmuOrder {
  EmuOrderKind kind = EmuOrderKind::kForward;
  uint64_t seed = 0;
};

// Parses "forward" | "reverse" | "shuffle:<seed>" | "check" into `out`; "" or an error message.
std::string parse_emu_order(const std::string& text, EmuOrder& out);
std::string emu_order_name(const EmuOrder& o);

// The process-wide schedule of the emulated device.
EmuOrder& emu_order();

// splitmix64: the permutations' generator (fast, and every seed gives a distinct stream).
inline uint64_t emu_mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// order[0..n) = 0..n-1 permuted under `o`; `key` tells apart the permutations of one launch
// (blocks, or a block's phase).
inline void emu_permutation(std::vector<unsigned>& order, unsigned n, const EmuOrder& o, uint64_t key) {
  order.resize(n);
  for (unsigned i = 0; i < n; ++i) order[i] = o.kind == EmuOrderKind::kReverse ? n - 1 - i : i;
  if (o.kind != EmuOrderKind::kShuffle) return;
  uint64_t state = emu_mix(o.seed ^ emu_mix(key));
  for (unsigned i = n; i > 1; --i) {  // Fisher-Yates
    state = emu_mix(state);
    std::swap(order[i - 1], order[unsigned(state % i)]);
  }
}

// The live buffers of an emulated runtime (host/runtime_emu.cc).
void emu_live_buffers(Runtime* rt, std::vector<std::pair<char*, size_t>>& out);

// Check mode: runs `run` under forward, reverse, shuffle:1 and shuffle:2 from the same memory,
// leaves the forward result, and returns "" or the order-dependence found in `kernel`. Compared
// (and saved / restored) are the live buffers the kernel's argument struct `args` points into,
// directly or through pointer tables in those buffers.
std::string emulate_checked(Runtime* rt, const std::string& kernel, const void* args, size_t args_bytes,
                            const std::function<std::string(const EmuOrder&)>& run);

// Runs a test-only kernel of host/race_probe.h (`kind` 0..3) in one block of `threads` on `out`
// (a buffer of the emulated device) through the emulated op path (host/ops_emu.cc).
std::string emu_race_probe(Runtime* rt, int kind, float* out, unsigned threads);

// "nl::cuda::AddKernel<float>" for a kernel type, without RTTI.
template <class K>
std::string kernel_name() {
  std::string s = __PRETTY_FUNCTION__;
  size_t at = s.find("K = ");
  if (at == std::string::npos) return s;
  size_t end = s.find_first_of(";]", at);
  return s.substr(at + 4, end == std::string::npos ? std::string::npos : end - at - 4);
}

}  // namespace nl::cuda
