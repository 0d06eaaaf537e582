/**
 * The CUDA runtime and op entry points (native/src/binding/cuda_*.cc). Device buffers are
 * numbers: the base address cudaAlloc returned. The addon looks every one up in its buffer table
 * (unknown or freed addresses throw) and checks each operand's extent before queueing a kernel.
 * Dtype codes: 0 float32, 1 float64, 2 int32. A device is opened once with cudaOpen (index, and
 * `emulated` for the host-emulated device CI uses); its `id` names it in the other calls.
 */
import type { CudaLayoutBinding } from './cuda-layout.js';
import type { CudaSelectBinding } from './cuda-select.js';
import type { CudaNnBinding } from './cuda-nn.js';
import type { CudaOptimBinding } from './cuda-optim.js';
import type { CudaMemoryBinding } from './cuda-memory.js';
import type { CudaSelfModBinding } from './cuda-self-mod.js';
import type { CudaTitansBinding } from './cuda-titans.js';
import type { CudaEmuBinding } from './cuda-emu.js';

export type CudaPtr = number;
/** 0 float32, 1 float64, 2 int32. */
export type CudaDType = 0 | 1 | 2;

export interface CudaOpened {
  id: number;
  name: string;
  emulated: boolean;
  index: number;
  /** Which GEMM serves: 'cuBLAS (<path>)', 'nl tiled kernel (<why>)'. */
  gemm: string;
}

export interface CudaMemoryInfo {
  free: number;
  total: number;
  inUse: number;
  cached: number;
  peak: number;
  allocs: number;
}

export interface CudaBinding
  extends CudaLayoutBinding,
    CudaSelectBinding,
    CudaNnBinding,
    CudaOptimBinding,
    CudaMemoryBinding,
    CudaSelfModBinding,
    CudaTitansBinding,
    CudaEmuBinding {
  /** GPUs the CUDA runtime sees (0 without CUDA compiled in or without a driver); does not load cuBLAS. */
  cudaDeviceCount(): number;
  cudaOpen(index: number, emulated: boolean): CudaOpened;
  cudaAlloc(id: number, bytes: number, zero: boolean): CudaPtr;
  cudaFree(ptr: CudaPtr): void;
  cudaUpload(ptr: CudaPtr, byteOffset: number, data: ArrayBufferView): void;
  cudaDownload(ptr: CudaPtr, byteOffset: number, into: ArrayBufferView): void;
  cudaDownloadAsync(ptr: CudaPtr, byteOffset: number, bytes: number): Promise<ArrayBuffer>;
  cudaSynchronize(id: number): void;
  cudaMemory(id: number): CudaMemoryInfo;
  cudaEmptyCache(id: number): void;
  /** float32 GEMM precision: 0 highest (fp32), 1 high (TF32), 2 medium (bf16 operands, fp32 accumulation). */
  cudaSetMatmulPrecision(id: number, precision: 0 | 1 | 2): number;
  /** out[outOff + i] = op(a[i], b[i]) over shape; inDt is a's and b's dtype; outDt is inDt or int32. */
  cudaBinary(
    op: number,
    out: CudaPtr,
    outDt: CudaDType,
    outOff: number,
    shape: readonly number[],
    a: CudaPtr,
    aOff: number,
    aStrides: readonly number[],
    b: CudaPtr,
    bOff: number,
    bStrides: readonly number[],
    inDt: CudaDType,
  ): void;
  cudaUnary(
    op: number,
    out: CudaPtr,
    dt: CudaDType,
    shape: readonly number[],
    a: CudaPtr,
    aOff: number,
    aStrides: readonly number[],
    p0: number,
    p1: number,
  ): void;
  cudaCopy(
    out: CudaPtr,
    outDt: CudaDType,
    shape: readonly number[],
    a: CudaPtr,
    inDt: CudaDType,
    aOff: number,
    aStrides: readonly number[],
  ): void;
  cudaFill(out: CudaPtr, dt: CudaDType, offset: number, n: number, value: number): void;
  /** Row-major strided batched GEMM, the contract of `gemm` (offsets, lds and strides in elements). */
  cudaGemm(
    dt: CudaDType,
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    alpha: number,
    a: CudaPtr,
    aOff: number,
    lda: number,
    strideA: number,
    b: CudaPtr,
    bOff: number,
    ldb: number,
    strideB: number,
    beta: number,
    c: CudaPtr,
    cOff: number,
    ldc: number,
    strideC: number,
    batch: number,
  ): void;
}
