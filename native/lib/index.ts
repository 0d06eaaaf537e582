/**
 * @nl/native — loader and typed surface of the C++/CUDA addon.
 *
 * The addon is built by `pnpm build` (cmake-js, `build:native` turbo task) into
 * `build/Release/nl_native.node`. CUDA kernels are compiled in when nvcc was found at build time;
 * calling one where no GPU is usable throws a JS Error naming the reason, never crashes.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import type { MemoryBinding } from './memory.js';
import type { CudaBinding } from './cuda.js';
import type { DecodeBinding } from './decode.js';
import type { HopeDecodeBinding } from './decode-hope.js';
import type { OpCodeTable } from './op-codes.js';
import { locateBinary, platformPackage, platformTag, type LocatedBinary } from './locate.js';

export type * from './memory.js';
export type * from './decode.js';
export type * from './decode-hope.js';
export type * from './cuda.js';
export { OP_CODES, type OpCodeTable } from './op-codes.js';
export { platformPackage, platformTag, type LocatedBinary } from './locate.js';

export type FloatArray = Float32Array | Float64Array;
export type NumericArray = Float32Array | Float64Array | Int32Array;

export interface CudaDeviceInfo {
  index: number;
  name: string;
  computeCapability: string;
  totalMemory: number;
  multiprocessors: number;
}

export interface NativeInfo {
  /** Version of @nl/native the binary was built from. */
  version: string;
  /**
   * SIMD level the GEMM runs at: 'avx512' | 'avx2' | 'avx' | 'sse4.2' | 'sse2' | 'neon' | 'scalar'.
   * Default builds: the build machine's (-march=native). Portable builds: 'avx512' where the CPU has
   * it, else 'avx2'; NL_SIMD=avx2 in the environment forces 'avx2'.
   */
  simd: string;
  /** A portable build (NL_PORTABLE=ON): `simd` was chosen at run time, and NL_SIMD is honoured. */
  simdDispatch: boolean;
  /** Threads CPU kernels use (the calling thread included). */
  threads: number;
  hardwareThreads: number;
  cuda: {
    /** CUDA kernels were compiled into this binary. */
    compiled: boolean;
    runtimeVersion: number;
    driverVersion: number;
    devices: CudaDeviceInfo[];
    /** Why no CUDA device is usable, or null when at least one is. */
    error: string | null;
    /** cuBLAS as the run-time loader finds it ('cuBLAS: <path>' or why not); GPUs use our tiled GEMM without it. */
    cublas: string;
  };
}

/**
 * The raw N-API entry points; see native/src/binding/*.cc. The memory kernels take `(arrays, dims)`
 * structs (./memory.ts); the older families still take positional arguments.
 */
export interface NativeBinding extends MemoryBinding, CudaBinding, DecodeBinding, HopeDecodeBinding {
  /** The op-code table this binary was compiled with (must equal OP_CODES; see ./op-codes.ts). */
  opCodes(): OpCodeTable;
  /**
   * Elementwise and row kernels of @nl/tensor (native/src/binding/tensor_ops.cc); `op` is a code
   * of OP_CODES.binary / .unary / .rowReduce. out is contiguous; shape / strides at most 8 dims.
   */
  tensorBinary(
    op: number,
    out: FloatArray,
    a: FloatArray,
    aOffset: number,
    b: FloatArray,
    bOffset: number,
    shape: number[],
    stridesA: number[],
    stridesB: number[],
  ): void;
  tensorUnary(
    op: number,
    out: FloatArray,
    a: FloatArray,
    aOffset: number,
    shape: number[],
    stridesA: number[],
    p0: number,
    p1: number,
  ): void;
  tensorReduceRows(
    op: number,
    out: FloatArray,
    a: FloatArray,
    aOffset: number,
    rows: number,
    n: number,
  ): void;
  tensorReduceCols(
    op: number,
    out: FloatArray,
    a: FloatArray,
    aOffset: number,
    rows: number,
    n: number,
  ): void;
  tensorSoftmaxRows(log: boolean, out: FloatArray, a: FloatArray, aOffset: number, rows: number, n: number): void; // prettier-ignore
  info(): NativeInfo;
  numThreads(): number;
  setNumThreads(n: number): number;
  axpy(a: number, x: FloatArray, y: FloatArray): void;
  cudaAxpy(a: number, x: Float32Array, y: Float32Array, device?: number): void;
  gemm(
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    alpha: number,
    a: FloatArray,
    aOffset: number,
    lda: number,
    strideA: number,
    b: FloatArray,
    bOffset: number,
    ldb: number,
    strideB: number,
    beta: number,
    c: FloatArray,
    cOffset: number,
    ldc: number,
    strideC: number,
    batch: number,
  ): void;
  /**
   * Fused Adam/AdamW step over a parameter group (@nl/optim): tensor i uses steps[i] (1-based,
   * after increment); maxExpAvgSqs is read only when amsgrad. See native/src/binding/optim.cc.
   */
  optimAdamStep(
    params: FloatArray[],
    grads: FloatArray[],
    expAvgs: FloatArray[],
    expAvgSqs: FloatArray[],
    maxExpAvgSqs: FloatArray[] | null,
    steps: number[],
    lr: number,
    beta1: number,
    beta2: number,
    eps: number,
    weightDecay: number,
    decoupled: boolean,
    amsgrad: boolean,
    maximize: boolean,
  ): void;
  /** Batched quintic Newton–Schulz (@nl/optim Muon/M3): g, out [batch, rows, cols]; out may be g. */
  optimNewtonSchulz(
    g: FloatArray,
    out: FloatArray,
    batch: number,
    rows: number,
    cols: number,
    steps: number,
  ): void;
  /** The plain reference GEMM loop (same arguments as `gemm`), for tests and benches. */
  gemmRef(
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    alpha: number,
    a: FloatArray,
    aOffset: number,
    lda: number,
    strideA: number,
    b: FloatArray,
    bOffset: number,
    ldb: number,
    strideB: number,
    beta: number,
    c: FloatArray,
    cOffset: number,
    ldc: number,
    strideC: number,
    batch: number,
  ): void;
  /** Fused NN kernels for @nl/tensor nn.functional (native/src/binding/nn.cc); null = none. */
  rmsNormForward(
    x: FloatArray,
    w: FloatArray | null,
    rows: number,
    d: number,
    eps: number,
    y: FloatArray,
    rstd: Float64Array,
  ): void;
  rmsNormBackward(
    g: FloatArray,
    x: FloatArray,
    w: FloatArray | null,
    rstd: Float64Array,
    rows: number,
    d: number,
    dx: FloatArray,
    dw: Float64Array | null,
  ): void;
  layerNormForward(
    x: FloatArray,
    w: FloatArray | null,
    b: FloatArray | null,
    rows: number,
    d: number,
    eps: number,
    y: FloatArray,
    mean: Float64Array,
    rstd: Float64Array,
  ): void;
  layerNormBackward(
    g: FloatArray,
    x: FloatArray,
    w: FloatArray | null,
    mean: Float64Array,
    rstd: Float64Array,
    rows: number,
    d: number,
    dx: FloatArray,
    dw: Float64Array | null,
    db: Float64Array | null,
  ): void;
  crossEntropyForward(
    logits: FloatArray,
    targets: Int32Array,
    n: number,
    c: number,
    ignoreIndex: number,
    losses: Float64Array,
    probs: FloatArray,
  ): void;
  crossEntropyBackward(
    probs: FloatArray,
    targets: Int32Array,
    n: number,
    c: number,
    ignoreIndex: number,
    rowScale: Float64Array,
    grad: FloatArray,
  ): void;
  causalConv1dForward(
    x: FloatArray,
    w: FloatArray,
    bias: FloatArray | null,
    b: number,
    t: number,
    c: number,
    k: number,
    y: FloatArray,
  ): void;
  causalConv1dBackward(
    g: FloatArray,
    x: FloatArray,
    w: FloatArray,
    b: number,
    t: number,
    c: number,
    k: number,
    dx: FloatArray,
    dw: Float64Array | null,
    db: Float64Array | null,
  ): void;
  /**
   * True when the addon raised glibc's mmap/trim thresholds at load (large host arrays reuse mapped
   * heap memory instead of fresh mmaps; see src/binding/addon.cc). NL_MALLOC_TUNING=0 turns it off.
   */
  readonly mallocTuned: boolean;
  /** Inverted dropout: writes mask (0 or 1/(1-p), from a hash of seed and index) and y = x * mask. */
  dropoutForward(x: FloatArray, seed: number, p: number, mask: FloatArray, y: FloatArray): void;
  /** dx = g * mask. */
  dropoutBackward(g: FloatArray, mask: FloatArray, dx: FloatArray): void;
}

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
/** Where the built addon is expected. */
export const addonPath = join(packageRoot, 'build', 'Release', 'nl_native.node');

/**
 * Why the addon could not be loaded, or null when it is loaded. NL_NATIVE_DISABLE=1 makes loading
 * fail on purpose (tests of the pure-JS paths run with it, as a user without a binary would).
 */
export let nativeLoadError: Error | null = null;

/** The binary that was loaded and where it came from, or null when none was. */
export let nativeBinary: LocatedBinary | null = null;

function load(): NativeBinding | null {
  try {
    if (process.env.NL_NATIVE_DISABLE === '1')
      throw new Error('@nl/native: the addon is disabled (NL_NATIVE_DISABLE=1).');
    const found = locateBinary(import.meta.url, addonPath);
    if (!found) {
      const installed = packageRoot.split(/[\\/]/).includes('node_modules');
      throw new Error(
        `@nl/native: no binary for ${platformTag()}: the prebuilt package ${platformPackage()} is not ` +
          `installed and there is no local build (${addonPath}). ` +
          (installed
            ? `Install ${platformPackage()} if it exists for your platform, or build from source: clone ` +
              'the repository and run `pnpm install && pnpm build` (needs cmake and a C++17 compiler). '
            : 'Run `pnpm build` at the repository root (needs cmake and a C++17 compiler). ') +
          'The plain-array optimizers of @nl/optim work without it.',
      );
    }
    const binding = createRequire(import.meta.url)(found.path) as NativeBinding;
    nativeBinary = found;
    return binding;
  } catch (e) {
    nativeLoadError = e instanceof Error ? e : new Error(String(e));
    return null;
  }
}

const loaded = load();

/** True when the addon is loaded; code with a pure-JS path checks this before touching `native`. */
export function hasNative(): boolean {
  return loaded !== null;
}

/**
 * The loaded addon (loaded once, on import). Without a binary every property access throws the
 * load error, so importing a package never fails; only the first use of a native entry point does.
 */
export const native: NativeBinding =
  loaded ??
  (new Proxy({} as NativeBinding, {
    get(_t, key) {
      if (key === 'then' || typeof key === 'symbol') return undefined; // not a thenable; inspectable
      throw new Error(`${nativeLoadError!.message} (needed for native.${key})`, {
        cause: nativeLoadError,
      });
    },
  }) as NativeBinding);

/** Version, SIMD level, threads in use, and what CUDA support was compiled in and found. */
export function info(): NativeInfo {
  return native.info();
}

/** True when CUDA kernels are compiled in and at least one device is usable. */
export function isCudaAvailable(): boolean {
  const c = native.info().cuda;
  return c.compiled && c.devices.length > 0;
}

/** Threads used by CPU kernels. */
export function numThreads(): number {
  return native.numThreads();
}

/** Resize the CPU thread pool; 0 restores the default (NL_NUM_THREADS or all hardware threads). */
export function setNumThreads(n: number): number {
  return native.setNumThreads(n);
}

/** y <- a*x + y on the CPU (threaded, vectorised). x and y: same dtype and length. */
export function axpy(a: number, x: FloatArray, y: FloatArray): void {
  native.axpy(a, x, y);
}

/** y <- a*x + y on CUDA device `device` (host arrays are copied in and out). */
export function cudaAxpy(a: number, x: Float32Array, y: Float32Array, device = 0): void {
  native.cudaAxpy(a, x, y, device);
}

export interface GemmOptions {
  transA?: boolean;
  transB?: boolean;
  alpha?: number;
  beta?: number;
  /** Number of matrices in the batch (default 1). */
  batch?: number;
}

/**
 * Dense contiguous product C = alpha * op(A) op(B) + beta * C, batched over a leading dim.
 * a: [batch, m, k] (or [batch, k, m] with transA), b: [batch, k, n] (or [batch, n, k]),
 * c: [batch, m, n]. For strided or broadcast operands use `native.gemm` directly.
 */
export function gemm(
  a: FloatArray,
  b: FloatArray,
  c: FloatArray,
  m: number,
  n: number,
  k: number,
  opts: GemmOptions = {},
): void {
  const { transA = false, transB = false, alpha = 1, beta = 0, batch = 1 } = opts;
  native.gemm(
    transA,
    transB,
    m,
    n,
    k,
    alpha,
    a,
    0,
    transA ? m : k,
    m * k,
    b,
    0,
    transB ? k : n,
    k * n,
    beta,
    c,
    0,
    n,
    m * n,
    batch,
  );
}
