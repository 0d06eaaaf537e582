// Titans linear memory, mini-batch chunk kernels (fused CPU forward and backward).
//
// Per (batch, head), M and S in R^{Dv x Dk} (row-major [Dv, Dk]), chunks of C tokens, t' = start
// of t's chunk:
//   u_t = (M_{t'} k_t - v_t) k_t^T            (gradient of 1/2 |M k - v|^2 at the chunk-start state)
//   S_t = eta_t S_{t-1} - theta_t u_t,   M_t = (1 - alpha_t) M_{t-1} + S_t
//   o_t = M_t q_t (read_after) or M_{t-1} q_t
// Layouts: q, k [B, T, H, Dk]; v, o [B, T, H, Dv]; theta, eta, alpha [B, T, H]; M, S [B, H, Dv, Dk].
// Forward (titans_linear.cc) uses the closed form inside a chunk; backward
// (titans_linear_backward.cc) recomputes chunk-boundary states with it, then recomputes one chunk
// of per-token states at a time and reverses the token recurrence. Threaded over (batch, head).
#pragma once
#include <cstdint>

namespace nl {

struct TitansLinearDims {
  int64_t batch = 0, seq = 0, heads = 0, dk = 0, dv = 0, chunk = 64;
  bool read_after = true;
};

// m0, s0 may be null (zeros). o [B,T,H,Dv]; m_out, s_out [B,H,Dv,Dk].
template <typename F>
void titans_linear_forward(const TitansLinearDims& d, const F* q, const F* k, const F* v, const F* theta,
                           const F* eta, const F* alpha, const F* m0, const F* s0, F* o, F* m_out, F* s_out);

// m0, s0, d_m, d_s may be null (zeros). Overwrites every gradient.
template <typename F>
void titans_linear_backward(const TitansLinearDims& d, const F* q, const F* k, const F* v, const F* theta,
                            const F* eta, const F* alpha, const F* m0, const F* s0, const F* d_o, const F* d_m,
                            const F* d_s, F* dq, F* dk, F* dv, F* dtheta, F* deta, F* dalpha, F* dm0, F* ds0);

namespace titans_detail {
// Chunked forward for one (batch b, head h) from M, S ([Dv, Dk], updated in place to M_T, S_T).
// o may be null; when m_bound/s_bound are non-null the states at the start of chunk n are written
// at offset n*Dv*Dk.
template <typename F>
void forward_one(const TitansLinearDims& d, int64_t b, int64_t h, const F* q, const F* k, const F* v,
                 const F* theta, const F* eta, const F* alpha, F* M, F* S, F* o, F* m_bound, F* s_bound,
                 F* scratch);
int64_t scratch_size(const TitansLinearDims& d);
}  // namespace titans_detail

}  // namespace nl
