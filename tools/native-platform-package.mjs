// Makes the prebuilt-binary package of this machine's platform from the local build:
// <out>/native-<tag>/ with package.json (`@nl/native-<tag>`, `os` / `cpu` / `libc` fields so npm
// installs it only where it fits, no install script) and nl_native.node copied from
// a build folder (default native/build). @nl/native's loader (native/lib/locate.ts) prefers it to
// a local build. The binary to publish is the portable build (x86-64-v3 baseline, AVX-512 GEMM
// chosen at run time, cudart static), which runs on every x86-64 CPU since Haswell:
//   cd native && npx cmake-js compile --out build-portable --CDNL_PORTABLE=ON   (pnpm build:portable)
//   node tools/native-platform-package.mjs <out-dir> --from native/build-portable
// The default build (-march=native) runs only on CPUs like the build machine's: packing it prints
// a warning (tools/install-test.mjs does so, to test the loading on this machine).
//
//   node tools/native-platform-package.mjs <out-dir> [--from <build dir>]   prints the package folder
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const fromAt = args.indexOf('--from');
const buildDir = fromAt >= 0 ? resolve(args[fromAt + 1] ?? '') : join(root, 'native', 'build');
const out = args.find((a, i) => !a.startsWith('--') && (fromAt < 0 || i !== fromAt + 1));
if (!out || (fromAt >= 0 && !args[fromAt + 1])) {
  console.error('usage: node tools/native-platform-package.mjs <out-dir> [--from <build dir>]');
  process.exit(2);
}
const { platformTag } = await import(join(root, 'native', 'dist', 'index.js'));
const binary = join(buildDir, 'Release', 'nl_native.node');
if (!existsSync(binary)) {
  console.error(`no build at ${binary}; run pnpm build (or pnpm --filter @nl/native build:portable) first`);
  process.exit(1);
}
const built = createRequire(import.meta.url)(binary).info();
if (!built.simdDispatch) {
  console.error(
    `warning: ${binary} is not a portable build (simd ${built.simd}, compiled for this machine's CPU); ` +
      'a package to publish comes from `pnpm --filter @nl/native build:portable` and --from native/build-portable',
  );
}
const tag = platformTag();
const native = JSON.parse(readFileSync(join(root, 'native', 'package.json'), 'utf8'));
const [os, cpu, libc] = tag.split('-');
const dir = resolve(out, `native-${tag}`);
mkdirSync(dir, { recursive: true });
copyFileSync(binary, join(dir, 'nl_native.node'));
const pkg = {
  name: `@nl/native-${tag}`,
  version: native.version,
  description: `The prebuilt @nl/native binary for ${tag}`,
  license: native.license,
  os: [os],
  cpu: [cpu],
  ...(os === 'linux' ? { libc: [libc === 'gnu' ? 'glibc' : 'musl'] } : {}),
  main: 'nl_native.node',
  files: ['nl_native.node'],
};
writeFileSync(join(dir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
writeFileSync(
  join(dir, 'README.md'),
  `# ${pkg.name}\n\nThe prebuilt binary of \`@nl/native\` for ${tag}; installed next to it, it is loaded instead of a local build.\n`,
);
console.log(dir);
