// Fills the prebuilt-binary package of this machine's platform, `@nl/native-<tag>`: a workspace
// package committed under native/npm/<tag>/ (package.json with `os` / `cpu` / `libc`, so npm
// installs it only where it fits; no install script) that @nl/native lists as an optional
// dependency (`workspace:*`, replaced by the version when packed). Its one file, nl_native.node,
// is not in the repository: this copies it in from a build folder.
//
//   node tools/native-platform-package.mjs --release            copies native/build-portable's
//        binary into native/npm/<tag>/ (then `changeset publish` publishes it with the others)
//   node tools/native-platform-package.mjs <out-dir> [--from <build dir>]
//        a copy of the package with the binary in <out-dir>/native-<tag>/ (default build:
//        native/build); prints the folder (tools/install-test.mjs packs it from there)
//
// The binary to publish is the portable build (x86-64-v3 baseline, AVX-512 GEMM chosen at run
// time, cudart static): `pnpm --filter @nl/native build:portable`. The default build
// (-march=native) runs only on CPUs like the build machine's: packing it prints a warning.
// @nl/native's loader (native/lib/locate.ts) takes the newer of the package's binary and the
// local build when both exist, so a released binary left in native/npm/ never shadows a fresher
// local build.
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const release = args.includes('--release');
const fromAt = args.indexOf('--from');
const defaultBuild = join(root, 'native', release ? 'build-portable' : 'build');
const buildDir = fromAt >= 0 ? resolve(args[fromAt + 1] ?? '') : defaultBuild;
const out = args.find((a, i) => !a.startsWith('--') && (fromAt < 0 || i !== fromAt + 1));
if ((!out && !release) || (out && release) || (fromAt >= 0 && !args[fromAt + 1])) {
  console.error(
    'usage: node tools/native-platform-package.mjs --release [--from <build dir>]\n' +
      '       node tools/native-platform-package.mjs <out-dir> [--from <build dir>]',
  );
  process.exit(2);
}
const { platformTag } = await import(join(root, 'native', 'dist', 'index.js'));
const tag = platformTag();
const template = join(root, 'native', 'npm', tag);
if (!existsSync(join(template, 'package.json'))) {
  console.error(
    `no platform package for ${tag} under native/npm/ (there is one per platform built for release: ` +
      'copy native/npm/linux-x64-gnu/ and set its name, os, cpu and libc)',
  );
  process.exit(1);
}
const binary = join(buildDir, 'Release', 'nl_native.node');
if (!existsSync(binary)) {
  console.error(`no build at ${binary}; run pnpm build (or pnpm --filter @nl/native build:portable) first`);
  process.exit(1);
}
const built = createRequire(import.meta.url)(binary).info();
if (!built.simdDispatch) {
  const msg = `${binary} is not a portable build (simd ${built.simd}, compiled for this machine's CPU)`;
  if (release) {
    console.error(`refusing to release ${msg}; pnpm --filter @nl/native build:portable`);
    process.exit(1);
  }
  console.error(`warning: ${msg}; a package to publish comes from build:portable (--release)`);
}
const native = JSON.parse(readFileSync(join(root, 'native', 'package.json'), 'utf8'));
const pkg = JSON.parse(readFileSync(join(template, 'package.json'), 'utf8'));
if (pkg.version !== native.version) {
  console.error(
    `${pkg.name} is at ${pkg.version} but @nl/native at ${native.version}: they are versioned together (.changeset/config.json "fixed")`,
  );
  process.exit(1);
}
const dir = release ? template : resolve(out, `native-${tag}`);
mkdirSync(dir, { recursive: true });
copyFileSync(binary, join(dir, 'nl_native.node'));
if (!release) {
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
  copyFileSync(join(template, 'README.md'), join(dir, 'README.md'));
}
console.log(dir);
