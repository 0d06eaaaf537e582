// GEMM, version 2: BLIS-style blocked and packed, with a register-tiled SIMD micro-kernel.
//
//   for jc in n step NC:                 columns of C/B
//     for pc in k step KC:               depth; the first block applies beta, later ones add
//       pack op(B)[pc.., jc..] -> Bp     (shared by all threads, packed in parallel)
//       for ic in m step MC:             rows of C/A: tasks claimed by the pool's threads
//         pack op(A)[ic.., pc..] -> Ap   (per thread)
//         for jr in nc step NR, ir in mc step MR: micro_kernel (gemm_kernel.h)
//
// Transposes are absorbed by packing (gemm_pack.h): no operand is copied whole. Batches of small
// products are split over the pool by product (each thread runs the serial blocked loop); large
// products are split inside. Products with fewer rows than a tile (m < MR, matrix-vector shapes)
// take the unpacked path in gemm_small.cc. Tile and block sizes: GemmTile<T> in gemm_kernel.h.
// Version 1, the plain loop, lives on as the reference in gemm_ref.cc.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "cpu/gemm.h"
#include "cpu/gemm_isa.h"
#include "cpu/gemm_kernel.h"
#include "cpu/gemm_pack.h"
#include "cpu/gemm_small.h"
#include "cpu/thread_pool.h"

namespace nl {
namespace {
using namespace gemm_detail::NL_GEMM_ISA;

// A per-thread, 64-byte-aligned scratch buffer that only grows.
template <typename T>
struct Scratch {
  T* ptr = nullptr;
  size_t cap = 0;
  ~Scratch() { std::free(ptr); }
  T* get(size_t n) {
    if (n > cap) {
      std::free(ptr);
      const size_t bytes = (n * sizeof(T) + 63) / 64 * 64;
      ptr = static_cast<T*>(std::aligned_alloc(64, bytes));
      cap = ptr ? n : 0;
      if (!ptr) std::abort();  // out of memory for a few MiB of scratch: nothing sane to do
    }
    return ptr;
  }
};
template <typename T>
T* scratch_a(size_t n) {
  thread_local Scratch<T> s;
  return s.get(n);
}
template <typename T>
T* scratch_b(size_t n) {
  thread_local Scratch<T> s;
  return s.get(n);
}

inline int64_t round_up(int64_t x, int64_t to) { return (x + to - 1) / to * to; }

// C[m x n] <- beta * C (beta == 0 writes zeros without reading).
template <typename T>
void scale_c(int64_t m, int64_t n, T* c, int64_t ldc, T beta) {
  for (int64_t i = 0; i < m; ++i) {
    T* row = c + i * ldc;
    if (beta == T(0)) {
      std::fill(row, row + n, T(0));
    } else if (beta != T(1)) {
      for (int64_t j = 0; j < n; ++j) row[j] *= beta;
    }
  }
}

// One block of op(A), rows [ic, ic+mc) x depth [pc, pc+kc), as the micro-kernel reads it: either
// packed, or read in place (raw, with row/depth strides) with only a partial last panel packed.
template <typename T>
struct ABlock {
  const T* packed = nullptr;
  const T* raw = nullptr;
  int64_t rs = 0, cs = 0;
  const T* edge = nullptr;
};

// A panel of A is read once per NR-panel of B; packing pays for itself when it is read more often
// than this, and reading A in place is cheaper below it.
constexpr int64_t kPackAMinPanels = 3;

template <typename T>
ABlock<T> prepare_a(bool pack, T* buf, const GemmArgs& g, const T* a, int64_t ic, int64_t mc, int64_t pc,
                    int64_t kc) {
  constexpr int64_t MR = GemmTile<T>::MR;
  ABlock<T> blk;
  if (pack) {
    pack_a(buf, a, g.lda, g.trans_a, ic, mc, pc, kc);
    blk.packed = buf;
    return blk;
  }
  blk.raw = g.trans_a ? a + pc * g.lda + ic : a + ic * g.lda + pc;
  blk.rs = g.trans_a ? 1 : g.lda;
  blk.cs = g.trans_a ? g.lda : 1;
  if (mc % MR != 0) {
    pack_a_panel(buf, a, g.lda, g.trans_a, ic + mc / MR * MR, static_cast<int>(mc % MR), pc, kc);
    blk.edge = buf;
  }
  return blk;
}

// The two inner loops over one A block (mc x kc) and NR-panels [jr0, jr1) of a packed B block
// whose valid width is nc. c points at the block's top-left element of C.
template <typename T>
void macro_kernel(int64_t mc, int64_t nc, int64_t jr0, int64_t jr1, int64_t kc, const ABlock<T>& A, const T* bp,
                  T* c, int64_t ldc, T alpha, T beta) {
  constexpr int MR = GemmTile<T>::MR, NR = GemmTile<T>::NR;
  for (int64_t jr = jr0; jr < jr1; jr += NR) {
    const int64_t nr = std::min<int64_t>(NR, nc - jr);
    const T* b = bp + jr * kc;
    for (int64_t ir = 0; ir < mc; ir += MR) {
      const int64_t mr = std::min<int64_t>(MR, mc - ir);
      T* cij = c + ir * ldc + jr;
      if (mr == MR && nr == NR) {
        if (A.raw) {
          micro_kernel<T, false>(kc, A.raw + ir * A.rs, A.rs, A.cs, b, cij, ldc, alpha, beta);
        } else {
          micro_kernel<T>(kc, A.packed + ir * kc, b, cij, ldc, alpha, beta);
        }
        continue;
      }
      auto kernel = [&](T* dst, int64_t ldd, T al, T be) {  // edge tiles: only the vectors nr needs
        if (A.raw && mr == MR) {
          micro_kernel_cols<T, false>(nr, kc, A.raw + ir * A.rs, A.rs, A.cs, b, dst, ldd, al, be);
        } else {
          micro_kernel_cols<T, true>(nr, kc, A.raw ? A.edge : A.packed + ir * kc, 0, 0, b, dst, ldd, al, be);
        }
      };
      // Edge tile: the raw sums go to a scratch tile, then into C with the same roundings as the
      // kernel's own store, so no result depends on whether its tile was an edge one.
      alignas(64) T tile[MR * NR];
      kernel(tile, NR, T(1), T(0));
      for (int64_t i = 0; i < mr; ++i) {
        T* row = cij + i * ldc;
        const T* t = tile + i * NR;
        if (beta == T(0)) {
          for (int64_t j = 0; j < nr; ++j) row[j] = alpha * t[j];
        } else if (beta == T(1)) {
          for (int64_t j = 0; j < nr; ++j) row[j] = std::fma(alpha, t[j], row[j]);
        } else {
          for (int64_t j = 0; j < nr; ++j) row[j] = std::fma(alpha, t[j], beta * row[j]);
        }
      }
    }
  }
}

// One product, on the calling thread only.
template <typename T>
void gemm_serial(const GemmArgs& g, T alpha, const T* a, const T* b, T beta, T* c) {
  using Tile = GemmTile<T>;
  const int64_t m = g.m, n = g.n, k = g.k;
  T* bp = scratch_b<T>(round_up(std::min(n, Tile::NC), Tile::NR) * std::min(k, Tile::KC));
  T* ap = scratch_a<T>(round_up(std::min(m, Tile::MC), Tile::MR) * std::min(k, Tile::KC));
  for (int64_t jc = 0; jc < n; jc += Tile::NC) {
    const int64_t nc = std::min(Tile::NC, n - jc);
    for (int64_t pc = 0; pc < k; pc += Tile::KC) {
      const int64_t kc = std::min(Tile::KC, k - pc);
      const T beta_pc = pc == 0 ? beta : T(1);
      pack_b(bp, b, g.ldb, g.trans_b, pc, kc, jc, nc);
      const bool pack = (nc + Tile::NR - 1) / Tile::NR >= kPackAMinPanels;
      for (int64_t ic = 0; ic < m; ic += Tile::MC) {
        const int64_t mc = std::min(Tile::MC, m - ic);
        const ABlock<T> blk = prepare_a(pack, ap, g, a, ic, mc, pc, kc);
        macro_kernel(mc, nc, 0, nc, kc, blk, bp, c + ic * g.ldc + jc, g.ldc, alpha, beta_pc);
      }
    }
  }
}

// One product, split over the pool: B blocks are packed cooperatively, then the threads claim
// (row block, column range) tasks one at a time, packing the A block of each task they take.
// There are a few tasks per thread, so a thread slowed down by a busy core takes fewer of them.
template <typename T>
void gemm_parallel(const GemmArgs& g, T alpha, const T* a, const T* b, T beta, T* c, int threads) {
  using Tile = GemmTile<T>;
  constexpr int64_t MR = Tile::MR, NR = Tile::NR;
  const int64_t m = g.m, n = g.n, k = g.k;
  // Row blocks of at most MC rows, at least 4 per thread and a multiple of the thread count (while
  // rows last), so that on idle cores every thread gets the same number of equal tasks.
  int64_t mblocks = std::max((m + Tile::MC - 1) / Tile::MC, int64_t(4) * threads);
  mblocks = std::min((m + MR - 1) / MR, round_up(mblocks, threads));
  const int64_t mc_blk = round_up((m + mblocks - 1) / mblocks, MR);
  mblocks = (m + mc_blk - 1) / mc_blk;
  T* bp = scratch_b<T>(round_up(std::min(n, Tile::NC), NR) * std::min(k, Tile::KC));
  for (int64_t jc = 0; jc < n; jc += Tile::NC) {
    const int64_t nc = std::min(Tile::NC, n - jc);
    const int64_t npanels = (nc + NR - 1) / NR;
    // Few row blocks (small m): also split the columns, into ranges of whole NR panels.
    const int64_t nsplit =
        mblocks >= 2 * threads ? 1 : std::min(npanels, (4 * threads + mblocks - 1) / mblocks);
    const int64_t tasks = mblocks * nsplit;
    for (int64_t pc = 0; pc < k; pc += Tile::KC) {
      const int64_t kc = std::min(Tile::KC, k - pc);
      const T beta_pc = pc == 0 ? beta : T(1);
      parallel_for_dynamic(npanels, std::max<int64_t>(1, npanels / (4 * threads)), [&](int64_t p0, int64_t p1) {
        for (int64_t p = p0; p < p1; ++p) {
          const int nr = static_cast<int>(std::min<int64_t>(NR, nc - p * NR));
          pack_b_panel(bp + p * NR * kc, b, g.ldb, g.trans_b, pc, kc, jc + p * NR, nr);
        }
      });
      parallel_for_dynamic(tasks, 1, [&](int64_t t0, int64_t t1) {
        T* ap = scratch_a<T>(mc_blk * kc);
        for (int64_t t = t0; t < t1; ++t) {
          const int64_t mb = t / nsplit, ns = t % nsplit;
          const int64_t ic = mb * mc_blk, mc = std::min(mc_blk, m - ic);
          const int64_t jp0 = npanels * ns / nsplit, jp1 = npanels * (ns + 1) / nsplit;
          const ABlock<T> blk = prepare_a(jp1 - jp0 >= kPackAMinPanels, ap, g, a, ic, mc, pc, kc);
          macro_kernel(mc, nc, jp0 * NR, std::min(nc, jp1 * NR), kc, blk, bp, c + ic * g.ldc + jc, g.ldc, alpha,
                       beta_pc);
        }
      });
    }
  }
}

template <typename T>
void gemm(const GemmArgs& g, T alpha, const T* a, const T* b, T beta, T* c) {
  if (g.m == 0 || g.n == 0 || g.batch == 0) return;
  if (g.k == 0 || alpha == T(0)) {
    for (int64_t bi = 0; bi < g.batch; ++bi) scale_c(g.m, g.n, c + bi * g.stride_c, g.ldc, beta);
    return;
  }
  const int threads = num_threads();
  // Multiply-adds per product (as a double: m*n*k of huge operands could overflow int64).
  const double work = static_cast<double>(g.m) * static_cast<double>(g.n) * static_cast<double>(g.k);
  const bool tiny = work < 64.0 * 64 * 64;      // one thread: a fork-join would cost more than it saves
  const bool small = work < 128.0 * 128 * 256;  // in a batch, better one product per thread
  auto one = [&](int64_t bi, bool parallel) {
    const T* A = a + bi * g.stride_a;
    const T* B = b + bi * g.stride_b;
    T* C = c + bi * g.stride_c;
    if (g.m < GemmTile<T>::MR) {
      gemm_small_m(g, alpha, A, B, beta, C, parallel);
    } else if (parallel) {
      gemm_parallel(g, alpha, A, B, beta, C, threads);
    } else {
      gemm_serial(g, alpha, A, B, beta, C);
    }
  };
  const bool by_product =
      g.batch > 1 && threads > 1 && (g.batch % threads == 0 || g.batch >= 4 * threads || small);
  if (by_product) {
    parallel_for_dynamic(g.batch, 1, [&](int64_t b0, int64_t b1) {
      for (int64_t bi = b0; bi < b1; ++bi) one(bi, false);
    });
    return;
  }
  for (int64_t bi = 0; bi < g.batch; ++bi) one(bi, threads > 1 && !tiny);
}

}  // namespace

// This copy's entry points; nl::gemm_f32 / gemm_f64 (simd_dispatch.cc) pick a copy at run time.
namespace gemm_detail::NL_GEMM_ISA {
void gemm_f32(const GemmArgs& g, float alpha, const float* a, const float* b, float beta, float* c) {
  gemm(g, alpha, a, b, beta, c);
}
void gemm_f64(const GemmArgs& g, double alpha, const double* a, const double* b, double beta, double* c) {
  gemm(g, alpha, a, b, beta, c);
}
}  // namespace gemm_detail::NL_GEMM_ISA

}  // namespace nl
