/**
 * One kernel registry keyed by (op, backend). Every op's forward — core ops, nn functional ops,
 * custom fused ops and optimizer updates — finds its implementation here:
 *
 *   registerKernel('softmax', 'cpu', softmaxCpu);
 *   runKernel<typeof softmaxCpu>('softmax', x.device, ...args);
 *
 * A missing kernel throws "<op>: no kernel for device '<device>'"; registering one twice throws.
 * A backend may *mirror* another (the sim device runs the CPU kernels): a lookup that finds no
 * kernel of its own takes the mirrored backend's. `runKernel` marks the call as inside a kernel,
 * which is the only place a host-kernel backend lets its buffers be opened (see hostArray).
 */
import type { Device } from './types.js';

export type KernelFn = (...args: any[]) => any;

const table = new Map<string, Map<string, KernelFn>>();
const mirrors = new Map<string, string>();
/** Devices of the kernels running now (innermost last). */
const running: string[] = [];

/** The registry key of a device: 'cuda:1' -> 'cuda'. */
export function backendKey(device: Device | string): string {
  return device.startsWith('cuda') ? 'cuda' : device;
}

/** Registers `fn` as `op` on `backend`; registering the same (op, backend) twice throws. */
export function registerKernel(op: string, backend: string, fn: KernelFn): void {
  if (typeof op !== 'string' || op.length === 0)
    throw new TypeError('registerKernel: op must be a non-empty string');
  if (typeof fn !== 'function')
    throw new TypeError(`registerKernel('${op}', '${backend}'): kernel must be a function`);
  let row = table.get(op);
  if (row === undefined) {
    row = new Map();
    table.set(op, row);
  }
  if (row.has(backend)) throw new Error(`registerKernel: '${op}' already has a kernel for '${backend}'`);
  row.set(backend, fn);
  resolved.clear();
}

/** Makes `backend` run `source`'s kernels wherever it has none of its own. */
export function mirrorBackend(backend: string, source: string): void {
  mirrors.set(backend, source);
  resolved.clear();
}

/** True when `op` has a kernel for `device` (own or mirrored). */
export function hasKernel(op: string, device: Device | string): boolean {
  return lookup(op, backendKey(device)) !== undefined;
}

function lookup(op: string, key: string): KernelFn | undefined {
  const row = table.get(op);
  if (row === undefined) return undefined;
  const own = row.get(key);
  if (own !== undefined) return own;
  const src = mirrors.get(key);
  return src === undefined ? undefined : row.get(src);
}

/** device -> op -> kernel, filled on first use (every launch looks up here: two Map reads). */
const resolved = new Map<string, Map<string, KernelFn>>();

/** The kernel of `op` for `device`; throws "<op>: no kernel for device '<device>'". */
export function getKernel<F extends KernelFn>(op: string, device: Device | string): F {
  let byOp = resolved.get(device);
  if (byOp === undefined) {
    byOp = new Map();
    resolved.set(device, byOp);
  }
  let fn = byOp.get(op);
  if (fn === undefined) {
    fn = lookup(op, backendKey(device));
    if (fn === undefined) throw new Error(`${op}: no kernel for device '${device}'`);
    byOp.set(op, fn);
  }
  return fn as F;
}

/** Runs `op`'s kernel for `device` with `args`, inside a kernel scope. */
export function runKernel<F extends KernelFn>(
  op: string,
  device: Device | string,
  ...args: Parameters<F>
): ReturnType<F> {
  const fn = getKernel<F>(op, device);
  // CPU kernels need no scope: CPU buffers open anywhere and adopt onto the CPU by default
  if (device === 'cpu' && tracer === null) return fn(...args);
  if (tracer !== null) tracer(op, device);
  running.push(device);
  try {
    return fn(...args);
  } finally {
    running.pop();
  }
}

/** Runs `fn` as a kernel of `device` (host code that implements a kernel in several calls). */
export function inKernelScope<T>(device: Device | string, fn: () => T): T {
  running.push(device);
  try {
    return fn();
  } finally {
    running.pop();
  }
}

/** True while a kernel runs. */
export function insideKernel(): boolean {
  return running.length > 0;
}

/** The device of the innermost running kernel, or null outside kernels. */
export function kernelDevice(): Device | null {
  return running.length > 0 ? (running[running.length - 1] as Device) : null;
}

let tracer: ((op: string, device: string) => void) | null = null;

/** Calls `fn(op, device)` on every kernel launch (null stops); tests use it to check coverage. */
export function traceKernels(fn: ((op: string, device: string) => void) | null): void {
  tracer = fn;
}

/** Every registered (op, backend) pair, for tests and `nl-bench --list`. */
export function registeredKernels(): { op: string; backends: string[] }[] {
  return [...table].map(([op, row]) => ({ op, backends: [...row.keys()] }));
}
