// A two-layer MLP in plain JavaScript (Float32Arrays, forward and backward written by hand),
// regressing y = sin(3·x₀) + x₁·x₂ on random inputs, trained with @nl/optim's Muon, M3 and AdamW.
// The optimizers update your arrays in place through `paramFromArrays`: no tensors, no copies.
//
//   node train.mjs [--steps 300] [--optimizers muon,m3,adamw]
//
// Prints one line per optimizer and, last, a JSON summary {optimizer: {first, last}} of the
// mean-squared errors on a held-out batch.
import { AdamW, M3, Muon, paramFromArrays } from '@nl/optim';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '300' },
    optimizers: { type: 'string', default: 'muon,m3,adamw' },
  },
});
const STEPS = Number(values.steps);
const IN = 3,
  HIDDEN = 32,
  BATCH = 64;

/** A seeded uniform generator in [-1, 1) (mulberry32), so every run sees the same data. */
function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  };
}

function makeBatch(rand) {
  const x = new Float32Array(BATCH * IN); // [BATCH, IN]
  const y = new Float32Array(BATCH); // [BATCH]
  for (let b = 0; b < BATCH; b++) {
    for (let i = 0; i < IN; i++) x[b * IN + i] = rand();
    y[b] = Math.sin(3 * x[b * IN]) + x[b * IN + 1] * x[b * IN + 2];
  }
  return { x, y };
}

/** The model: W1 [HIDDEN, IN], b1 [HIDDEN], W2 [1, HIDDEN], b2 [1]; values and gradients. */
function makeModel(seed) {
  const rand = rng(seed);
  const p = (n, scale) => Float32Array.from({ length: n }, () => rand() * scale);
  const w = {
    W1: p(HIDDEN * IN, 1),
    b1: new Float32Array(HIDDEN),
    W2: p(HIDDEN, 0.3),
    b2: new Float32Array(1),
  };
  const g = {
    W1: new Float32Array(HIDDEN * IN),
    b1: new Float32Array(HIDDEN),
    W2: new Float32Array(HIDDEN),
    b2: new Float32Array(1),
  };
  return { w, g };
}

/** Mean squared error; with `g`, also writes its gradient into g (overwrites). */
function lossAndGrad({ w, g }, { x, y }, withGrad) {
  if (withGrad) for (const k in g) g[k].fill(0);
  let loss = 0;
  const h = new Float32Array(HIDDEN);
  for (let b = 0; b < BATCH; b++) {
    let out = w.b2[0];
    for (let j = 0; j < HIDDEN; j++) {
      let a = w.b1[j];
      for (let i = 0; i < IN; i++) a += w.W1[j * IN + i] * x[b * IN + i];
      h[j] = Math.tanh(a);
      out += w.W2[j] * h[j];
    }
    const err = out - y[b];
    loss += (err * err) / BATCH;
    if (!withGrad) continue;
    const dOut = (2 * err) / BATCH;
    g.b2[0] += dOut;
    for (let j = 0; j < HIDDEN; j++) {
      g.W2[j] += dOut * h[j];
      const dA = dOut * w.W2[j] * (1 - h[j] * h[j]);
      g.b1[j] += dA;
      for (let i = 0; i < IN; i++) g.W1[j * IN + i] += dA * x[b * IN + i];
    }
  }
  return loss;
}

const OPTIMIZERS = {
  // Muon orthogonalises the update of each 2-D weight; 1-D biases take its built-in AdamW.
  muon: (params) => new Muon(params, { lr: 0.02, adamLr: 3e-3 }),
  // M3: Adam-style second moment + fast and slow momenta (Newton–Schulz on 2-D weights).
  m3: (params) => new M3(params, { lr: 3e-3, frequency: 10 }),
  adamw: (params) => new AdamW(params, { lr: 3e-3, weightDecay: 0 }),
};

const summary = {};
const held = makeBatch(rng(999));
for (const name of values.optimizers.split(',')) {
  if (!OPTIMIZERS[name])
    throw new Error(`unknown optimizer '${name}' (known: ${Object.keys(OPTIMIZERS).join(', ')})`);
  const model = makeModel(1);
  const { w, g } = model;
  const params = [
    paramFromArrays(w.W1, g.W1, [HIDDEN, IN]),
    paramFromArrays(w.b1, g.b1, [HIDDEN]),
    paramFromArrays(w.W2, g.W2, [1, HIDDEN]),
    paramFromArrays(w.b2, g.b2, [1]),
  ];
  const opt = OPTIMIZERS[name](params);
  const data = rng(7); // the same training batches for every optimizer
  const first = lossAndGrad(model, held, false);
  for (let step = 0; step < STEPS; step++) {
    lossAndGrad(model, makeBatch(data), true);
    opt.step(); // updates w.* in place from g.*
  }
  const last = lossAndGrad(model, held, false);
  summary[name] = { first, last };
  console.log(
    `${name.padEnd(6)} held-out MSE ${first.toFixed(4)} -> ${last.toFixed(4)} after ${STEPS} steps`,
  );
}
console.log(JSON.stringify(summary));
