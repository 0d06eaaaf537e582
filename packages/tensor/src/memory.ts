/**
 * tfjs-style memory management: `tidy(fn)` scopes dispose every tensor created inside them
 * except the ones returned (which move to the enclosing scope) or passed to `keep`. `memory()`
 * reports live tracked tensors and their bytes. A FinalizationRegistry warns (once per process,
 * with a count) about tensors garbage-collected without `dispose()`; set
 * NL_TENSOR_LEAK_WARNINGS=0 to silence it. It never frees anything itself. Tensors under 4 KiB
 * are sampled (1 in 64) because each registration costs garbage-collector time. `dispose()`
 * unregisters its tensor at once, so disposed tensors leave no registry record behind.
 */
import { allDeviceStats, stats, type DeviceMemory } from './memory-stats.js';

/** Anything tidy can track (the Tensor class). */
export interface Trackable {
  readonly isDisposed: boolean;
  dispose(): void;
  /** Set by `keep`: never disposed by a tidy scope. */
  kept: boolean;
}

const scopes: Trackable[][] = [];

/** Registers a new tracked tensor with the innermost tidy scope (if any). */
export function trackInScope(t: Trackable): void {
  if (scopes.length > 0) scopes[scopes.length - 1].push(t);
}

function collect(value: unknown, out: Set<unknown>, depth = 0): void {
  if (value === null || typeof value !== 'object' || depth > 4) return;
  if ('dispose' in value && 'isDisposed' in value) {
    out.add(value);
    return;
  }
  if (Array.isArray(value)) for (const v of value) collect(v, out, depth + 1);
  else if (value instanceof Map) for (const v of value.values()) collect(v, out, depth + 1);
  else if (Object.getPrototypeOf(value) === Object.prototype)
    for (const v of Object.values(value)) collect(v, out, depth + 1);
}

/**
 * Runs `fn` and disposes every tensor it created, except those in its result (a tensor, or
 * arrays/plain objects/Maps of them) and those passed to `keep`. Scopes nest; results move to the
 * enclosing scope. Not for async functions (the scope would close before they finish).
 */
export function tidy<T>(fn: () => T): T {
  const scope: Trackable[] = [];
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    scopes.pop();
    for (const t of scope) if (!t.kept && !t.isDisposed) t.dispose();
    throw e;
  }
  scopes.pop();
  if (result instanceof Promise) {
    throw new Error(
      'tidy: fn returned a Promise; tidy scopes are synchronous (dispose explicitly in async code)',
    );
  }
  const keepSet = new Set<unknown>();
  collect(result, keepSet);
  const parent = scopes.length > 0 ? scopes[scopes.length - 1] : null;
  for (const t of scope) {
    if (t.isDisposed) continue;
    if (keepSet.has(t)) parent?.push(t);
    else if (!t.kept) t.dispose();
  }
  return result;
}

/** Marks `t` so no tidy scope disposes it (dispose it yourself). Returns `t`. */
export function keep<T extends Trackable>(t: T): T {
  t.kept = true;
  return t;
}

/** Runs `fn` outside every tidy scope: tensors it creates are not tracked by the current scopes. */
export function untracked<T>(fn: () => T): T {
  const saved = scopes.splice(0, scopes.length);
  try {
    return fn();
  } finally {
    scopes.push(...saved);
  }
}

/** What `memory()` reports. */
export interface MemoryInfo {
  /** live tracked tensors, all devices */
  numTensors: number;
  /** bytes of the storages they use, all devices */
  bytes: number;
  /** the same per device ('cpu', 'sim', 'cuda:0', ...) */
  devices: Record<string, DeviceMemory>;
}

/** Live tracked tensors and the bytes of the storages they use, in total and per device. */
export function memory(): MemoryInfo {
  const devices = allDeviceStats();
  let bytes = 0;
  for (const d of Object.values(devices)) bytes += d.bytes;
  return { numTensors: stats.numTensors, bytes, devices };
}

// ---- leak warnings -------------------------------------------------------------------------

/** Shared between a tensor and the registry (must not reference the tensor). */
export interface LeakToken {
  disposed: boolean;
  /** registered with the FinalizationRegistry (set by watchLeak, cleared on unregister) */
  watched?: boolean;
  /** where the tensor was made (only with NL_TENSOR_LEAK_STACKS=1) */
  stack?: string;
}
const leakStacks = process.env.NL_TENSOR_LEAK_STACKS === '1';
const stackCounts = new Map<string, number>();
let leaked = 0;
let warned = false;
const warnEnabled = process.env.NL_TENSOR_LEAK_WARNINGS !== '0';
const registry =
  typeof FinalizationRegistry === 'undefined'
    ? null
    : new FinalizationRegistry<LeakToken>((token) => {
        if (token.disposed) return;
        leaked++;
        if (token.stack !== undefined) stackCounts.set(token.stack, (stackCounts.get(token.stack) ?? 0) + 1);
        if (!warned && warnEnabled) {
          warned = true;
          setTimeout(() => {
            console.warn(
              `@nl/tensor: ${leaked} tensor(s) were garbage-collected without dispose(); ` +
                'use tidy()/dispose() (their bytes still count in memory()). This warning is shown once' +
                (leakStacks ? '.' : '; NL_TENSOR_LEAK_STACKS=1 shows where they were made.'),
            );
            for (const [stack, n] of stackCounts) console.warn(`  ${n} x made at\n${stack}`);
          }, 0).unref?.();
        }
      });

let sampleCounter = 0;
/** Storages at least this large are always watched; smaller ones are sampled (1 in 64). */
const WATCH_ALWAYS_BYTES = 4096;

/**
 * Watches `target` for garbage collection without dispose (warning only). Registering costs
 * garbage-collector time, so tiny tensors are sampled: every tensor of >= 4 KiB, 1 in 64 below.
 */
export function watchLeak(target: object, token: LeakToken, bytes: number): void {
  if (registry === null) return;
  if (bytes >= WATCH_ALWAYS_BYTES || (sampleCounter++ & 63) === 0) {
    token.watched = true;
    if (leakStacks) token.stack = new Error().stack?.split('\n').slice(3, 12).join('\n');
    // the token is also the unregister token: dispose() removes the record at once, so a
    // synchronous loop that disposes its tensors leaves no registry records behind (they were
    // otherwise freed only after a GC and a turn of the event loop)
    registry.register(target, token, token);
  }
}

/** Called by dispose(): drops the registry record of a watched tensor (no-op otherwise). */
export function unwatchLeak(token: LeakToken): void {
  if (registry === null || !token.watched) return;
  token.watched = false;
  registry.unregister(token);
}

/** Tensors collected without dispose so far. */
export function leakedCount(): number {
  return leaked;
}
