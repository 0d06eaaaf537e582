// A HopeSession reading a text stream: every chunk is fed teacher-forced, so the model's
// self-modifying memories write and its CMS levels take their scheduled steps — it keeps
// learning at test time, with no optimizer and no outer gradient. A probe text is scored before
// and after; a snapshot taken before a burst of noise is rolled back exactly.
//
//   node stream.mjs [--file notes.txt | --stdin] [--chunks 12] [--chunk-bytes 128] [--checkpoint dir] [--state out.safetensors]
//
// Without --file or --stdin the stream is the built-in text below.
// --checkpoint loads trained HopeLM weights (an nl-train checkpoint of a hope model); without it
// the model is freshly initialised, so only in-context learning is at work.
import { createReadStream } from 'node:fs';
import { parseArgs } from 'node:util';
import { HopeLM, HopeSession, hopePreset, loadCheckpoint } from '@nl/hope';

const { values } = parseArgs({
  options: {
    file: { type: 'string' },
    stdin: { type: 'boolean', default: false },
    chunks: { type: 'string', default: '12' },
    'chunk-bytes': { type: 'string', default: '128' },
    checkpoint: { type: 'string' },
    state: { type: 'string' },
  },
});
const MAX_CHUNKS = Number(values.chunks);
const CHUNK = Number(values['chunk-bytes']);

const BUILT_IN = `The lighthouse keeper wrote the same line in the log each night: lamp lit at dusk, \
lamp out at dawn, sea calm or sea rough. `.repeat(20);

/** Yields the stream in chunks of about CHUNK bytes, cut at spaces. */
async function* chunks() {
  const source = values.file
    ? createReadStream(values.file, 'utf8')
    : values.stdin
      ? process.stdin.setEncoding('utf8')
      : [BUILT_IN];
  let buf = '';
  for await (const piece of source) {
    buf += piece;
    while (buf.length >= CHUNK) {
      const cut = buf.lastIndexOf(' ', CHUNK) > 0 ? buf.lastIndexOf(' ', CHUNK) + 1 : CHUNK;
      yield buf.slice(0, cut);
      buf = buf.slice(cut);
    }
  }
  if (buf) yield buf;
}

const model = values.checkpoint
  ? loadCheckpoint(values.checkpoint).model
  : new HopeLM(hopePreset('hope-tiny', { seed: 0, layers: 1 }));
if (!(model instanceof HopeLM))
  throw new Error(`${values.checkpoint} holds a ${model.config.kind} model, not hope`);
const session = new HopeSession(model);

const probe = 'lamp lit at dusk, lamp out at dawn';
const probeBefore = session.loss(probe); // bits/byte continuing the (empty) state; state unchanged
console.log(`probe before the stream: ${probeBefore.toFixed(3)} bits/byte`);

let n = 0;
for await (const text of chunks()) {
  if (n >= MAX_CHUNKS) break;
  const r = session.feed(text); // teacher-forced: memories write, CMS levels step
  console.log(
    `chunk ${String(++n).padStart(3)}: ${r.tokens} bytes at ${r.bitsPerToken.toFixed(3)} bits/byte`,
  );
}
const probeAfter = session.loss(probe);
console.log(`probe after ${n} chunks: ${probeAfter.toFixed(3)} bits/byte`);

// Snapshot, feed noise, roll back: the state (and so the probe loss) is restored bit for bit.
const snap = session.snapshot();
session.feed('#@!% zq xv 0x7f '.repeat(8));
const probeNoisy = session.loss(probe);
session.rollback(snap);
snap.dispose();
const probeRolledBack = session.loss(probe);
console.log(`after noise ${probeNoisy.toFixed(3)}, after rollback ${probeRolledBack.toFixed(3)} bits/byte`);

if (values.state) {
  session.saveState(values.state); // reload later with session.loadState(path) on the same model
  console.log(`state saved to ${values.state}`);
}
const { text } = session.generate({ maxTokens: 40, temperature: 0.7, seed: 1 });
console.log(`continuation: ${JSON.stringify(text)}`);
console.log(JSON.stringify({ chunks: n, probeBefore, probeAfter, probeNoisy, probeRolledBack }));
