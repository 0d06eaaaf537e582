// Runs the bundled CUDA test files (.gpu/tests/*.mjs, made by pack.sh) one process each and writes
// $OUT/cuda-tests.json (+ a log per file). Exit 1 when any test failed or a file crashed.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const out = process.env.OUT || '.gpu/out';
mkdirSync(out, { recursive: true });
const dir = '.gpu/tests';
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.mjs'))
  .sort();
const results = [];
let bad = false;
for (const f of files) {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [join(dir, f)], {
    encoding: 'utf8',
    timeout: 240_000,
    maxBuffer: 64 << 20,
  });
  const log = (r.stdout ?? '') + (r.stderr ?? '');
  writeFileSync(join(out, `${f}.log`), log);
  const m = /^REPORT (.*)$/m.exec(r.stdout ?? '');
  const report = m
    ? JSON.parse(m[1])
    : { crashed: true, status: r.status, signal: r.signal, tail: log.slice(-2000) };
  if (!m || report.failed > 0) bad = true;
  results.push({ file: f, seconds: (Date.now() - t0) / 1000, ...report });
  console.log(
    `${f}: ${m ? `${report.passed} passed, ${report.failed} failed, ${report.skipped} skipped` : `CRASHED (status ${r.status}, ${r.signal ?? ''})`} in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );
}
writeFileSync(join(out, 'cuda-tests.json'), JSON.stringify(results, null, 2));
process.exit(bad ? 1 : 0);
