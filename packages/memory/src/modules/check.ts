/**
 * Input validation shared by the memory modules: shapes of q / k / v [B, T, H, D], gates
 * [B, T, H] (finite), chunk sizes. Every error names the module and the argument.
 */
import type { Tensor } from '@nl/tensor';
import type { MemoryGates } from '../contract.js';

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

/** Checks every given gate is [B, T, H] and finite. */
export function checkGates(name: string, gates: MemoryGates, b: number, t: number, h: number): void {
  for (const [key, g] of Object.entries(gates) as [string, Tensor | undefined][]) {
    if (g === undefined) continue;
    if (g.shape.length !== 3 || g.shape[0] !== b || g.shape[1] !== t || g.shape[2] !== h) {
      throw new Error(`${name}: gate ${key} must be [${b}, ${t}, ${h}], got ${fmt(g.shape)}`);
    }
    const data = g.dataSync();
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i])) throw new Error(`${name}: gate ${key} has a non-finite value at ${i}`);
    }
  }
}

/** Checks a chunk size is a positive integer. */
export function checkChunk(name: string, c: number): number {
  if (!Number.isInteger(c) || c < 1)
    throw new Error(`${name}: chunk size must be a positive integer, got ${c}`);
  return c;
}
