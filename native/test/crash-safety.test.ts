// Bad sizes that used to abort or segfault the process (issue 15) must throw a JS error naming the
// op, and a large but valid chunkSize must give the chunk = T result. Each case runs in its own
// child process (test/fixtures/crash-case.cjs), so an abort (exit 134) or a segfault (SIGSEGV) is
// reported as a failed test rather than killing the runner.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const script = fileURLToPath(new URL('./fixtures/crash-case.cjs', import.meta.url));

interface CaseResult {
  threw: boolean;
  name?: string;
  message?: string;
  result?: { equal: boolean; finite: boolean } | null;
}

function runCase(...args: string[]): CaseResult {
  const r = spawnSync(process.execPath, [script, ...args], { encoding: 'utf8', timeout: 60_000 });
  const how = `case ${args.join(' ')}: status ${r.status}, signal ${r.signal}, stderr ${r.stderr.slice(-400)}`;
  expect(r.signal, how).toBeNull();
  expect(r.status, how).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as CaseResult;
}

const CHUNK_KERNELS = [
  'deltaRuleForward',
  'deltaRuleBackward',
  'titansLinearForward',
  'titansLinearBackward',
  'titansMlpForward',
  'titansMlpBackward',
  'selfModForward',
  'selfModBackward',
];

describe('chunkSize 1e5 and 1e9 on 4 tokens (scratch sized by min(chunk, T))', () => {
  for (const op of CHUNK_KERNELS) {
    it(`${op}: no abort, bit-identical to chunk = T`, () => {
      const r = runCase('chunk', op);
      expect(r.threw, r.message).toBe(false);
      expect(r.result).toEqual({ equal: true, finite: true });
    });
  }
});

describe('overflowing size products are refused with a RangeError naming the op and the values', () => {
  const cases: [string, RegExp][] = [
    ['gemmHugeM', /^nl\.gemm: c: .*overflows 64-bit integers.*rows 4294967296, ld 4294967296/],
    ['gemmHugeBatch', /^nl\.gemm: a: .*overflows 64-bit integers.*batch 4097, stride 4503599627370496/],
    [
      'deltaRuleHugeT',
      /^nl\.deltaRuleForward: arrays\.q: \[B, T, H, Dk\] = \[1, 4503599627370496, 4096, 1\] has more elements than fit/,
    ],
    [
      'titansHugeT',
      /^nl\.titansLinearForward: arrays\.q: .*4503599627370496, 4096.* has more elements than fit/,
    ],
    [
      'titansMlpHugeT',
      /^nl\.titansMlpForward: arrays\.q: .*4503599627370496, 4096.* has more elements than fit/,
    ],
    [
      'newtonSchulzHuge',
      /^nl\.optimNewtonSchulz: batch \* rows \* cols = 1 \* 4294967296 \* 4294967296 overflows/,
    ],
    ['conv1dHuge', /^nl\.causalConv1dForward: b \* t \* c = 4294967296 \* 4294967296 \* 1 overflows/],
  ];
  for (const [name, message] of cases) {
    it(name, () => {
      const r = runCase(name);
      expect(r.threw).toBe(true);
      expect(r.name).toBe('RangeError');
      expect(r.message).toMatch(message);
    });
  }
});
