// Seeded fuzz test of the public APIs of @nl/tensor and @nl/memory, as a user imports them (the
// built packages): a few thousand random bad calls (wrong types, shapes, dtypes, NaN / huge /
// negative sizes, huge chunk sizes, corrupt safetensors bytes, malformed module configs), in
// batches, each batch in a child process (test/fixtures/fuzz-public.mjs) so an abort or a
// segfault is caught and reported with the seed and the call. Asserts zero crashes and that every
// throw is an Error. Replay one call: node test/fixtures/fuzz-public.mjs <seed> <call> 1.
// NL_FUZZ_SEED / NL_FUZZ_CALLS override the seed (default 20261203) and the call count (2000).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const script = fileURLToPath(new URL('./fixtures/fuzz-public.mjs', import.meta.url));
const SEED = Number(process.env.NL_FUZZ_SEED ?? 20261203);
const CALLS = Number(process.env.NL_FUZZ_CALLS ?? 2000);
const BATCH = 500;

interface BatchResult {
  calls: number;
  ok: number;
  errors: Record<string, number>;
  nonErrors: string[];
}

function runBatch(first: number, count: number, env: NodeJS.ProcessEnv = process.env) {
  const r = spawnSync(process.execPath, [script, String(SEED), String(first), String(count)], {
    encoding: 'utf8',
    timeout: 120_000,
    maxBuffer: 64 << 20,
    env: { ...env, NL_TENSOR_LEAK_WARNINGS: '0' },
  });
  const lastCall =
    r.stderr
      .split('\n')
      .filter((l) => l.startsWith('CALL '))
      .pop() ?? '(none)';
  if (r.status !== 0 || r.signal !== null) {
    const tail = r.stderr
      .split('\n')
      .filter((l) => !l.startsWith('CALL '))
      .join(' ')
      .slice(-300);
    return {
      crash: `seed ${SEED}, batch from call ${first}: status ${r.status}, signal ${r.signal}; last call: ${lastCall}; stderr: ${tail}`,
    };
  }
  return { result: JSON.parse(r.stdout.trim().split('\n').pop()!) as BatchResult };
}

it(`fuzz: ${CALLS} seeded bad calls of the public tensor and memory APIs, no crash, every throw an Error`, () => {
  const crashes: string[] = [];
  const errors: Record<string, number> = {};
  const nonErrors: string[] = [];
  let calls = 0;
  let ok = 0;
  for (let first = 0; first < CALLS; first += BATCH) {
    const b = runBatch(first, Math.min(BATCH, CALLS - first));
    if (b.crash) {
      crashes.push(b.crash);
      continue;
    }
    calls += b.result!.calls;
    ok += b.result!.ok;
    nonErrors.push(...b.result!.nonErrors);
    for (const [k, n] of Object.entries(b.result!.errors)) errors[k] = (errors[k] ?? 0) + n;
  }
  const thrown = Object.values(errors).reduce((a, b) => a + b, 0);
  console.log(
    `fuzz-public: seed ${SEED}, ${calls} calls: ${ok} succeeded, ${thrown} JS errors ${JSON.stringify(errors)}, ` +
      `${crashes.length} crashed batches`,
  );
  expect(crashes).toEqual([]);
  expect(nonErrors).toEqual([]);
  expect(calls).toBe(CALLS);
  expect(thrown).toBeGreaterThan(CALLS / 2); // the calls really are bad input
}, 300_000);

it('the harness reports a process that aborts, naming the call', () => {
  const b = runBatch(0, 1, { ...process.env, NL_FUZZ_SELFTEST: 'abort' });
  expect(b.crash).toMatch(/signal SIGABRT; last call: CALL 0 /);
});
