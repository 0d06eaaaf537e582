/**
 * The CUDA backend: tensors whose storage is device memory of @nl/native's CUDA runtime. A
 * buffer is a `CudaBuffer` handle (the device address as a number, its dtype and length); only
 * the CUDA kernels (src/backends/cuda-kernels.ts and the kernel files other packages register)
 * read its address, through `cudaPointer`. Transfers: `fromHost` uploads through pinned staging,
 * `toHost` waits for the stream, `toHostAsync` waits on a worker thread.
 *
 * Two kinds of device serve 'cuda' / 'cuda:N': a real GPU (when the addon has CUDA compiled in and
 * the driver sees one), or the emulated device (host memory, every kernel run by the host
 * emulator) that CI uses: `enableCudaEmulation()` from '@nl/tensor/testing', or NL_CUDA_EMULATE=1.
 */
import { native, type CudaDType, type CudaOpened } from '@nl/native';
import type { DType, TypedArray } from '../dtype.js';
import { itemSize } from '../dtype.js';
import type { Backend, DeviceBuffer } from '../backend/types.js';

const DT_CODE: Record<DType, CudaDType> = { float32: 0, float64: 1, int32: 2 };
const CTOR = { float32: Float32Array, float64: Float64Array, int32: Int32Array } as const;

/** A CUDA device buffer: a handle, never a host array. */
export class CudaBuffer {
  readonly #ptr: number;
  readonly dtype: DType;
  readonly length: number;
  readonly device: CudaDevice;
  constructor(ptr: number, dtype: DType, length: number, device: CudaDevice) {
    this.#ptr = ptr;
    this.dtype = dtype;
    this.length = length;
    this.device = device;
  }
  static ptr(b: CudaBuffer): number {
    return b.#ptr;
  }
}

/** What the runtime says about an opened device. */
export interface CudaDevice extends CudaOpened {
  /** 'cuda:N' */
  readonly label: string;
}

/** The device address of a CUDA buffer (CUDA kernels only). */
export function cudaPointer(buf: DeviceBuffer): number {
  if (!(buf instanceof CudaBuffer)) throw new TypeError('cudaPointer: not a CUDA buffer');
  return CudaBuffer.ptr(buf);
}

/** The dtype code of a CUDA buffer. */
export function cudaDType(buf: DeviceBuffer): CudaDType {
  if (!(buf instanceof CudaBuffer)) throw new TypeError('cudaDType: not a CUDA buffer');
  return DT_CODE[buf.dtype];
}

/** The dtype code of a dtype name. */
export function cudaDTypeOf(dtype: DType): CudaDType {
  return DT_CODE[dtype];
}

/** The device a CUDA buffer lives on. */
export function cudaDeviceOf(buf: DeviceBuffer): CudaDevice {
  if (!(buf instanceof CudaBuffer)) throw new TypeError('cudaDeviceOf: not a CUDA buffer');
  return buf.device;
}

const asBuffer = (b: CudaBuffer): DeviceBuffer => b as unknown as DeviceBuffer;

/** A scratch buffer on `device` (kernels free it with `releaseScratch` after queueing their work). */
export function scratch(device: CudaDevice, dtype: DType, n: number, zero = false): DeviceBuffer {
  const bytes = Math.max(1, n) * itemSize(dtype);
  return asBuffer(new CudaBuffer(native.cudaAlloc(device.id, bytes, zero), dtype, n, device));
}

/** Frees a scratch buffer (stream-ordered: work already queued on it still sees its contents). */
export function releaseScratch(buf: DeviceBuffer): void {
  native.cudaFree(cudaPointer(buf));
}

/**
 * A contiguous scratch copy, as `dtype`, of the strided view (buf, offset, strides) over `shape`
 * (one cudaCopy); free it with `releaseScratch` once the work reading it is queued.
 */
export function gatherAs(
  buf: DeviceBuffer,
  offset: number,
  strides: readonly number[],
  shape: readonly number[],
  dtype: DType,
): DeviceBuffer {
  const out = scratch(
    cudaDeviceOf(buf),
    dtype,
    shape.reduce((p, d) => p * d, 1),
  );
  native.cudaCopy(cudaPointer(out), DT_CODE[dtype], shape, cudaPointer(buf), cudaDType(buf), offset, strides);
  return out;
}

/** The backend of one opened CUDA device. */
export function cudaBackendFor(device: CudaDevice): Backend {
  return {
    name: 'cuda',
    allocate: (dtype, n, zero = true) => scratch(device, dtype, n, zero),
    fromHost(data, dtype) {
      const buf = scratch(device, dtype, data.length, false);
      if (data.length > 0) native.cudaUpload(cudaPointer(buf), 0, data);
      return buf;
    },
    toHost(buf, dtype, offset, n): TypedArray {
      const out = new CTOR[dtype](n);
      if (n > 0) native.cudaDownload(cudaPointer(buf), offset * itemSize(dtype), out);
      return out;
    },
    async toHostAsync(buf, dtype, offset, n): Promise<TypedArray> {
      if (n === 0) return new CTOR[dtype](0);
      const ab = await native.cudaDownloadAsync(
        cudaPointer(buf),
        offset * itemSize(dtype),
        n * itemSize(dtype),
      );
      return new CTOR[dtype](ab);
    },
    release(buf) {
      native.cudaFree(cudaPointer(buf));
    },
  };
}

/** Opens CUDA device `index` (real or emulated). Throws with the runtime's reason. */
export function openCudaDevice(index: number, emulated: boolean): CudaDevice {
  const o = native.cudaOpen(index, emulated);
  return { ...o, label: `cuda:${o.index}` };
}
