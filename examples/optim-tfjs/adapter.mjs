// A one-copy adapter between TensorFlow.js variables and @nl/optim (any optimizer of its
// contract). Each TfParam keeps a host Float32Array of its variable's values — the `view`
// @nl/optim updates in place — and a gradient buffer. Per step, per variable:
//   tfjs -> host: the gradient's values are copied into `gradView` (dataSync + set);
//   host -> tfjs: the updated values are copied into a fresh tensor that the variable adopts.
// So one copy each way; the weights are never read back from tfjs after the start. A zero-copy
// version would mutate the CPU backend's storage behind tfjs's back (its tensors are immutable by
// contract), so it is not done here.
import * as tf from '@tensorflow/tfjs'; // pure JS (CPU backend); gradients registered

export class TfParam {
  /** @param {tf.Variable} variable a float32 variable */
  constructor(variable) {
    if (variable.dtype !== 'float32')
      throw new TypeError(`TfParam: ${variable.name} is ${variable.dtype}, not float32`);
    this.variable = variable;
    this.shape = variable.shape.length ? [...variable.shape] : [1];
    this.view = Float32Array.from(variable.dataSync()); // host copy of the weights, updated by the optimizer
    this.gradView = new Float32Array(this.view.length);
  }
}

/** Wraps tf.Variables as @nl/optim parameters (ParamLike: shape, view, gradView). */
export function tfParams(variables) {
  return variables.map((v) => new TfParam(v));
}

/**
 * One training step: `lossFn` (a tfjs scalar loss of the variables) is differentiated by tfjs,
 * `optimizer` (from @nl/optim, built over `params`) applies the update, and each variable adopts
 * its new values. Returns the loss before the update.
 */
export function tfStep(optimizer, params, lossFn) {
  const { value, grads } = tf.variableGrads(
    lossFn,
    params.map((p) => p.variable),
  );
  const loss = value.dataSync()[0];
  for (const p of params) p.gradView.set(grads[p.variable.name].dataSync()); // copy: tfjs -> host
  tf.dispose([value, ...Object.values(grads)]);
  optimizer.step(); // updates every p.view in place
  for (const p of params) p.variable.assign(tf.tensor(p.view.slice(), p.variable.shape)); // copy: host -> tfjs
  return loss;
}
