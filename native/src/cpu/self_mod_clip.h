// SelfModifyingTitans inner-gradient clip (dims.clip = c > 0; see self_mod.h), on the rows of one
// memory's piece: per token the pair (e a^T, g k^T) is scaled to Frobenius norm <= c,
//   e' = s e, g' = s g,  s = c / max(n, c),  n^2 = |e|^2 |a|^2 + |g|^2 |k|^2.
// Backward, when n > c (s = c / n): with the adjoints de', dg' of e', g' and
// Q = <de', e> + <dg', g> (unscaled e, g), f = s Q / n^2,
//   de = s de' - f |a|^2 e,  dg = s dg' - f |k|^2 g,  da += -f |e|^2 a,  dk += -f |g|^2 k
// (ds = Q, ds/dn = -s / n, dn/de = |a|^2 e / n, ...); when n <= c, s = 1 and nothing changes.
// Plain loops: O(L (D + Dh)) next to the piece's GEMMs. Reference: packages/memory/src/modules/self-modifying-clip.ts.
#pragma once
#include <cmath>
#include <cstdint>

#include "cpu/delta_rule_vec.h"

namespace nl::self_mod_detail {

// s = c / max(n, c) from n^2 = |e|^2 |a|^2 + |g|^2 |k|^2 (1 when n <= c); also the fused decode's step.
template <typename F>
inline F clip_factor(F nn, F c) {
  return nn > c * c ? c / std::sqrt(nn) : F(1);
}

// Rows t < L: K [L, D] (normalised keys), A [L, Dh] (a = silu(p)); E [L, D], G [L, Dh] scaled in
// place; E0, G0 receive the unscaled rows, sc the factors s and n2 the squared norms n^2 [L].
template <typename F>
void clip_forward(int64_t L, int64_t D, int64_t Dh, F c, const F* K, const F* A, F* E, F* G, F* E0, F* G0, F* sc,
                  F* n2) {
  using memvec::dot;
  for (int64_t t = 0; t < L; ++t) {
    F *e = E + t * D, *g = G + t * Dh;
    const F* k = K + t * D;
    const F* a = A + t * Dh;
    const F nn = dot(e, e, D) * dot(a, a, Dh) + dot(g, g, Dh) * dot(k, k, D);
    const F s = clip_factor(nn, c);
    n2[t] = nn;
    sc[t] = s;
    for (int64_t i = 0; i < D; ++i) {
      E0[t * D + i] = e[i];
      e[i] *= s;
    }
    for (int64_t i = 0; i < Dh; ++i) {
      G0[t * Dh + i] = g[i];
      g[i] *= s;
    }
  }
}

// The adjoints of the scaled rows (dE, dG [L, D] / [L, Dh]) become those of the unscaled ones; the
// terms through s add to dA [L, Dh] (of a) and dK [L, D] (of the normalised k). Inputs as clip_forward's.
template <typename F>
void clip_backward(int64_t L, int64_t D, int64_t Dh, F c, const F* K, const F* A, const F* E0, const F* G0,
                   const F* sc, const F* n2, F* dE, F* dG, F* dA, F* dK) {
  using memvec::dot;
  for (int64_t t = 0; t < L; ++t) {
    if (!(n2[t] > c * c)) continue;  // s = 1: no terms through s
    const F *e = E0 + t * D, *g = G0 + t * Dh, *k = K + t * D, *a = A + t * Dh;
    F *de = dE + t * D, *dg = dG + t * Dh, *da = dA + t * Dh, *dk = dK + t * D;
    const F s = sc[t];
    const F f = s * (dot(de, e, D) + dot(dg, g, Dh)) / n2[t];
    const F fa = f * dot(a, a, Dh), fk = f * dot(k, k, D), fe = f * dot(e, e, D), fg = f * dot(g, g, Dh);
    for (int64_t i = 0; i < D; ++i) {
      de[i] = s * de[i] - fa * e[i];
      dk[i] -= fg * k[i];
    }
    for (int64_t i = 0; i < Dh; ++i) {
      dg[i] = s * dg[i] - fk * g[i];
      da[i] -= fe * a[i];
    }
  }
}

}  // namespace nl::self_mod_detail
