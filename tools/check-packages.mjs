// Packs every published @nl package the way `pnpm publish` would (pnpm pack: publishConfig
// applied, workspace: ranges replaced) and checks the package.json inside each tarball:
// no `development` condition or other export target pointing at TypeScript sources, every export
// target present in the tarball, types next to each import, no workspace: specifier left; then
// runs publint (--strict) on the unpacked tarball and @arethetypeswrong/cli (esm-only profile) on
// the tarball, i.e. on exactly what a user would install.
//
//   node tools/check-packages.mjs            (after pnpm build: dist/ must exist)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dirs = ['native', ...readdirSync(join(root, 'packages')).map((d) => join('packages', d))];
const problems = [];

/** Every string target of an exports map, with the condition path that leads to it. */
function targets(node, path = []) {
  if (typeof node === 'string') return [{ path, target: node }];
  if (node === null || typeof node !== 'object') return [];
  return Object.entries(node).flatMap(([k, v]) => targets(v, [...path, k]));
}

for (const dir of dirs) {
  const src = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8'));
  if (src.private) continue;
  const tmp = mkdtempSync(join(tmpdir(), 'nl-pack-'));
  try {
    execFileSync('pnpm', ['pack', '--pack-destination', tmp], { cwd: join(root, dir), stdio: 'pipe' });
    const tgz = readdirSync(tmp).find((f) => f.endsWith('.tgz'));
    execFileSync('tar', ['xzf', tgz], { cwd: tmp });
    const pkgDir = join(tmp, 'package');
    const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
    const bad = (msg) => problems.push(`${pkg.name} (${tgz}): ${msg}`);
    for (const { path, target } of targets(pkg.exports)) {
      const where = `exports[${path.map((p) => JSON.stringify(p)).join('][')}] = ${target}`;
      if (path.includes('development')) bad(`${where}: a development condition is published`);
      if (/\.(c|m)?ts$/.test(target) && !/\.d\.(c|m)?ts$/.test(target))
        bad(`${where}: points at TypeScript source`);
      if (!existsSync(join(pkgDir, target))) bad(`${where}: not in the tarball`);
    }
    for (const [sub, entry] of Object.entries(pkg.exports ?? {}))
      if (entry && typeof entry === 'object' && entry.import && !entry.types)
        bad(`exports[${sub}] has import but no types`);
    // a relative `declare module` left in a bundled .d.ts augments a file that is not published
    const dts = execFileSync('tar', ['tzf', tgz], { cwd: tmp, encoding: 'utf8' })
      .split('\n')
      .filter((f) => f.endsWith('.d.ts'));
    for (const f of dts)
      if (/declare module ['"]\.\.?\//.test(readFileSync(join(tmp, f), 'utf8')))
        bad(`${f.replace(/^package\//, '')}: augments a relative module (its methods are lost for users)`);
    for (const field of ['main', 'types'])
      if (pkg[field] && !existsSync(join(pkgDir, pkg[field])))
        bad(`${field} = ${pkg[field]} is not in the tarball`);
    for (const kind of ['dependencies', 'optionalDependencies', 'peerDependencies'])
      for (const [name, range] of Object.entries(pkg[kind] ?? {}))
        if (String(range).startsWith('workspace:')) bad(`${kind}.${name} = ${range}`);
    try {
      execFileSync(join(root, 'node_modules', '.bin', 'publint'), ['--strict', '--pack', 'false', pkgDir], {
        stdio: 'pipe',
        encoding: 'utf8',
      });
    } catch (e) {
      bad(`publint: ${e.stdout || e.message}`);
    }
    try {
      // types as TypeScript resolves them for ESM consumers (node16, bundler); the packages are ESM-only
      execFileSync(
        join(root, 'node_modules', '.bin', 'attw'),
        [join(tmp, tgz), '--profile', 'esm-only', '--format', 'ascii'],
        {
          stdio: 'pipe',
          encoding: 'utf8',
        },
      );
    } catch (e) {
      bad(`arethetypeswrong: ${e.stdout || e.message}`);
    }
    console.log(`${pkg.name}: packed ${tgz}, ${Object.keys(pkg.exports ?? {}).length} export paths checked`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
if (problems.length) {
  console.error(`\n${problems.length} packaging problem(s):\n- ${problems.join('\n- ')}`);
  process.exit(1);
}
console.log('all packages pack right');
