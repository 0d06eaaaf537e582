/**
 * Where @nl/native finds its binary: a prebuilt platform package (`@nl/native-linux-x64-gnu`,
 * `@nl/native-darwin-arm64`, ...: one `nl_native.node`, made by tools/native-platform-package.mjs)
 * when one is installed, else the local build of this package (`build/Release/nl_native.node`,
 * `pnpm build` in the repository).
 */
import { createRequire } from 'node:module';
import { existsSync, statSync } from 'node:fs';

/** This machine's platform tag: `linux-x64-gnu` / `linux-x64-musl`, `darwin-arm64`, `win32-x64-msvc`. */
export function platformTag(): string {
  const { platform, arch } = process;
  if (platform === 'linux') {
    const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
    return `${platform}-${arch}-${report?.header?.glibcVersionRuntime ? 'gnu' : 'musl'}`;
  }
  if (platform === 'win32') return `${platform}-${arch}-msvc`;
  return `${platform}-${arch}`;
}

/** The name of the prebuilt package for this machine. */
export function platformPackage(): string {
  return `@nl/native-${platformTag()}`;
}

export interface LocatedBinary {
  path: string;
  source: 'NL_NATIVE_BINARY' | 'prebuilt' | 'local build';
}

/**
 * The binary to load: the file named by the NL_NATIVE_BINARY environment variable when set (e.g.
 * a portable build, `build-portable/Release/nl_native.node`, under test); else the platform
 * package's `nl_native.node` when it resolves from `fromUrl`, or `localBuild` when that file
 * exists — the newer of the two when both do (inside the repository the platform package is a
 * workspace link, holding a binary only after a release copied one in: a fresher local build
 * wins); null when none is there.
 */
export function locateBinary(fromUrl: string, localBuild: string): LocatedBinary | null {
  const chosen = process.env.NL_NATIVE_BINARY;
  if (chosen) {
    if (!existsSync(chosen)) throw new Error(`@nl/native: NL_NATIVE_BINARY=${chosen}: no such file`);
    return { path: chosen, source: 'NL_NATIVE_BINARY' };
  }
  let prebuilt: string | null = null;
  try {
    prebuilt = createRequire(fromUrl).resolve(`${platformPackage()}/nl_native.node`);
  } catch {
    // no prebuilt package for this platform installed, or it holds no binary
  }
  const local = existsSync(localBuild) ? localBuild : null;
  if (prebuilt && local && statSync(local).mtimeMs > statSync(prebuilt).mtimeMs)
    return { path: local, source: 'local build' };
  if (prebuilt) return { path: prebuilt, source: 'prebuilt' };
  return local ? { path: local, source: 'local build' } : null;
}
