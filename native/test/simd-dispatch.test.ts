/**
 * The SIMD level the GEMM runs at (info().simd) and its run-time choice in portable builds
 * (NL_PORTABLE=ON, src/cpu/simd_dispatch.cc). Each case loads the same binary in a child process
 * with a chosen NL_SIMD, since the choice is made once per process.
 *
 * Default builds (-march=native) ignore NL_SIMD. To run the kernel suites on the AVX2 copy of a
 * portable build on an AVX-512 machine:
 *   NL_NATIVE_BINARY=$PWD/native/build-portable/Release/nl_native.node NL_SIMD=avx2 npx vitest run native
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { info, nativeBinary } from '@nl/native';

const LEVELS = ['avx512', 'avx2', 'avx', 'sse4.2', 'sse2', 'neon', 'scalar'];

/** AVX-512 F/BW/VL/DQ as the kernel reports them in /proc/cpuinfo (null off Linux). */
function cpuHasAvx512(): boolean | null {
  if (!existsSync('/proc/cpuinfo')) return null;
  const flags = new Set(
    (/^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? '').split(/\s+/),
  );
  return ['avx512f', 'avx512bw', 'avx512vl', 'avx512dq'].every((f) => flags.has(f));
}

/**
 * In a child process with NL_SIMD = `simd` (undefined: unset): the binary's info().simd and a
 * 7x37x53 f32 GEMM's largest difference from a float64 loop.
 */
function childRun(simd: string | undefined): { simd: string; simdDispatch: boolean; maxErr: number } {
  const script = `
    const b = require(${JSON.stringify(nativeBinary!.path)});
    const m = 7, n = 37, k = 53;
    let s = 1;
    const r = () => ((s = (s * 16807) % 2147483647) / 2147483647) * 2 - 1;
    const a = Float32Array.from({ length: m * k }, r), bb = Float32Array.from({ length: k * n }, r);
    const c = new Float32Array(m * n);
    b.gemm(false, false, m, n, k, 1, a, 0, k, 0, bb, 0, n, 0, 0, c, 0, n, 0, 1);
    let maxErr = 0;
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let want = 0;
        for (let p = 0; p < k; p++) want += a[i * k + p] * bb[p * n + j];
        maxErr = Math.max(maxErr, Math.abs(c[i * n + j] - want));
      }
    const { simd, simdDispatch } = b.info();
    console.log(JSON.stringify({ simd, simdDispatch, maxErr }));`;
  const env = { ...process.env };
  delete env.NL_SIMD;
  if (simd !== undefined) env.NL_SIMD = simd;
  const out = execFileSync(process.execPath, ['-e', script], { env, encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').pop()!) as { simd: string; simdDispatch: boolean; maxErr: number };
}

describe('info().simd and NL_SIMD', () => {
  it('this process reports a known level, and the override when a portable build runs under NL_SIMD=avx2', () => {
    const i = info();
    expect(LEVELS).toContain(i.simd);
    expect(typeof i.simdDispatch).toBe('boolean');
    if (i.simdDispatch && process.env.NL_SIMD === 'avx2') expect(i.simd).toBe('avx2');
  });

  it('NL_NATIVE_BINARY makes the loader take that file', () => {
    const chosen = process.env.NL_NATIVE_BINARY;
    if (chosen) expect(nativeBinary).toEqual({ path: chosen, source: 'NL_NATIVE_BINARY' });
    else expect(nativeBinary?.source).not.toBe('NL_NATIVE_BINARY');
  });

  it('NL_SIMD=avx2 selects the AVX2 GEMM in portable builds and is ignored by default builds; both compute the product', () => {
    const auto = childRun(undefined);
    const forced = childRun('avx2');
    expect(auto.simdDispatch).toBe(info().simdDispatch);
    if (auto.simdDispatch) {
      // the choice follows the CPU's flags, read here independently of the addon
      const avx512 = cpuHasAvx512();
      if (avx512 !== null) expect(auto.simd).toBe(avx512 ? 'avx512' : 'avx2');
      expect(forced.simd).toBe('avx2');
    } else {
      expect(forced.simd).toBe(auto.simd);
    }
    for (const run of [auto, forced]) expect(run.maxErr).toBeLessThan(1e-4);
  });

  it('an unknown NL_SIMD value falls back to the CPU choice (with a warning), never a crash', () => {
    expect(childRun('sse9').simd).toBe(childRun(undefined).simd);
  });
});
