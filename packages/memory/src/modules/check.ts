/**
 * Input validation shared by the memory modules: shapes of q / k / v [B, T, H, D], gates
 * [B, T, H], chunk sizes. Every error names the module and the argument. Checks read shapes only,
 * never tensor data, so a forward on any device stays on the device; the finiteness of gates and
 * error signals is an opt-in debug check (`setDebugChecks(true)`: one host read per gate per
 * call). The fused native kernels check their gates themselves.
 */
import type { Tensor } from '@nl/tensor';
import type { MemoryGates } from '../contract.js';

let debugChecks = false;

/**
 * Turns on (or off) the debug checks of @nl/memory: every gate of a memory forward / write and
 * every CMS error signal is read to the host and must be finite (errors name the module, the
 * argument and the first bad index). Off by default: each check is a device → host transfer.
 * Returns the previous setting.
 */
export function setDebugChecks(on: boolean): boolean {
  const prev = debugChecks;
  debugChecks = on;
  return prev;
}

/** Whether the debug checks are on (see setDebugChecks). */
export function debugChecksEnabled(): boolean {
  return debugChecks;
}

/** With debug checks on: throws `${what} has a non-finite value at ${i}` (a host read of t). */
export function checkFiniteDebug(what: string, t: Tensor): void {
  if (!debugChecks) return;
  const data = t.dataSync();
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) throw new Error(`${what} has a non-finite value at ${i}`);
  }
}

const fmt = (s: readonly number[]): string => `[${s.join(', ')}]`;

/** Checks x is [B, T, heads, d] and returns [B, T]. */
export function checkSeq(name: string, arg: string, x: Tensor, heads: number, d: number): [number, number] {
  if (x.shape.length !== 4 || x.shape[2] !== heads || x.shape[3] !== d) {
    throw new Error(`${name}: ${arg} must be [B, T, ${heads}, ${d}], got ${fmt(x.shape)}`);
  }
  return [x.shape[0]!, x.shape[1]!];
}

/** Checks k and v agree on B and T; returns [B, T]. */
export function checkKV(
  name: string,
  k: Tensor,
  v: Tensor,
  heads: number,
  dk: number,
  dv: number,
): [number, number] {
  const [b, t] = checkSeq(name, 'k', k, heads, dk);
  const [b2, t2] = checkSeq(name, 'v', v, heads, dv);
  if (b !== b2 || t !== t2)
    throw new Error(`${name}: k ${fmt(k.shape)} and v ${fmt(v.shape)} disagree on [B, T]`);
  return [b, t];
}

/** Checks every given gate is [B, T, H] (and finite, with debug checks on). */
export function checkGates(name: string, gates: MemoryGates, b: number, t: number, h: number): void {
  for (const [key, g] of Object.entries(gates) as [string, Tensor | undefined][]) {
    if (g === undefined) continue;
    if (g.shape.length !== 3 || g.shape[0] !== b || g.shape[1] !== t || g.shape[2] !== h) {
      throw new Error(`${name}: gate ${key} must be [${b}, ${t}, ${h}], got ${fmt(g.shape)}`);
    }
    checkFiniteDebug(`${name}: gate ${key}`, g);
  }
}

/** Checks a chunk size is a positive integer. */
export function checkChunk(name: string, c: number): number {
  if (!Number.isInteger(c) || c < 1)
    throw new Error(`${name}: chunk size must be a positive integer, got ${c}`);
  return c;
}
