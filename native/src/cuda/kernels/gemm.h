// The tiled GEMM kernel: our fallback when cuBLAS is not found, and what the emulator runs.
// Tile 64x64 of C per block of 16x16 threads, each thread a 4x4 register tile; K in steps of 16
// through shared memory. Phases per K step: load the A and B tiles, then multiply-accumulate;
// a last phase writes C. grid = (ceil(n/64), ceil(m/64), batch). Row-major operands as in
// cpu/gemm.h; beta == 0 does not read C; alpha == 0 or k == 0 does not read A or B.
#pragma once
#include "cuda/launch.h"
#include "cuda/kernels/strided.h"

namespace nl::cuda {

struct GemmArgsD {
  DT dt;
  bool trans_a, trans_b;
  int64_t m, n, k;
  double alpha, beta;
  const void* a;
  int64_t a_off, lda, stride_a;
  const void* b;
  int64_t b_off, ldb, stride_b;
  void* c;
  int64_t c_off, ldc, stride_c;
  int64_t batch;
};

constexpr int kGemmTile = 64, kGemmK = 16, kGemmPad = 4;

template <class T>
struct GemmTiledK {
  struct Regs {
    T acc[4][4];
  };
  bool ta, tb;
  int64_t m, n, k;
  T alpha, beta;
  const T* a;
  int64_t lda, sa;
  const T* b;
  int64_t ldb, sb;
  T* c;
  int64_t ldc, sc;
  int64_t batch0;  // first batch index of this launch (grids have at most 65535 in z)
  int ksteps;      // 0 when alpha == 0 or k == 0

  NL_HD int phases() const { return 2 * ksteps + 1; }

  NL_HD void operator()(int phase, const Idx& at, char* smem, Regs& r) const {
    T* As = reinterpret_cast<T*>(smem);                    // [kGemmK][kGemmTile + pad]: As[kk][i]
    T* Bs = As + kGemmK * (kGemmTile + kGemmPad);          // [kGemmK][kGemmTile + pad]: Bs[kk][j]
    const int64_t bi = batch0 + at.block.z;
    const T* A = a + bi * sa;
    const T* B = b + bi * sb;
    const int64_t row0 = int64_t(at.block.y) * kGemmTile, col0 = int64_t(at.block.x) * kGemmTile;
    const int tid = int(at.thread.x + 16 * at.thread.y);
    if (phase < 2 * ksteps && phase % 2 == 0) {
      const int64_t k0 = int64_t(phase / 2) * kGemmK;
      for (int e = tid; e < kGemmK * kGemmTile; e += 256) {
        const int kk = e / kGemmTile, ii = e % kGemmTile;
        const int64_t gi = row0 + ii, gk = k0 + kk, gj = col0 + ii;
        T av = T(0), bv = T(0);
        if (gi < m && gk < k) av = ta ? A[gk * lda + gi] : A[gi * lda + gk];
        if (gj < n && gk < k) bv = tb ? B[gj * ldb + gk] : B[gk * ldb + gj];
        As[kk * (kGemmTile + kGemmPad) + ii] = av;
        Bs[kk * (kGemmTile + kGemmPad) + ii] = bv;
      }
    } else if (phase < 2 * ksteps) {
      const int ty = int(at.thread.y), tx = int(at.thread.x);
      for (int kk = 0; kk < kGemmK; ++kk) {
        T av[4], bv[4];
        for (int u = 0; u < 4; ++u) av[u] = As[kk * (kGemmTile + kGemmPad) + ty + 16 * u];
        for (int v = 0; v < 4; ++v) bv[v] = Bs[kk * (kGemmTile + kGemmPad) + tx + 16 * v];
        for (int u = 0; u < 4; ++u)
          for (int v = 0; v < 4; ++v) r.acc[u][v] += av[u] * bv[v];
      }
    } else {
      T* C = c + bi * sc;
      for (int u = 0; u < 4; ++u) {
        const int64_t gi = row0 + at.thread.y + 16 * u;
        if (gi >= m) continue;
        for (int v = 0; v < 4; ++v) {
          const int64_t gj = col0 + at.thread.x + 16 * v;
          if (gj >= n) continue;
          T* dst = C + gi * ldc + gj;
          *dst = beta == T(0) ? alpha * r.acc[u][v] : alpha * r.acc[u][v] + beta * *dst;
        }
      }
    }
  }
};

template <class T, class Exec>
std::string gemm_tiled(Exec& ex, const GemmArgsD& g) {
  GemmTiledK<T> kern{g.trans_a, g.trans_b, g.m, g.n, g.k, T(g.alpha), T(g.beta),
                     static_cast<const T*>(g.a) + g.a_off, g.lda, g.stride_a,
                     static_cast<const T*>(g.b) + g.b_off, g.ldb, g.stride_b,
                     static_cast<T*>(g.c) + g.c_off, g.ldc, g.stride_c, 0,
                     (g.alpha == 0 || g.k == 0) ? 0 : int(ceil_div(g.k, kGemmK))};
  Launch l;
  l.block = {16, 16, 1};
  l.grid.x = unsigned(ceil_div(g.n, kGemmTile));
  l.grid.y = unsigned(ceil_div(g.m, kGemmTile));
  l.smem = unsigned(2 * kGemmK * (kGemmTile + kGemmPad) * sizeof(T));
  for (int64_t b0 = 0; b0 < g.batch; b0 += 65535) {
    kern.batch0 = b0;
    l.grid.z = unsigned(g.batch - b0 < 65535 ? g.batch - b0 : 65535);
    std::string err = ex.launch(kern, l);
    if (!err.empty()) return err;
  }
  return "";
}

}  // namespace nl::cuda
