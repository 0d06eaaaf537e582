// After tsup: the bundled .d.ts keeps src/tensor-methods.ts's `declare module './tensor.js' {
// interface Tensor { add(...); ... } }`, but dist has no ./tensor.js declaration file, so for a
// user of the published types the augmentation targets nothing and Tensor has no methods. The
// class is declared in the same chunk, so unwrapping the block into a plain `interface Tensor`
// merges it with the class there. Fails the build if the chunk layout ever stops allowing that.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const OPEN = "declare module './tensor.js' {";
let merged = 0;
for (const f of readdirSync(dist).filter((n) => n.endsWith('.d.ts'))) {
  let text = readFileSync(join(dist, f), 'utf8');
  let at;
  while ((at = text.indexOf(OPEN)) !== -1) {
    if (!/declare class Tensor\b/.test(text))
      throw new Error(`merge-augmentation: ${f} augments ./tensor.js but does not declare class Tensor`);
    let depth = 0;
    let end = -1;
    for (let i = at + OPEN.length - 1; i < text.length; i++) {
      if (text[i] === '{') depth++;
      else if (text[i] === '}' && --depth === 0) {
        end = i;
        break;
      }
    }
    if (end === -1) throw new Error(`merge-augmentation: unbalanced braces after ${OPEN} in ${f}`);
    text = text.slice(0, at) + text.slice(at + OPEN.length, end) + text.slice(end + 1);
    merged++;
  }
  writeFileSync(join(dist, f), text);
}
for (const f of readdirSync(dist).filter((n) => n.endsWith('.d.ts')))
  if (readFileSync(join(dist, f), 'utf8').includes("declare module './"))
    throw new Error(`merge-augmentation: ${f} still augments a relative module`);
if (merged === 0) throw new Error('merge-augmentation: found no Tensor method augmentation in dist/*.d.ts');
