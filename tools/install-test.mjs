// Install test, as a user without this repository would install: pack the @nl packages (pnpm
// pack, as published), `npm install` the tarballs into fresh projects outside the workspace with
// only `node` on PATH (no compiler, no cmake, no pnpm), and run the examples there.
//   1. no binary: @nl/native + @nl/tensor + @nl/optim run examples/optim-plain-js (pure JS), and
//      @nl/tensor's first native call fails with the loader's error naming the platform;
//   2. prebuilt binary: the platform package (native/npm/<tag>, filled with the local build by
//      tools/native-platform-package.mjs) packed and installed beside all five packages; the packed
//      @nl/native lists it as an optional dependency at the same version, which the tarball
//      satisfies (a published release resolves it from the registry the same way); @nl/native loads
//      it (source 'prebuilt'), and examples/train-own-text and examples/hope-session-stream run.
// In 1. npm looks the optional dependency up in the registry, where it is not published, and
// goes on without it, as it does on a platform with no prebuilt package.
//
//   node tools/install-test.mjs            (after pnpm build: dist/ and the addon must exist)
import { execFileSync, spawnSync } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
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

// PATH with node alone: npm runs through node, and nothing can reach a compiler
const bin = join(tmp, 'bin');
mkdirSync(bin);
symlinkSync(process.execPath, join(bin, 'node'));
const env = { ...process.env, PATH: bin, npm_config_update_notifier: 'false' };
for (const k of Object.keys(env))
  if (/^(npm_(lifecycle|package|node_execpath)|PNPM|INIT_CWD)/i.test(k)) delete env[k];
const npmCli = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js');

const tarballs = join(tmp, 'tarballs');
mkdirSync(tarballs);
/** pnpm pack of a package folder into tarballs/; returns [name, file: spec]. */
function pack(dir) {
  const before = new Set(readdirSync(tarballs));
  execFileSync('pnpm', ['pack', '--pack-destination', tarballs], { cwd: dir, stdio: 'pipe' });
  const tgz = readdirSync(tarballs).find((f) => !before.has(f));
  const name = `@nl/${tgz.replace(/^nl-/, '').replace(/-\d+\.\d+\.\d+\.tgz$/, '')}`;
  return [name, `file:${join(tarballs, tgz)}`];
}

/** A fresh project depending on `deps`, with `files` copied from examples/, npm-installed. */
function project(name, deps, files) {
  const dir = join(tmp, name);
  mkdirSync(dir);
  const pkg = { name, private: true, type: 'module', dependencies: deps };
  writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg, null, 2));
  for (const f of files)
    cpSync(join(root, 'examples', f), join(dir, f.split('/').pop()), { recursive: true });
  const r = spawnSync(process.execPath, [npmCli, 'install', '--no-audit', '--no-fund'], {
    cwd: dir,
    env,
    encoding: 'utf8',
  });
  if (r.status !== 0) fail(`npm install in ${name} failed:\n${r.stdout}\n${r.stderr}`);
  console.log(
    `${name}: installed ${Object.keys(deps).join(', ')} from tarballs with PATH=${bin} (node only)`,
  );
  return dir;
}

/** node <args> in `dir`; returns stdout lines. */
function run(dir, args) {
  const r = spawnSync(process.execPath, args, { cwd: dir, env, encoding: 'utf8' });
  if (r.status !== 0) fail(`node ${args.join(' ')} failed in ${dir}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout.trim().split('\n');
}

const PROBE = `import { hasNative, nativeBinary, nativeLoadError } from '@nl/native';
import { randn } from '@nl/tensor';
console.log(JSON.stringify({ hasNative: hasNative(), source: nativeBinary?.source ?? null, reason: nativeLoadError?.message }));
try { console.log('matmul ' + randn([2, 3]).matmul(randn([3, 2])).shape.join('x')); } catch (e) { console.log('matmul: ' + e.message); }`;

try {
  const base = Object.fromEntries(
    ['native', 'packages/tensor', 'packages/optim'].map((d) => pack(join(root, d))),
  );

  // 1. no binary
  const plain = project('user-optim', base, ['optim-plain-js/train.mjs']);
  const out = run(plain, ['train.mjs', '--steps', '60', '--optimizers', 'muon,m3']);
  for (const [name, r] of Object.entries(JSON.parse(out.pop())))
    if (!(r.last < r.first * 0.7)) fail(`${name} did not lower the held-out error: ${JSON.stringify(r)}`);
  console.log(out.join('\n'));
  writeFileSync(join(plain, 'probe.mjs'), PROBE);
  const [info, matmul] = run(plain, ['probe.mjs']);
  if (JSON.parse(info).hasNative) fail('the installed @nl/native found a binary, but the tarballs ship none');
  if (!matmul.includes(process.platform) || !matmul.includes('@nl/native-'))
    fail(`the missing-binary error names neither the platform nor its package: ${matmul}`);
  console.log(`without a binary: ${matmul}`);

  // 2. prebuilt binary
  const platformDir = execFileSync(
    process.execPath,
    [join(root, 'tools', 'native-platform-package.mjs'), join(tmp, 'platform')],
    { encoding: 'utf8' },
  ).trim();
  const full = {
    ...base,
    ...Object.fromEntries(['packages/memory', 'packages/hope', platformDir].map((d) => pack(d))),
  };
  const hope = project('user-hope', full, [
    'train-own-text/train.mjs',
    'train-own-text/my-texts',
    'hope-session-stream/stream.mjs',
  ]);
  const installed = JSON.parse(
    readFileSync(join(hope, 'node_modules', '@nl', 'native', 'package.json'), 'utf8'),
  );
  const platformName = JSON.parse(readFileSync(join(platformDir, 'package.json'), 'utf8')).name;
  if (installed.optionalDependencies?.[platformName] !== installed.version)
    fail(
      `the packed @nl/native does not list ${platformName}@${installed.version} as an optional dependency: ${JSON.stringify(installed.optionalDependencies)}`,
    );
  writeFileSync(join(hope, 'probe.mjs'), PROBE);
  const [info2, matmul2] = run(hope, ['probe.mjs']);
  if (JSON.parse(info2).source !== 'prebuilt' || matmul2 !== 'matmul 2x2')
    fail(`prebuilt binary not used: ${info2} ${matmul2}`);
  const trained = JSON.parse(
    run(hope, ['train.mjs', 'my-texts', '--steps', '10', '--out', join(tmp, 'run')]).pop(),
  );
  if (!(trained.last < trained.first))
    fail(`train-own-text did not lower validation loss: ${JSON.stringify(trained)}`);
  const session = JSON.parse(run(hope, ['stream.mjs', '--chunks', '2', '--chunk-bytes', '64']).pop());
  if (session.probeRolledBack !== session.probeAfter)
    fail(`hope-session-stream rollback: ${JSON.stringify(session)}`);
  console.log(
    `with the prebuilt package: binary ${JSON.parse(info2).source}, train-own-text validation ${trained.first.toFixed(3)} -> ${trained.last.toFixed(3)} bits/byte, session rollback exact`,
  );
  console.log('install test passed');
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
