// SelfModifyingTitans fused CPU forward (see self_mod.h): per (batch, head), blocks of `block`
// tokens cut into pieces at every snapshot; per piece the snapshot-only quantities in small GEMMs
// (Worker::precompute), then the token recurrence and the read of mem (Worker::step).
#include <algorithm>

#include "cpu/chunking.h"
#include "cpu/self_mod.h"
#include "cpu/self_mod_dual.h"
#include "cpu/self_mod_work.h"
#include "cpu/thread_pool.h"

namespace nl {

template <typename F>
void self_mod_forward(const SelfModDims& dims, const F* x, const F* q, const F* const* state, F* o, F* const* out,
                      F* ckpt, const F* xv) {
  SelfModDims d = dims;  // one block when block >= T (same result, scratch by the real block)
  d.block = effective_tile(d.block, d.seq);
  using self_mod_detail::Dual;
  using self_mod_detail::scratch_for;
  using self_mod_detail::Worker;
  const int64_t T = d.seq, H = d.heads, D = d.d, nblk = (T + d.block - 1) / d.block;
  parallel_for_dynamic(d.batch * d.heads, 1, [&](int64_t begin, int64_t end) {
    Worker<F>& w = scratch_for<Worker<F>>(d, [&] { return std::make_unique<Worker<F>>(d); });
    Dual<F>* du = d.dual ? &scratch_for<Dual<F>>(d, [&] { return std::make_unique<Dual<F>>(d); }) : nullptr;
    for (int64_t bh = begin; bh < end; ++bh) {
      const int64_t b = bh / H, h = bh % H;
      w.load(b, h, state);
      const int64_t ns = static_cast<int64_t>(w.st.size());
      for (int64_t t0 = 0; t0 < T; t0 += d.block) {
        const int64_t bl = std::min(d.block, T - t0);
        if (ckpt) std::copy(w.st.begin(), w.st.end(), ckpt + (bh * nblk + t0 / d.block) * ns);
        for (int64_t r = 0; r < bl;) {
          const int64_t L = std::min(bl - r, w.snapshot(d.tokens + t0 + r));
          w.precompute(b, h, t0 + r, r, L, x, q, xv);
          if (du) du->piece(w, r, L, o + ((b * T + t0 + r) * H + h) * D, H * D);
          else for (int64_t i = r; i < r + L; ++i) w.step(i, nullptr, o + ((b * T + t0 + i) * H + h) * D);
          r += L;
        }
      }
      w.store(b, h, w.st, out);
    }
  });
}

template void self_mod_forward<float>(const SelfModDims&, const float*, const float*, const float* const*, float*,
                                      float* const*, float*, const float*);
template void self_mod_forward<double>(const SelfModDims&, const double*, const double*, const double* const*,
                                       double*, double* const*, double*, const double*);

}  // namespace nl
