/**
 * Fused cross-entropy kernels on flat typed arrays (no Tensor): forward computes per-row
 * `logsumexp(logits) - logits[target]` and the row softmax in one pass (max-shifted, float64
 * accumulation); backward turns the saved softmax into `(p - onehot(target)) * g_row`.
 * Rows whose target equals `ignoreIndex` give loss 0 and gradient 0.
 *
 * Shapes: logits [N, C] row-major, targets [N] int32, probs [N, C] (same dtype as logits).
 */

/** Float storage accepted by the kernels. */
export type FloatArray = Float32Array | Float64Array;

/**
 * Checks targets: each in [0, C) or equal to `ignoreIndex`; names the first bad row.
 * @returns how many rows count (not ignored)
 */
export function checkTargets(targets: Int32Array, n: number, c: number, ignoreIndex: number): number {
  let count = 0;
  for (let i = 0; i < n; i++) {
    const t = targets[i];
    if (t === ignoreIndex) continue;
    if (t < 0 || t >= c) {
      throw new RangeError(
        `crossEntropy: target ${t} at row ${i} is out of range [0, ${c}) (ignoreIndex is ${ignoreIndex})`,
      );
    }
    count++;
  }
  return count;
}

/**
 * Forward: per-row losses (0 for ignored rows) and the softmax probabilities.
 * @param logits - [N, C]
 * @param targets - [N]
 * @param losses - out [N]
 * @param probs - out [N, C]
 */
export function crossEntropyForward(
  logits: FloatArray,
  targets: Int32Array,
  n: number,
  c: number,
  ignoreIndex: number,
  losses: FloatArray,
  probs: FloatArray,
): void {
  for (let i = 0; i < n; i++) {
    const row = i * c;
    let max = -Infinity;
    for (let j = 0; j < c; j++) if (logits[row + j] > max) max = logits[row + j];
    if (max === -Infinity) max = 0; // all -inf: keep exp finite, loss becomes inf
    let sum = 0;
    for (let j = 0; j < c; j++) {
      const e = Math.exp(logits[row + j] - max);
      probs[row + j] = e;
      sum += e;
    }
    const inv = 1 / sum;
    for (let j = 0; j < c; j++) probs[row + j] *= inv;
    const t = targets[i];
    losses[i] = t === ignoreIndex ? 0 : max + Math.log(sum) - logits[row + t];
  }
}

/**
 * Backward: gradLogits[i, j] = rowScale[i] * (probs[i, j] - [j == target[i]]), 0 on ignored rows.
 * @param probs - [N, C] softmax saved by the forward
 * @param rowScale - [N] upstream gradient per row (already divided by the count for 'mean')
 * @param grad - out [N, C]
 */
export function crossEntropyBackward(
  probs: FloatArray,
  targets: Int32Array,
  n: number,
  c: number,
  ignoreIndex: number,
  rowScale: ArrayLike<number>,
  grad: FloatArray,
): void {
  for (let i = 0; i < n; i++) {
    const row = i * c;
    const t = targets[i];
    if (t === ignoreIndex) {
      grad.fill(0, row, row + c);
      continue;
    }
    const s = rowScale[i];
    for (let j = 0; j < c; j++) grad[row + j] = s * probs[row + j];
    grad[row + t] -= s;
  }
}
