// Where @nl/native finds its binary (native/lib/locate.ts), on a throwaway folder tree: the
// platform package resolved from the caller, the local build, the newer of the two when both
// exist, NL_NATIVE_BINARY above both, null when none is there.
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { locateBinary, platformPackage } from '../lib/locate.js';

const root = mkdtempSync(join(tmpdir(), 'nl-locate-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
afterEach(() => {
  delete process.env.NL_NATIVE_BINARY;
});

/** A project folder: optionally the platform package (binary aged `pkgAge` s) and a local build. */
function project(name: string, opts: { pkgAge?: number; localAge?: number }) {
  const dir = join(root, name);
  const from = pathToFileURL(join(dir, 'index.js')).href;
  const local = join(dir, 'build', 'nl_native.node');
  const now = Date.now() / 1000;
  if (opts.pkgAge !== undefined) {
    const pkg = join(dir, 'node_modules', ...platformPackage().split('/'));
    mkdirSync(pkg, { recursive: true });
    writeFileSync(
      join(pkg, 'package.json'),
      JSON.stringify({ name: platformPackage(), main: 'nl_native.node' }),
    );
    writeFileSync(join(pkg, 'nl_native.node'), 'prebuilt');
    utimesSync(join(pkg, 'nl_native.node'), now - opts.pkgAge, now - opts.pkgAge);
  }
  if (opts.localAge !== undefined) {
    mkdirSync(join(dir, 'build'), { recursive: true });
    writeFileSync(local, 'local');
    utimesSync(local, now - opts.localAge, now - opts.localAge);
  }
  mkdirSync(dir, { recursive: true });
  return { from, local };
}

describe('locateBinary', () => {
  it('uses the platform package when it is the only binary', () => {
    const { from, local } = project('prebuilt-only', { pkgAge: 10 });
    const found = locateBinary(from, local)!;
    expect(found.source).toBe('prebuilt');
    expect(found.path).toMatch(/native-.*nl_native\.node$/);
  });
  it('uses the local build when there is no platform package', () => {
    const { from, local } = project('local-only', { localAge: 10 });
    expect(locateBinary(from, local)).toEqual({ path: local, source: 'local build' });
  });
  it('takes the newer when both exist', () => {
    const a = project('local-newer', { pkgAge: 100, localAge: 10 });
    expect(locateBinary(a.from, a.local)!.source).toBe('local build');
    const b = project('prebuilt-newer', { pkgAge: 10, localAge: 100 });
    expect(locateBinary(b.from, b.local)!.source).toBe('prebuilt');
  });
  it('NL_NATIVE_BINARY wins, and names a missing file', () => {
    const { from, local } = project('env', { pkgAge: 10, localAge: 10 });
    process.env.NL_NATIVE_BINARY = local;
    expect(locateBinary(from, local)).toEqual({ path: local, source: 'NL_NATIVE_BINARY' });
    process.env.NL_NATIVE_BINARY = join(root, 'nope.node');
    expect(() => locateBinary(from, local)).toThrow(/NL_NATIVE_BINARY=.*nope\.node: no such file/);
  });
  it('null when no binary is there', () => {
    const { from, local } = project('none', {});
    expect(locateBinary(from, local)).toBeNull();
  });
});
