// Lint: code that opens tensor buffers (reads or writes their contents directly) lives only in
// kernel implementations. A source file of any package or app that opens buffers must be listed
// below with the reason it may; a new one fails this test until it is moved into a kernel file or
// listed. (At run time the 'sim' device enforces the same thing: its buffers open only inside a
// kernel dispatched by the registry; see test/sim-device.test.ts.)
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(__dirname, '..', '..', '..');

/** What opens a buffer: the kernel helpers, host views, ParamLike views, raw storage access. */
const OPENS = [
  /\bhostArray\(/,
  /\bstorageOf\(/,
  /\belementsOf\(/,
  /\bstridedOf\(/,
  /\bopenOperand\(/,
  /\.host\.open\b/,
  /\.rawView\(/,
  /\.gradView\b/,
  /\.view\b(?!\s*\()/,
  /\bfloatsAs?\(/,
  /\bints\(/,
];

/** Files allowed to open buffers (path prefix -> reason). */
const ALLOWED: Record<string, string> = {
  'packages/tensor/src/backend/': 'the device seam itself (opening rules, backend types)',
  'packages/tensor/src/backends/': 'the CPU backend and its core kernels; the sim backend',
  'packages/tensor/src/kernels/': 'CPU kernels registered under cpu',
  'packages/tensor/src/nn/functional/':
    "the fused nn ops' CPU implementations (lazyOp registers them as the ops' cpu kernels)",
  'packages/tensor/src/tensor.ts': 'defines rawView / view / gradView (CPU anywhere, sim inside kernels)',
  'packages/tensor/src/storage.ts': 'pins pooled CPU arrays re-wrapped by fromTypedArray',
  'packages/tensor/src/testing/gradcheck.ts': 'finite differences on float64 CPU tensors (a test helper)',
  'packages/memory/src/modules/fused-delta.ts': 'the { cpu } implementations of the fused delta-rule op',
  'packages/memory/src/modules/fused-titans.ts': 'the { cpu } implementations of the fused Titans op',
  'packages/memory/src/modules/fused-titans-linear.ts':
    'the { cpu } implementations of the fused Titans linear-memory op',
  'packages/memory/src/modules/self-modifying-fused.ts':
    'the { cpu } implementations of the fused self-mod op',
  'packages/memory/src/modules/cms-fused.ts': 'the { cpu } implementations of the fused CMS ops',
  'packages/optim/src/kernels/': 'the optimizer update kernels registered under cpu',
  'packages/optim/src/param.ts': 'ParamLike: plain host arrays from other projects (paramFromArrays)',
  'packages/optim/src/optimizer.ts': 'the plain-array ParamLike path (host arrays by contract)',
  'packages/optim/src/sgd.ts': 'pure update on plain host arrays (the cpu kernel calls it)',
  'packages/optim/src/adam.ts': 'pure update on plain host arrays (the cpu kernel calls it)',
  'packages/optim/src/adam_fused.ts': 'fused native update on plain host arrays (the cpu kernel calls it)',
  'packages/optim/src/muon.ts': 'plain-array path of Muon (the cpu kernel calls it)',
  'packages/optim/src/m3.ts': 'plain-array path of M3 (the cpu kernel calls it)',
  'packages/optim/src/delta_momentum.ts': 'plain-array path (the cpu kernel calls it)',
  'packages/optim/src/dmgd.ts': 'plain-array path (the cpu kernel calls it)',
  'packages/optim/src/preconditioned.ts': 'plain-array path (the cpu kernel calls it)',
  'packages/optim/src/clip.ts': 'plain-array clipping (tensors go through the optim.clipGradNorm kernel)',
  'packages/hope/src/kernels/': 'the hope.checkIds CPU kernel',
  'apps/bench/src/': 'benchmarks of CPU kernels on plain arrays',
};

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist') continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) sources(p, out);
    else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

function stripComments(src: string): string {
  return src.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:])\/\/.*$/gm, '$1');
}

describe('buffer access stays in kernels', () => {
  it('no source file outside the listed kernel files opens tensor buffers', () => {
    const dirs = ['packages', 'apps'].flatMap((top) =>
      readdirSync(join(root, top)).map((pkg) => join(root, top, pkg, 'src')),
    );
    const offenders: string[] = [];
    for (const dir of dirs) {
      let files: string[];
      try {
        files = sources(dir);
      } catch {
        continue;
      }
      for (const file of files) {
        const rel = relative(root, file);
        const code = stripComments(readFileSync(file, 'utf8'));
        const hit = OPENS.find((re) => re.test(code));
        if (hit && !Object.keys(ALLOWED).some((prefix) => rel.startsWith(prefix))) {
          offenders.push(`${rel} (${hit})`);
        }
      }
    }
    expect(offenders).toEqual([]);
  });
  it('the patterns catch the ways code opens buffers, and not shape ops', () => {
    const opens = (line: string) => OPENS.some((re) => re.test(line));
    for (const line of [
      't.rawView()',
      'p.view[i] = 1',
      'const g = p.gradView;',
      'elementsOf(x)',
      'b.host.open(buf)',
    ])
      expect(opens(line), line).toBe(true);
    for (const line of ['x.view([2, 3])', 'x.dataSync()', 'reshape(x, [4])'])
      expect(opens(line), line).toBe(false);
  });
  it('every allow-list entry still exists (no stale exceptions)', () => {
    for (const prefix of Object.keys(ALLOWED)) {
      expect(() => statSync(join(root, prefix)), prefix).not.toThrow();
    }
  });
});
