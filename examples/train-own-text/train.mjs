// Train a small byte-level model on your own text: a UTF-8 file, or a folder of them (every
// non-hidden file, recursively). Validation is held out by document (or by bytes for few files),
// the checkpoint is an nl-train checkpoint folder, and a sample is generated at the end.
//
//   node train.mjs <file-or-folder> [--steps 200] [--model transformer|deltanet|titans|hope]
//                  [--batch 8] [--seq-len 64] [--out runs/my-texts]
//
// The same run from the repository root with the CLI: pnpm train train --corpus <folder> ...
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  buildModel,
  generate,
  hopePreset,
  loadCorpus,
  preset,
  RandomBatches,
  saveCheckpoint,
  sequentialBatches,
  splitCorpus,
} from '@nl/hope';
import { clipGradNorm, Muon } from '@nl/optim';
import { fromTypedArray } from '@nl/tensor';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    steps: { type: 'string', default: '200' },
    model: { type: 'string', default: 'transformer' },
    batch: { type: 'string', default: '8' },
    'seq-len': { type: 'string', default: '64' },
    out: { type: 'string', default: 'runs/my-texts' },
  },
});
if (positionals.length !== 1) {
  console.error('usage: node train.mjs <file-or-folder> [--steps N] [--model kind] [--out dir]');
  process.exit(2);
}
const [STEPS, B, T] = [Number(values.steps), Number(values.batch), Number(values['seq-len'])];

const corpus = loadCorpus(positionals[0]); // CorpusError names a missing, empty or binary file
const { train, val, rule } = splitCorpus(corpus); // Uint8Array bytes of each side
console.log(
  `${corpus.documents.length} documents: ${train.length} train / ${val.length} validation bytes (split by ${rule})`,
);

// A narrower model than the 'tiny' presets, so a few hundred steps take seconds on a laptop.
const narrow = { dim: 64, layers: 2, heads: 4, seed: 0 };
const model = buildModel(
  values.model === 'hope'
    ? hopePreset('hope-tiny', { ...narrow, cmsHidden: 128 })
    : preset(values.model, 'tiny', narrow),
);
console.log(`${values.model}: ${model.numParameters().toLocaleString()} parameters`);
const opt = new Muon(model.parameters(), { lr: 0.02, adamLr: 3e-3 }); // AdamW for embeddings / 1-D
const batches = new RandomBatches(train, B, T, /* seed */ 1);

/** A TokenBatch (flat Int32Array of B·(T+1) ids) as the int32 [B, T+1] tensor models take. */
const asTensor = (b) => fromTypedArray(b.tokens, [b.batchSize, b.seqLen + 1]);

function valBitsPerByte() {
  let nats = 0,
    count = 0;
  for (const vb of sequentialBatches(val, B, T)) {
    const t = asTensor(vb);
    nats += model.evalLoss(t) * vb.batchSize * vb.seqLen; // mean nats per target; leaves no grads
    count += vb.batchSize * vb.seqLen;
    t.dispose();
  }
  return count ? nats / count / Math.LN2 : NaN;
}

const first = valBitsPerByte();
console.log(`step 0: validation ${first.toFixed(3)} bits/byte`);
let trainLoss = NaN;
for (let step = 1; step <= STEPS; step++) {
  const t = asTensor(batches.next());
  opt.zeroGrad();
  trainLoss = model.lossAndBackward(t); // mean next-token cross-entropy, nats
  clipGradNorm(model.parameters(), 1).dispose();
  opt.step();
  t.dispose();
  if (step % 50 === 0 || step === STEPS)
    console.log(`step ${step}: train ${(trainLoss / Math.LN2).toFixed(3)} bits/byte`);
}
const last = valBitsPerByte();
console.log(`step ${STEPS}: validation ${last.toFixed(3)} bits/byte`);

const dir = join(values.out, 'checkpoint');
saveCheckpoint(dir, { model, optimizer: opt, step: STEPS, rng: batches.state() });
console.log(`checkpoint: ${dir} (loadCheckpoint(dir) rebuilds the model with these weights)`);
const sample = generate(model, 'The ', { maxTokens: 60, temperature: 0.8, seed: 1 });
console.log(`sample: ${JSON.stringify(sample.text)}`);
console.log(JSON.stringify({ first, last, trainBits: trainLoss / Math.LN2, checkpoint: dir }));
