// Runs the bundled CUDA test files (.gpu/tests/*.mjs, made by pack.sh) one process each, NL_TEST_JOBS
// (default 1) at a time, and writes $OUT/cuda-tests.json (+ a log per file). Exit 1 when any test
// failed or a file crashed. The environment passes through (NL_CUDA_REAL, NL_CUDA_EMU_ORDER, ...).
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const out = process.env.OUT || '.gpu/out';
mkdirSync(out, { recursive: true });
const dir = '.gpu/tests';
// NL_TEST_SKIP: a regular expression of bundle names to leave out
const skip = process.env.NL_TEST_SKIP ? new RegExp(process.env.NL_TEST_SKIP) : null;
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.mjs') && !skip?.test(f))
  .sort();
const jobs = Math.max(1, Number(process.env.NL_TEST_JOBS) || 1);
const timeoutMs = Number(process.env.NL_TEST_TIMEOUT_S || 240) * 1000;

function runFile(f) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, [join(dir, f)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: timeoutMs,
      killSignal: 'SIGKILL',
    });
    let stdout = '',
      stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status, signal) => {
      const log = stdout + stderr;
      writeFileSync(join(out, `${f}.log`), log);
      const m = /^REPORT (.*)$/m.exec(stdout);
      const report = m ? JSON.parse(m[1]) : { crashed: true, status, signal, tail: log.slice(-2000) };
      const seconds = (Date.now() - t0) / 1000;
      console.log(
        `${f}: ${m ? `${report.passed} passed, ${report.failed} failed, ${report.skipped} skipped` : `CRASHED (status ${status}, ${signal ?? ''})`} in ${seconds.toFixed(1)} s`,
      );
      resolve({ file: f, seconds, ...report, bad: !m || report.failed > 0 });
    });
  });
}

const results = [];
let next = 0;
await Promise.all(
  Array.from({ length: Math.min(jobs, files.length) }, async () => {
    while (next < files.length) results.push(await runFile(files[next++]));
  }),
);
results.sort((a, b) => a.file.localeCompare(b.file));
const bad = results.some((r) => r.bad);
writeFileSync(
  join(out, 'cuda-tests.json'),
  JSON.stringify(
    results.map(({ bad: _, ...r }) => r),
    null,
    2,
  ),
);
process.exit(bad ? 1 : 0);
