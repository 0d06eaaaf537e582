/**
 * HopeSession.saveState / loadState: exact round trip (state, position, pending token, and the
 * continuation afterwards), atomic overwrite, and clear errors for corrupt, truncated, foreign and
 * mismatched files.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io, tensor } from '@nl/tensor';
import { afterAll, describe, expect, it } from 'vitest';
import { HopeLM } from '../src/models/hope.js';
import { fastStateTensors } from '../src/models/hope-decoder.js';
import { HopeSession } from '../src/session/session.js';

const dir = mkdtempSync(join(tmpdir(), 'hope-session-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function model(over: Record<string, unknown> = {}): HopeLM {
  return new HopeLM({
    vocabSize: 256,
    dim: 16,
    layers: 2,
    heads: 2,
    memoryHidden: 8,
    cmsLevels: [
      { chunkSize: 8, lr: 0.05 },
      { chunkSize: 32, lr: 0.05 },
    ],
    cmsHidden: 16,
    dtype: 'float64',
    selfModImpl: 'chunked',
    seed: 1,
    ...over,
  });
}

const values = (s: HopeSession): number[] =>
  fastStateTensors(s.fastState).flatMap((t) => Array.from(t.dataSync()));

describe('HopeSession state files', () => {
  it('save → load restores the state exactly; both sessions then continue identically', () => {
    const m = model();
    const a = new HopeSession(m);
    a.feed('Once upon a time, in a land of bytes, ');
    const path = join(dir, 'a.safetensors');
    a.saveState(path);
    const b = new HopeSession(m);
    b.feed('unrelated');
    b.loadState(path);
    expect(b.position).toBe(a.position);
    expect(values(b)).toEqual(values(a));
    const la = a.feed('there lived a memory.');
    const lb = b.feed('there lived a memory.');
    expect(lb.nats).toBe(la.nats);
    expect(values(b)).toEqual(values(a));
    // and the pending token travelled too: a generation from both is the same
    expect(Array.from(b.generate({ maxTokens: 5, temperature: 0 }).ids)).toEqual(
      Array.from(a.generate({ maxTokens: 5, temperature: 0 }).ids),
    );
  });

  it('a fresh session saves and loads too (no memory state yet)', () => {
    const m = model();
    const path = join(dir, 'fresh.safetensors');
    new HopeSession(m).saveState(path);
    const s = new HopeSession(m);
    s.feed('abc');
    s.loadState(path);
    expect(s.position).toBe(0);
    expect(s.loss('hello')).toBe(new HopeSession(m).loss('hello'));
  });

  it('overwrites atomically (no temporary files left behind)', () => {
    const m = model();
    const s = new HopeSession(m);
    const path = join(dir, 'over.safetensors');
    s.feed('first');
    s.saveState(path);
    s.feed(' and second');
    s.saveState(path);
    const t = new HopeSession(m);
    t.loadState(path);
    expect(t.position).toBe(s.position);
    expect(readdirSync(dir).filter((f) => f.startsWith('over') && f !== 'over.safetensors')).toEqual([]);
  });

  it('rejects corrupt, truncated, foreign and mismatched files, naming the file and the problem', () => {
    const m = model();
    const s = new HopeSession(m);
    s.feed('some context here');
    const good = join(dir, 'good.safetensors');
    s.saveState(good);
    const bytes = readFileSync(good);

    const garbage = join(dir, 'garbage.safetensors');
    writeFileSync(garbage, Buffer.from('this is not a safetensors file at all'));
    expect(() => s.loadState(garbage)).toThrow(/garbage\.safetensors: not a readable safetensors file/);

    const cut = join(dir, 'cut.safetensors');
    writeFileSync(cut, bytes.subarray(0, bytes.length - 100));
    expect(() => s.loadState(cut)).toThrow(/cut\.safetensors: not a readable safetensors file/);

    const foreign = join(dir, 'weights.safetensors');
    io.save(foreign, { w: tensor([1, 2, 3]) });
    expect(() => s.loadState(foreign)).toThrow(/weights\.safetensors: format is undefined/);

    const other = new HopeSession(model({ dim: 32, cmsHidden: 16 }));
    expect(() => other.loadState(good)).toThrow(/different model config \(dim: 16 vs 32/);

    expect(() => s.loadState(join(dir, 'missing.safetensors'))).toThrow(/missing\.safetensors/);
    expect(existsSync(join(dir, 'missing.safetensors'))).toBe(false);

    // a tensor removed / reshaped
    const { tensors, metadata } = io.loadWithMetadata(good);
    const name = Object.keys(tensors).find((k) => k.endsWith('.conv'))!;
    const missing = { ...tensors };
    delete missing[name];
    const p1 = join(dir, 'missing-tensor.safetensors');
    io.save(p1, missing, metadata);
    expect(() => s.loadState(p1)).toThrow(new RegExp(`missing tensor '${name.replace(/\./g, '\\.')}'`));
    const p2 = join(dir, 'bad-shape.safetensors');
    io.save(p2, { ...tensors, [name]: tensor([1, 2], { dtype: 'float64' }) }, metadata);
    expect(() => s.loadState(p2)).toThrow(/is \[2\] float64, expected \[1, 3, 16\] float64/);
    // the failed loads left the session untouched
    const before = values(s);
    expect(() => s.loadState(p2)).toThrow();
    expect(values(s)).toEqual(before);
  });
});
