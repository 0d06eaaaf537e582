/**
 * DMGD's momentum memory: a residual one-hidden-layer MLP applied to every row of a gradient,
 *   M(u) = u + W2 tanh(W1 u),   W1: [h, d], W2: [d, h],   u: [d],
 * and its inner objective, the ℓ2 associative-memory loss of predicting the next (normalised)
 * gradient row from the previous one:
 *   L(W1, W2) = 1/(2r) Σ_rows ||M(k_r) − v_r||²,   keys k: [r, d], values v: [r, d].
 * The gradient is derived by hand (no autograd): with z = W1 k, a = tanh z, e = M(k) − v,
 *   ∂L/∂W2 = (1/r) Σ e aᵀ,   ∂L/∂W1 = (1/r) Σ ((W2ᵀ e) ⊙ (1 − a²)) kᵀ.
 */

/** Applies M to each row of `u` ([rows, d]) into `out`. */
export function memoryForward(
  W1: Float64Array,
  W2: Float64Array,
  u: ArrayLike<number>,
  out: Float64Array,
  rows: number,
  d: number,
  h: number,
): void {
  const a = new Float64Array(h);
  for (let r = 0; r < rows; r++) {
    const o = r * d;
    for (let j = 0; j < h; j++) {
      let z = 0;
      for (let k = 0; k < d; k++) z += W1[j * d + k]! * u[o + k]!;
      a[j] = Math.tanh(z);
    }
    for (let k = 0; k < d; k++) {
      let y = u[o + k]!;
      for (let j = 0; j < h; j++) y += W2[k * h + j]! * a[j]!;
      out[o + k] = y;
    }
  }
}

/**
 * Inner loss and its gradient (written into gW1 / gW2 when given).
 * @returns L(W1, W2) for keys/values [rows, d]
 */
export function memoryLossGrad(
  W1: Float64Array,
  W2: Float64Array,
  keys: ArrayLike<number>,
  values: ArrayLike<number>,
  rows: number,
  d: number,
  h: number,
  gW1?: Float64Array,
  gW2?: Float64Array,
): number {
  gW1?.fill(0);
  gW2?.fill(0);
  const a = new Float64Array(h);
  const e = new Float64Array(d);
  const da = new Float64Array(h);
  let loss = 0;
  const inv = 1 / rows;
  for (let r = 0; r < rows; r++) {
    const o = r * d;
    for (let j = 0; j < h; j++) {
      let z = 0;
      for (let k = 0; k < d; k++) z += W1[j * d + k]! * keys[o + k]!;
      a[j] = Math.tanh(z);
    }
    for (let k = 0; k < d; k++) {
      let y = keys[o + k]!;
      for (let j = 0; j < h; j++) y += W2[k * h + j]! * a[j]!;
      e[k] = y - values[o + k]!;
      loss += 0.5 * inv * e[k]! * e[k]!;
    }
    if (!gW1 || !gW2) continue;
    da.fill(0);
    for (let k = 0; k < d; k++)
      for (let j = 0; j < h; j++) {
        gW2[k * h + j] = gW2[k * h + j]! + inv * e[k]! * a[j]!;
        da[j] = da[j]! + W2[k * h + j]! * e[k]!;
      }
    for (let j = 0; j < h; j++) {
      const dz = da[j]! * (1 - a[j]! * a[j]!) * inv;
      for (let k = 0; k < d; k++) gW1[j * d + k] = gW1[j * d + k]! + dz * keys[o + k]!;
    }
  }
  return loss;
}
