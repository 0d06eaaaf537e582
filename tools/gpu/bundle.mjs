// Bundles what the GPU machine runs (it has Node, carried, but no node_modules):
//   .gpu/tests/<pkg>-<file>.mjs  every CUDA test file, with 'vitest' -> tools/gpu/vitest-shim.ts
//   .gpu/bench-cuda.mjs          the CUDA bench (tools/gpu/bench-cuda.ts)
// @nl/native stays external, imported from ../../native/dist/index.js (its addon is built there).
import { createRequire } from 'node:module';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const req = createRequire(join(root, 'package.json'));
const { build } = createRequire(req.resolve('tsup'))('esbuild');
const vitestReq = createRequire(req.resolve('vitest/package.json'));
const expectPath = vitestReq.resolve('@vitest/expect');

// the CUDA suite: files that run ops on 'cuda'
const TESTS = (
  process.env.NL_GPU_TESTS ??
  'native/test/cuda-runtime.test.ts native/test/cuda-race-order.test.ts packages/tensor/test/devices-ops.test.ts packages/tensor/test/cuda-*.test.ts packages/optim/test/cuda-*.test.ts packages/memory/test/cuda-*.test.ts packages/hope/test/cuda-*.test.ts apps/trainer/test/device-cuda.test.ts'
).split(/\s+/);

function expand(pattern) {
  if (!pattern.includes('*')) return [pattern];
  const dir = join(root, dirname(pattern));
  const re = new RegExp('^' + basename(pattern).replace(/\./g, '\\.').replace(/\*/g, '.*') + '$');
  try {
    return readdirSync(dir)
      .filter((f) => re.test(f))
      .map((f) => join(dirname(pattern), f));
  } catch {
    return [];
  }
}

const out = join(root, '.gpu');
rmSync(join(out, 'tests'), { recursive: true, force: true });
mkdirSync(join(out, 'entries'), { recursive: true });
mkdirSync(join(out, 'tests'), { recursive: true });

function plugin(outfile) {
  return {
    name: 'nl-gpu',
    setup(b) {
      b.onResolve({ filter: /^vitest$/ }, () => ({ path: join(root, 'tools/gpu/vitest-shim.ts') }));
      b.onResolve({ filter: /^@vitest\/expect$/ }, () => ({ path: expectPath }));
      b.onResolve({ filter: /^@nl\/native$/ }, () => ({
        path: relative(dirname(outfile), join(root, 'native/dist/index.js')).replace(/^(?!\.)/, './'),
        external: true,
      }));
    },
  };
}

const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  conditions: ['development'],
  nodePaths: [join(root, 'apps/bench/node_modules')],
  logLevel: 'warning',
  // native addons of dependencies (the trainer's PNG plots: @resvg/resvg-js) travel beside the bundle
  loader: { '.node': 'copy' },
  // CommonJS dependencies bundled into ESM still ask for require / __dirname (resvg finds its addon by it)
  banner: {
    js:
      "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" +
      " import { fileURLToPath as __fu } from 'node:url'; const __filename = __fu(import.meta.url);" +
      " import { dirname as __dn } from 'node:path'; const __dirname = __dn(__filename);",
  },
};

const files = TESTS.flatMap(expand);
for (const f of files) {
  const name = f.replace(/\//g, '-').replace(/\.test\.ts$/, '');
  const entry = join(out, 'entries', `${name}.ts`);
  writeFileSync(
    entry,
    `import { runAll } from ${JSON.stringify(join(root, 'tools/gpu/vitest-shim.ts'))};\n` +
      `await import(${JSON.stringify(join(root, f))});\n` +
      `const r = await runAll();\nconsole.log('REPORT ' + JSON.stringify(r));\nprocess.exit(r.failed > 0 ? 1 : 0);\n`,
  );
  const outfile = join(out, 'tests', `${name}.mjs`);
  await build({ ...common, entryPoints: [entry], outfile, plugins: [plugin(outfile)] });
  console.log(`bundled ${f}`);
}
const benchOut = join(out, 'bench-cuda.mjs');
await build({ ...common, entryPoints: [join(root, 'tools/gpu/bench-cuda.ts')], outfile: benchOut, plugins: [plugin(benchOut)] }); // prettier-ignore
console.log('bundled tools/gpu/bench-cuda.ts');
