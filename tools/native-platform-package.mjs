// Makes the prebuilt-binary package of this machine's platform from the local build:
// <out>/native-<tag>/ with package.json (`@nl/native-<tag>`, `os` / `cpu` / `libc` fields so npm
// installs it only where it fits, no install script) and nl_native.node copied from
// native/build/Release. @nl/native's loader (native/lib/locate.ts) prefers it to a local build.
// For a binary that runs on other machines of the platform, build with NL_PORTABLE=ON first
// (the default build is -march=native).
//
//   node tools/native-platform-package.mjs <out-dir>     prints the package folder
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = process.argv[2];
if (!out) {
  console.error('usage: node tools/native-platform-package.mjs <out-dir>');
  process.exit(2);
}
const { platformTag } = await import(join(root, 'native', 'dist', 'index.js'));
const binary = join(root, 'native', 'build', 'Release', 'nl_native.node');
if (!existsSync(binary)) {
  console.error(`no local build at ${binary}; run pnpm build first`);
  process.exit(1);
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
