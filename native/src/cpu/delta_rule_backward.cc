// Gated delta rule: chunked backward with chunk-boundary recompute. See delta_rule.h.
//
// Per (batch, head): the chunked forward (delta_rule.cc) recomputes the state S0 at the start of every
// chunk ([N, Dk, Dv], N = ceil(T/C)); chunks are then visited last to first. Inside a chunk the
// forward quantities are recomputed from S0 (notation of delta_rule.cc):
//   KK = K K^T, QK = Q K^T, KS = K S0, QS = Q S0, R_i = b_i (v_i - e_i KS_i), D = (I + A)^{-1} R,
//   A_im = b_i G_im KK_im (m < i), O = diag(e) QS + P D with P_im = G_im QK_im (m <= i),
//   S_L = e_L S0 + K^T diag(G_L.) D
// and reversed with small matmuls, given dS = dL/dS_L:
//   dD = diag(G_L.) K dS + P^T dO          dK += diag(G_L.) D dS^T        dG_Lm += k_m.(dS d_m)
//   dP = dO D^T -> dG += QK . dP, dQK = G . dP;  dQ += dQK K + diag(e) dO S0^T;  dK += dQK^T Q
//   dR = (I + A)^{-T} dD (back substitution), dA = -dR D^T (strictly lower)
//     -> db_i += sum_m G_im KK_im dA_im,  dG += b . KK . dA,  dKK = b . G . dA,  dK += (dKK + dKK^T) K
//   db_i += dR_i.(v_i - e_i KS_i),  dv_i = b_i dR_i,  de_i -= b_i dR_i.KS_i,  dKS = -b e dR
//   dK += dKS S0^T;  dS0 = e_L dS + Q^T diag(e) dO + K^T dKS
// and the gates from de and dG without divisions (so a = 0 is exact):
//   da_s = sum_{i>=s} G_is ( de_i e_{s-1} + sum_{m<s} dG_im G_{s-1,m} )
// With the snapshot correction c_i = e_i + a_i and da_i gains -b_i dR_i.KS_i directly; without the
// erase term (linear attention) A = 0 and c_i loses e_i.
// Memory: N boundary states plus O(C^2 + C D + D^2) scratch per thread.
#include <algorithm>
#include <vector>

#include "cpu/chunking.h"
#include "cpu/delta_rule.h"
#include "cpu/delta_rule_vec.h"
#include "cpu/thread_pool.h"

namespace nl {
namespace {

template <typename F>
struct Work {
  explicit Work(const DeltaRuleDims& d) {
    const size_t C = static_cast<size_t>(d.chunk), dk = static_cast<size_t>(d.dk), dv = static_cast<size_t>(d.dv);
    const size_t nchunks = static_cast<size_t>(std::max<int64_t>((d.seq + d.chunk - 1) / d.chunk, 1));
    boundary.resize(nchunks * dk * dv);
    fwd_scratch.resize(static_cast<size_t>(delta_rule_detail::scratch_size(d)));
    for (auto* v : {&K, &Q, &dKc, &dQc, &DdSt}) v->resize(C * dk);
    for (auto* v : {&Kt, &Qt}) v->resize(dk * C);
    for (auto* v : {&V, &KS, &QS, &D, &dO, &dD, &dR, &dX}) v->resize(C * dv);
    Dt.resize(dv * C);
    for (auto* v : {&Gam, &KK, &QK, &dG, &M1, &M2}) v->resize(C * C);
    for (auto* v : {&e, &de, &al, &be, &dbe, &dal_direct}) v->resize(C);
    for (auto* v : {&S, &S0t, &dSt, &dSacc}) v->resize(dk * dv);
  }
  std::vector<F> boundary, fwd_scratch;
  std::vector<F> K, Q, dKc, dQc, DdSt, Kt, Qt, V, KS, QS, D, dO, dD, dR, dX, Dt, Gam, KK, QK, dG, M1, M2;
  std::vector<F> e, de, al, be, dbe, dal_direct, S, S0t, dSt, dSacc;
};

// One chunk [t0, t0+L) of one (b, h). S0: state at the chunk start; dS: dL/dS_L in, dL/dS0 out.
template <typename F>
void chunk_backward(const DeltaRuleDims& d, int64_t b, int64_t h, int64_t t0, int64_t L, const F* q, const F* k,
                    const F* v, const F* alpha, const F* beta, const F* d_o, const F* S0, F* dS, F* dq_out,
                    F* dk_out, F* dv_out, F* dalpha, F* dbeta, Work<F>& w) {
  using memvec::dot;
  using memvec::matmul;
  using memvec::transpose;
  const int64_t T = d.seq, H = d.heads, dk = d.dk, dv = d.dv, C = d.chunk, n = dk * dv;
  F *K = w.K.data(), *Q = w.Q.data(), *Kt = w.Kt.data(), *Qt = w.Qt.data(), *V = w.V.data();
  F *KS = w.KS.data(), *QS = w.QS.data(), *D = w.D.data(), *dO = w.dO.data(), *dD = w.dD.data();
  F *dR = w.dR.data(), *dX = w.dX.data(), *Dt = w.Dt.data(), *Gam = w.Gam.data(), *KK = w.KK.data();
  F *QK = w.QK.data(), *dG = w.dG.data(), *M1 = w.M1.data(), *M2 = w.M2.data(), *e = w.e.data();
  F *de = w.de.data(), *al = w.al.data(), *be = w.be.data(), *dbe = w.dbe.data(), *S0t = w.S0t.data();
  F* dal_direct = w.dal_direct.data();
  F *dSt = w.dSt.data(), *dSacc = w.dSacc.data(), *dKc = w.dKc.data(), *dQc = w.dQc.data(), *DdSt = w.DdSt.data();
  // ---- recompute the chunk's forward quantities
  for (int64_t i = 0; i < L; ++i) {
    const int64_t row = (b * T + t0 + i) * H + h;
    std::copy(k + row * dk, k + row * dk + dk, K + i * dk);
    std::copy(q + row * dk, q + row * dk + dk, Q + i * dk);
    std::copy(v + row * dv, v + row * dv + dv, V + i * dv);
    std::copy(d_o + row * dv, d_o + row * dv + dv, dO + i * dv);
    al[i] = alpha[row];
    be[i] = beta[row];
  }
  transpose<F>(L, dk, K, dk, Kt, C);
  transpose<F>(L, dk, Q, dk, Qt, C);
  transpose<F>(dk, dv, S0, dv, S0t, dk);
  transpose<F>(dk, dv, dS, dv, dSt, dk);
  F run = 1;
  for (int64_t i = 0; i < L; ++i) {
    run *= al[i];
    e[i] = run;
    Gam[i * C + i] = 1;
    for (int64_t j = i - 1; j >= 0; --j) Gam[i * C + j] = Gam[i * C + j + 1] * al[j + 1];
  }
  matmul<F>(L, L, dk, K, dk, Kt, C, KK, C, false);
  matmul<F>(L, L, dk, Q, dk, Kt, C, QK, C, false);
  matmul<F>(L, dv, dk, K, dk, S0, dv, KS, dv, false);
  matmul<F>(L, dv, dk, Q, dk, S0, dv, QS, dv, false);
  for (int64_t i = 0; i < L; ++i) {
    F* di = D + i * dv;
    const F ci = (d.erase ? e[i] : F(0)) + (d.snapshot ? al[i] : F(0));
    for (int64_t j = 0; j < dv; ++j) di[j] = be[i] * (V[i * dv + j] - ci * KS[i * dv + j]);
    if (d.erase) {
      for (int64_t m = 0; m < i; ++m) memvec::axpy(dv, -be[i] * Gam[i * C + m] * KK[i * C + m], D + m * dv, di);
    }
  }
  transpose<F>(L, dv, D, dv, Dt, C);
  std::fill(dG, dG + C * C, F(0));
  std::fill(de, de + L, F(0));
  std::fill(dbe, dbe + L, F(0));
  // ---- state: S_L = e_L S0 + K^T diag(G_L.) D
  const F* GL = Gam + (L - 1) * C;
  matmul<F>(L, dv, dk, K, dk, dS, dv, dD, dv, false);  // K dS
  for (int64_t m = 0; m < L; ++m)
    for (int64_t j = 0; j < dv; ++j) dD[m * dv + j] *= GL[m];
  matmul<F>(L, dk, dv, D, dv, dSt, dk, DdSt, dk, false);  // D dS^T
  for (int64_t m = 0; m < L; ++m) {
    dG[(L - 1) * C + m] += dot(K + m * dk, DdSt + m * dk, dk);
    for (int64_t p = 0; p < dk; ++p) dKc[m * dk + p] = GL[m] * DdSt[m * dk + p];
  }
  de[L - 1] += dot(S0, dS, n);
  for (int64_t p = 0; p < n; ++p) dSacc[p] = e[L - 1] * dS[p];
  // ---- outputs: O = diag(e) QS + P D
  for (int64_t i = 0; i < L; ++i) {
    de[i] += dot(QS + i * dv, dO + i * dv, dv);
    for (int64_t j = 0; j < dv; ++j) dX[i * dv + j] = e[i] * dO[i * dv + j];  // dQS
  }
  matmul<F>(L, L, dv, dO, dv, Dt, C, M1, C, false);  // dP = dO D^T
  for (int64_t i = 0; i < L; ++i) {
    for (int64_t m = 0; m <= i; ++m) {
      dG[i * C + m] += QK[i * C + m] * M1[i * C + m];
      M1[i * C + m] *= Gam[i * C + m];            // dQK
      M2[m * C + i] = Gam[i * C + m] * QK[i * C + m];  // P^T
    }
    for (int64_t m = i + 1; m < L; ++m) {
      M1[i * C + m] = 0;
      M2[m * C + i] = 0;
    }
  }
  matmul<F>(L, dv, L, M2, C, dO, dv, dD, dv, true);    // dD += P^T dO
  matmul<F>(L, dk, L, M1, C, K, dk, dQc, dk, false);   // dQ = dQK K
  transpose<F>(L, L, M1, C, M2, C);                    // dQK^T
  matmul<F>(L, dk, L, M2, C, Q, dk, dKc, dk, true);    // dK += dQK^T Q
  matmul<F>(L, dk, dv, dX, dv, S0t, dk, dQc, dk, true);  // dQ += dQS S0^T
  matmul<F>(dk, dv, L, Qt, C, dX, dv, dSacc, dv, true);  // dS0 += Q^T dQS
  // ---- back substitution: (I + A^T) dR = dD
  for (int64_t i = L - 1; i >= 0; --i) {
    F* ri = dR + i * dv;
    std::copy(dD + i * dv, dD + (i + 1) * dv, ri);
    if (!d.erase) continue;  // A = 0
    for (int64_t m = i + 1; m < L; ++m) memvec::axpy(dv, -be[m] * Gam[m * C + i] * KK[m * C + i], dR + m * dv, ri);
  }
  if (d.erase) {
  matmul<F>(L, L, dv, dR, dv, Dt, C, M1, C, false);  // -dA = dR D^T
  for (int64_t i = 0; i < L; ++i) {
    M2[i * C + i] = 0;
    for (int64_t m = 0; m < i; ++m) {
      const F dA = -M1[i * C + m];
      dbe[i] += Gam[i * C + m] * KK[i * C + m] * dA;
      dG[i * C + m] += be[i] * KK[i * C + m] * dA;
      const F dKK = be[i] * Gam[i * C + m] * dA;
      M2[i * C + m] = dKK;  // symmetric dKK + dKK^T
      M2[m * C + i] = dKK;
    }
  }
  matmul<F>(L, dk, L, M2, C, K, dk, dKc, dk, true);  // dK += (dKK + dKK^T) K
  }
  // ---- R_i = b_i (v_i - c_i KS_i), c_i = e_i (+ a_i with the snapshot correction)
  for (int64_t i = 0; i < L; ++i) {
    const F* ri = dR + i * dv;
    const F* ksi = KS + i * dv;
    const F ci = (d.erase ? e[i] : F(0)) + (d.snapshot ? al[i] : F(0));
    F sv = 0, sks = 0;
    for (int64_t j = 0; j < dv; ++j) {
      sv += ri[j] * (V[i * dv + j] - ci * ksi[j]);
      sks += ri[j] * ksi[j];
    }
    dbe[i] += sv;
    if (d.erase) de[i] -= be[i] * sks;
    dal_direct[i] = d.snapshot ? -be[i] * sks : F(0);
    F* dvi = dv_out + ((b * T + t0 + i) * H + h) * dv;
    for (int64_t j = 0; j < dv; ++j) {
      dvi[j] = be[i] * ri[j];
      dX[i * dv + j] = -be[i] * ci * ri[j];  // dKS
    }
  }
  matmul<F>(L, dk, dv, dX, dv, S0t, dk, dKc, dk, true);  // dK += dKS S0^T
  matmul<F>(dk, dv, L, Kt, C, dX, dv, dSacc, dv, true);  // dS0 += K^T dKS
  // ---- gates
  for (int64_t s = 0; s < L; ++s) {
    const F es = s > 0 ? e[s - 1] : F(1);
    F acc = 0;
    for (int64_t i = s; i < L; ++i) {
      F inner = de[i] * es;
      if (s > 0) {
        const F* gi = dG + i * C;
        const F* gs = Gam + (s - 1) * C;
        for (int64_t m = 0; m < s; ++m) inner += gi[m] * gs[m];
      }
      acc += Gam[i * C + s] * inner;
    }
    const int64_t row = (b * T + t0 + s) * H + h;
    dalpha[row] = acc + dal_direct[s];
    dbeta[row] = dbe[s];
    std::copy(dQc + s * dk, dQc + (s + 1) * dk, dq_out + row * dk);
    std::copy(dKc + s * dk, dKc + (s + 1) * dk, dk_out + row * dk);
  }
  std::copy(dSacc, dSacc + n, dS);
}

}  // namespace

template <typename F>
void delta_rule_backward(const DeltaRuleDims& dims, const F* q, const F* k, const F* v, const F* alpha, const F* beta,
                         const F* s0, const F* d_o, const F* d_state, F* dq, F* dk, F* dv, F* dalpha, F* dbeta,
                         F* ds0) {
  const DeltaRuleDims d = with_effective_chunk(dims);  // chunk >= T is one chunk of T (same result)
  const int64_t n = d.dk * d.dv;
  const int64_t nchunks = (d.seq + d.chunk - 1) / d.chunk;
  parallel_for(d.batch * d.heads, 1, [&](int64_t begin, int64_t end) {
    Work<F> w(d);
    for (int64_t bh = begin; bh < end; ++bh) {
      const int64_t b = bh / d.heads, h = bh % d.heads;
      F* S = w.S.data();
      if (s0) std::copy(s0 + bh * n, s0 + bh * n + n, S);
      else std::fill(S, S + n, F(0));
      delta_rule_detail::forward_one<F>(d, b, h, q, k, v, alpha, beta, S, nullptr, w.boundary.data(),
                                        w.fwd_scratch.data());
      F* dS = ds0 + bh * n;  // dL/dS at the current chunk end; ends as dL/dS0
      if (d_state) std::copy(d_state + bh * n, d_state + bh * n + n, dS);
      else std::fill(dS, dS + n, F(0));
      for (int64_t c = nchunks - 1; c >= 0; --c) {
        const int64_t t0 = c * d.chunk;
        chunk_backward<F>(d, b, h, t0, std::min(d.chunk, d.seq - t0), q, k, v, alpha, beta, d_o,
                          w.boundary.data() + c * n, dS, dq, dk, dv, dalpha, dbeta, w);
      }
    }
  });
}

template void delta_rule_backward<float>(const DeltaRuleDims&, const float*, const float*, const float*, const float*,
                                         const float*, const float*, const float*, const float*, float*, float*,
                                         float*, float*, float*, float*);
template void delta_rule_backward<double>(const DeltaRuleDims&, const double*, const double*, const double*,
                                          const double*, const double*, const double*, const double*, const double*,
                                          double*, double*, double*, double*, double*, double*);

}  // namespace nl
