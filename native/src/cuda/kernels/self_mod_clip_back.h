// SelfModifyingTitans inner-gradient clip (dims.clip = c > 0) reversed on CUDA, token form and
// chunk ("dual") form; the forward is token phase 6 (sm_clip_forward, self_mod_token.h), which
// scaled e, cm (so g = cm silu'(p)) by s = c / max(n, c), n^2 = |e|^2 |a|^2 + |g|^2 |k|^2, and kept
// the unscaled e0, cm0, s and n^2 in the token's vector. Same maths as cpu/self_mod_clip.h: with the
// adjoints de', dg' of the scaled e, g, Q = <de', e> + <dg', g>, f = s Q / n^2, when n > c
//   de = s de' - f |a|^2 e,  dg = s dg' - f |k|^2 g,  da += -f |e|^2 a,  dk += -f |g|^2 k;
// when n <= c (s = 1) the adjoints stay. Both restore e, cm to the unscaled values, which the
// factors' reversal (cm = A1^T e, g = cm silu'(p), e's targets) uses. c = 0: nothing runs.
#pragma once
#include <cstdint>

#include "cuda/kernels/self_mod_token.h"

namespace nl::cuda {

// The clip of memory m of one token reversed: tv its vector; de [D], dg [Dh], da [Dh] the adjoints
// of the scaled e, g and of a (updated in place). Returns f |g|^2, the coefficient of k in dk's
// term (0 when n <= c).
NL_HD double sm_clip_back_one(const SelfModCudaDims& d, const SmLayout& ly, double* tv, int64_t m, double* de,
                              double* dg, double* da) {
  const int64_t D = d.D, Dh = d.Dh;
  double *e = tv + ly.e + m * D, *cm = tv + ly.cm + m * Dh;
  const double* p = tv + ly.p + m * Dh;
  for (int64_t c = 0; c < D; ++c) e[c] = tv[ly.e0 + m * D + c];
  for (int64_t j = 0; j < Dh; ++j) cm[j] = tv[ly.cm0 + m * Dh + j];
  const double s = tv[ly.cs + m], nn = tv[ly.cn + m];
  if (!(nn > d.clip * d.clip)) return 0;
  double q = 0, ee = 0, kk = 0, aa = 0, gg = 0;
  for (int64_t c = 0; c < D; ++c) {
    q += de[c] * e[c];
    ee += e[c] * e[c];
    kk += tv[ly.kn + c] * tv[ly.kn + c];
  }
  for (int64_t j = 0; j < Dh; ++j) {
    const double a = sm_silu(p[j]), g = cm[j] * sm_d1(p[j]);
    q += dg[j] * g;
    aa += a * a, gg += g * g;
  }
  const double f = s * q / nn;
  for (int64_t c = 0; c < D; ++c) de[c] = s * de[c] - f * aa * e[c];
  for (int64_t j = 0; j < Dh; ++j) {
    dg[j] = s * dg[j] - f * kk * cm[j] * sm_d1(p[j]);
    da[j] -= f * ee * sm_silu(p[j]);
  }
  return f * gg;
}

// Token form (self_mod_backward.h, after WB2), one thread per memory: dg' = -eta y into dgc, the
// adjoints de (ly.de), dgc, da (ly.da) mapped, k's term into dkw (the memory's dk of the writes).
NL_HD void sm_clip_back_token(const SelfModCudaDims& d, const SmLayout& ly, double* v, double eta, unsigned tid,
                              unsigned nt) {
  if (!(d.clip > 0)) return;
  const int64_t D = d.D, Dh = d.Dh;
  for (int64_t m = tid; m < d.M; m += nt) {
    double* dg = v + ly.dgc + m * Dh;
    for (int64_t j = 0; j < Dh; ++j) dg[j] = -eta * v[ly.y + m * Dh + j];
    const double fg = sm_clip_back_one(d, ly, v, m, v + ly.de + m * D, dg, v + ly.da + m * Dh);
    for (int64_t c = 0; c < D && fg != 0; ++c) v[ly.dkw + m * D + c] -= fg * v[ly.kn + c];
  }
}

// The adjoint of the unscaled g of token-form item mj = m Dh + j once the clip was reversed.
NL_HD double sm_clip_dg(const SelfModCudaDims& d, const SmLayout& ly, const double* v, int64_t mj, double eta) {
  return d.clip > 0 ? v[ly.dgc + mj] : -eta * v[ly.y + mj];
}

}  // namespace nl::cuda
