/** Linear DGD (exact per-token Delta Gradient Descent) — literal reference and the fused path through the gated delta rule. */
export {
  dgdLinearReference,
  type DgdLinearInputs,
  type DgdLinearOptions,
  type DgdLinearOutputs,
} from './ref.js';
export { dgdLinearForward, dgdLinearBackward, type DgdLinearGrads } from './native.js';
