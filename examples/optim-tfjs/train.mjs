// A TensorFlow.js model (a two-layer MLP written with tfjs ops, tfjs autodiff) trained by
// @nl/optim's Muon, M3 or Adam through the one-copy adapter in adapter.mjs, beside tfjs's own
// Adam (nl-adam and tf-adam run the same algorithm and settings, so their losses agree).
//
//   node train.mjs [--steps 200] [--optimizers muon,m3,nl-adam,tf-adam]
//
// Prints one line per optimizer and, last, a JSON summary {optimizer: {first, last}} of the
// training loss (mean squared error).
import * as tf from '@tensorflow/tfjs'; // pure JS (CPU backend); gradients registered
import { parseArgs } from 'node:util';
import { Adam, M3, Muon } from '@nl/optim';
import { tfParams, tfStep } from './adapter.mjs';

const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '200' },
    optimizers: { type: 'string', default: 'muon,m3,nl-adam,tf-adam' },
  },
});
const STEPS = Number(values.steps);
await tf.setBackend('cpu');

// Data: y = sin(3·x₀) + x₁·x₂ on 128 seeded points; x [128, 3], y [128, 1].
const x = tf.randomUniform([128, 3], -1, 1, 'float32', 1);
const [x0, x1, x2] = tf.split(x, 3, 1);
const y = tf.add(tf.sin(tf.mul(x0, 3)), tf.mul(x1, x2));

function makeModel() {
  return {
    w1: tf.variable(tf.randomNormal([3, 32], 0, 1, 'float32', 2), true, 'w1'), // [in, hidden]
    b1: tf.variable(tf.zeros([32]), true, 'b1'),
    w2: tf.variable(tf.randomNormal([32, 1], 0, 0.3, 'float32', 3), true, 'w2'), // [hidden, out]
    b2: tf.variable(tf.zeros([1]), true, 'b2'),
  };
}
const lossOf = (m) => () =>
  tf.tidy(() =>
    tf.losses.meanSquaredError(y, tf.add(tf.matMul(tf.tanh(tf.add(tf.matMul(x, m.w1), m.b1)), m.w2), m.b2)),
  );

const summary = {};
for (const name of values.optimizers.split(',')) {
  const m = makeModel();
  const variables = [m.w1, m.b1, m.w2, m.b2];
  const losses = [];
  if (name === 'tf-adam') {
    const adam = tf.train.adam(3e-3);
    for (let s = 0; s < STEPS; s++) losses.push(adam.minimize(lossOf(m), true, variables).dataSync()[0]);
  } else {
    const params = tfParams(variables);
    const opt =
      name === 'muon'
        ? new Muon(params, { lr: 0.02, adamLr: 3e-3 }) // 2-D weights: Newton–Schulz; biases: AdamW
        : name === 'm3'
          ? new M3(params, { lr: 3e-3, frequency: 10 })
          : name === 'nl-adam' // @nl/optim's Adam with tfjs Adam's settings: checks the adapter
            ? new Adam(params, { lr: 3e-3, eps: 1e-7 })
            : null;
    if (!opt) throw new Error(`unknown optimizer '${name}' (known: muon, m3, nl-adam, tf-adam)`);
    for (let s = 0; s < STEPS; s++) losses.push(tfStep(opt, params, lossOf(m)));
  }
  summary[name] = { first: losses[0], last: lossOf(m)().dataSync()[0] };
  console.log(
    `${name.padEnd(7)} train MSE ${summary[name].first.toFixed(4)} -> ${summary[name].last.toFixed(4)} after ${STEPS} steps`,
  );
  tf.dispose(variables);
}
console.log(JSON.stringify(summary));
