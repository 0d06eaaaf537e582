// Seeded fuzz test of the raw addon (every exported function): a few thousand random and mutated
// calls, in batches, each batch in a child process (test/fixtures/fuzz-binding.cjs) so that an
// abort or a segfault is caught and reported with the seed and the call that caused it. Asserts
// zero aborts, zero segfaults, and that every thrown error is a JS Error naming the op
// ("nl.<op>: ..."). Replay one call: node test/fixtures/fuzz-binding.cjs <seed> <call> 1.
// NL_FUZZ_SEED / NL_FUZZ_CALLS override the seed (default 20261203) and the call count (4000).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const script = fileURLToPath(new URL('./fixtures/fuzz-binding.cjs', import.meta.url));
const SEED = Number(process.env.NL_FUZZ_SEED ?? 20261203);
const CALLS = Number(process.env.NL_FUZZ_CALLS ?? 4000);
const BATCH = 500;

interface BatchResult {
  calls: number;
  ok: number;
  errors: Record<string, number>;
  unnamed: string[];
  ops: number;
}

it(`fuzz: ${CALLS} seeded calls of the raw binding, no abort, no segfault, every error names its op`, () => {
  const total = { calls: 0, ok: 0, errors: {} as Record<string, number>, unnamed: [] as string[], ops: 0 };
  const crashes: string[] = [];
  for (let first = 0; first < CALLS; first += BATCH) {
    const count = Math.min(BATCH, CALLS - first);
    const r = spawnSync(process.execPath, [script, String(SEED), String(first), String(count)], {
      encoding: 'utf8',
      timeout: 60_000,
      maxBuffer: 64 << 20,
    });
    const lastCall =
      r.stderr
        .split('\n')
        .filter((l) => l.startsWith('CALL '))
        .pop() ?? '(none)';
    if (r.status !== 0 || r.signal !== null) {
      crashes.push(
        `seed ${SEED}, batch from call ${first}: status ${r.status}, signal ${r.signal}; last call started: ${lastCall}` +
          `\n  stderr tail: ${r.stderr
            .split('\n')
            .filter((l) => !l.startsWith('CALL '))
            .join(' ')
            .slice(-300)}`,
      );
      continue;
    }
    const b = JSON.parse(r.stdout.trim().split('\n').pop()!) as BatchResult;
    total.calls += b.calls;
    total.ok += b.ok;
    total.ops = b.ops;
    for (const [k, n] of Object.entries(b.errors)) total.errors[k] = (total.errors[k] ?? 0) + n;
    total.unnamed.push(...b.unnamed.map((u) => `seed ${SEED} call ${u}`));
  }
  const jsErrors = Object.values(total.errors).reduce((a, b) => a + b, 0);
  console.log(
    `fuzz-binding: seed ${SEED}, ${total.calls} calls over ${total.ops} functions: ${total.ok} succeeded, ` +
      `${jsErrors} JS errors (${JSON.stringify(total.errors)}), ${crashes.length} crashed batches`,
  );
  expect(crashes).toEqual([]);
  expect(total.unnamed).toEqual([]);
  expect(total.calls).toBe(CALLS);
  expect(total.ok).toBeGreaterThan(CALLS / 20); // the generator still reaches the kernels
}, 120_000);
