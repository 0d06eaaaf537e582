/**
 * Session state files are checked at load (issue 15): flipped data bytes (SHA-256 per tensor) and
 * out-of-range session metadata (`pending: 999`, `titansTokens: -1`, ...) are refused with clear
 * errors, and a failed loadState frees every tensor it loaded.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io, memory } from '@nl/tensor';
import { afterAll, expect, it } from 'vitest';
import { HopeLM } from '../src/models/hope.js';
import { HopeSession } from '../src/session/session.js';

const dir = mkdtempSync(join(tmpdir(), 'hope-session-int-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const m = new HopeLM({
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
});

it('flipped data bytes and bad session metadata are refused; failed loads leak no tensor', () => {
  const s = new HopeSession(m);
  s.feed('Once upon a time, in a land of bytes, ');
  const good = join(dir, 'good.safetensors');
  s.saveState(good);
  const t = new HopeSession(m);
  t.loadState(good); // sanity: the file loads

  const bytes = readFileSync(good);
  const flipped = Uint8Array.from(bytes);
  flipped[flipped.length - 3]! ^= 0x10;
  writeFileSync(join(dir, 'flipped.safetensors'), flipped);

  const { tensors, metadata } = io.loadWithMetadata(good);
  const session = JSON.parse(metadata.session!);
  const variant = (name: string, edit: (x: typeof session) => void): string => {
    const x = structuredClone(session);
    edit(x);
    const p = join(dir, `${name}.safetensors`);
    io.save(p, tensors, { ...metadata, session: JSON.stringify(x) });
    return p;
  };
  const cases: [string, RegExp][] = [
    [join(dir, 'flipped.safetensors'), /does not match its SHA-256 checksum \(corrupt data\)/],
    [
      variant('pending', (x) => (x.pending = 999)),
      /pending token must be null or an integer in \[0, 256\), got 999/,
    ],
    [
      variant('titans', (x) => (x.layers[1].titansTokens = -1)),
      /layer 1 titansTokens must be a non-negative integer, got -1/,
    ],
    [variant('position', (x) => (x.position = 1.5)), /position must be a non-negative integer, got 1\.5/],
    [
      variant('cms', (x) => (x.layers[0].levels[0].pending = 8)),
      /layer 0 CMS level 0 pending must be an integer in \[0, 8\), got 8/,
    ],
    [variant('flag', (x) => (x.layers[0].conv = 'yes')), /layer 0 conv must be true or false/],
  ];
  const noSums = join(dir, 'nosums.safetensors');
  const { checksums: _c, ...rest } = metadata;
  io.save(noSums, tensors, rest);
  cases.push([noSums, /metadata config\/session\/checksums is not valid JSON/]);
  for (const x of Object.values(tensors)) x.dispose();

  const before = memory().numTensors;
  for (const [p, re] of cases) {
    expect(() => t.loadState(p)).toThrow(re);
    expect(memory().numTensors).toBe(before);
  }
  // a tensor-level failure after some tensors were taken (and uploaded) frees them too
  const { tensors: t2, metadata: md2 } = io.loadWithMetadata(good);
  const last = Object.keys(t2).at(-1)!;
  const sums = JSON.parse(md2.checksums!);
  sums[last] = '0'.repeat(64);
  const p = join(dir, 'late.safetensors');
  io.save(p, t2, { ...md2, checksums: JSON.stringify(sums) });
  for (const x of Object.values(t2)) x.dispose();
  expect(() => t.loadState(p)).toThrow(
    new RegExp(`'${last.replace(/\./g, '\\.')}' does not match its SHA-256`),
  );
  expect(memory().numTensors).toBe(before);
  s.dispose();
  t.dispose();
});
