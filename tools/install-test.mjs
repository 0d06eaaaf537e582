// Install test, as a user without this repository would install: pack @nl/native, @nl/tensor and
// @nl/optim (pnpm pack, as published), `npm install` the tarballs into a fresh project outside
// the workspace with only `node` on PATH (no compiler, no cmake, no pnpm), and run the
// examples/optim-plain-js script there. No binary is in the tarballs (prebuilt per-platform
// packages do not exist yet), so this checks that the plain-array optimizers work without one,
// and that @nl/tensor then fails with the loader's message naming the platform, not a crash.
//
//   node tools/install-test.mjs            (after pnpm build: dist/ must exist)
import { execFileSync, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tmp = mkdtempSync(join(tmpdir(), 'nl-install-'));
const fail = (msg) => {
  console.error(`install test: ${msg}`);
  process.exit(1);
};
try {
  const tarballs = join(tmp, 'tarballs');
  mkdirSync(tarballs);
  const deps = {};
  for (const dir of ['native', 'packages/tensor', 'packages/optim']) {
    const before = new Set(readdirSync(tarballs));
    execFileSync('pnpm', ['pack', '--pack-destination', tarballs], { cwd: join(root, dir), stdio: 'pipe' });
    const tgz = readdirSync(tarballs).find((f) => !before.has(f));
    deps[`@nl/${tgz.replace(/^nl-/, '').replace(/-\d+\.\d+\.\d+\.tgz$/, '')}`] =
      `file:${join(tarballs, tgz)}`;
  }
  const project = join(tmp, 'project');
  mkdirSync(project);
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'user-project', private: true, type: 'module', dependencies: deps }, null, 2),
  );
  copyFileSync(join(root, 'examples', 'optim-plain-js', 'train.mjs'), join(project, 'train.mjs'));

  // PATH with node alone: npm runs through node, and nothing can reach a compiler
  const bin = join(tmp, 'bin');
  mkdirSync(bin);
  symlinkSync(process.execPath, join(bin, 'node'));
  const env = { ...process.env, PATH: bin, npm_config_update_notifier: 'false' };
  for (const k of Object.keys(env))
    if (/^(npm_(lifecycle|package|node_execpath)|PNPM|INIT_CWD)/i.test(k)) delete env[k];
  const npmCli = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js');
  const install = spawnSync(process.execPath, [npmCli, 'install', '--no-audit', '--no-fund'], {
    cwd: project,
    env,
    encoding: 'utf8',
  });
  if (install.status !== 0) fail(`npm install failed:\n${install.stdout}\n${install.stderr}`);
  console.log(`installed ${Object.keys(deps).join(', ')} from tarballs with PATH=${bin} (node only)`);

  const run = spawnSync(process.execPath, ['train.mjs', '--steps', '60', '--optimizers', 'muon,m3'], {
    cwd: project,
    env,
    encoding: 'utf8',
  });
  if (run.status !== 0)
    fail(`examples/optim-plain-js failed in the installed project:\n${run.stdout}\n${run.stderr}`);
  const summary = JSON.parse(run.stdout.trim().split('\n').pop());
  for (const [name, r] of Object.entries(summary))
    if (!(r.last < r.first * 0.7)) fail(`${name} did not lower the held-out error: ${JSON.stringify(r)}`);
  console.log(run.stdout.trim().split('\n').slice(0, -1).join('\n'));

  const probe = `import { hasNative, nativeLoadError } from '@nl/native';
import { randn } from '@nl/tensor';
console.log(JSON.stringify({ hasNative: hasNative(), reason: nativeLoadError?.message }));
try { randn([2, 2]).matmul(randn([2, 2])); console.log('matmul ran'); } catch (e) { console.log('matmul: ' + e.message); }`;
  writeFileSync(join(project, 'probe.mjs'), probe);
  const p = spawnSync(process.execPath, ['probe.mjs'], { cwd: project, env, encoding: 'utf8' });
  if (p.status !== 0) fail(`probe crashed:\n${p.stdout}\n${p.stderr}`);
  const [first, second] = p.stdout.trim().split('\n');
  const info = JSON.parse(first);
  if (info.hasNative) fail('the installed @nl/native found a binary, but the tarball ships none');
  if (!second.includes(`${process.platform}-${process.arch}`))
    fail(`the missing-binary error does not name the platform: ${second}`);
  console.log(`without a binary: ${second}`);
  console.log('install test passed');
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
