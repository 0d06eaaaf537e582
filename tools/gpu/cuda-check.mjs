// The CUDA sample kernel's test, runnable without vitest (the GPU machine has only the carried
// Node): cudaAxpy vs the CPU axpy and a float64 JS loop on sizes 0, 1, odd and large; bad input
// gives a clear error; a timing line for the record. Prints JSON; exits 1 on any failure.
import { performance } from 'node:perf_hooks';
import { axpy, cudaAxpy, info, isCudaAvailable } from '../../native/dist/index.js';

const failures = [];
const check = (name, ok, detail = '') => {
  if (!ok) failures.push(`${name}${detail ? `: ${detail}` : ''}`);
};

let seed = 12345;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
const randomF32 = (n) => Float32Array.from({ length: n }, rand);

const i = info();
check('cuda compiled in', i.cuda.compiled === true);
check('a CUDA device is visible', i.cuda.devices.length > 0, i.cuda.error ?? '');
check('isCudaAvailable()', isCudaAvailable() === true);

const sizes = [0, 1, 2, 31, 255, 1000, 65_537, 1_000_003];
const results = [];
for (const n of sizes) {
  const a = 1.5;
  const x = randomF32(n);
  const y = randomF32(n);
  const yGpu = y.slice();
  const yCpu = y.slice();
  cudaAxpy(a, x, yGpu);
  axpy(a, x, yCpu);
  let maxVsCpu = 0;
  let maxVsF64 = 0;
  for (let k = 0; k < n; k++) {
    const ref = a * x[k] + y[k]; // float64 reference
    maxVsCpu = Math.max(maxVsCpu, Math.abs(yGpu[k] - yCpu[k]) / (1 + Math.abs(yCpu[k])));
    maxVsF64 = Math.max(maxVsF64, Math.abs(yGpu[k] - ref) / (1 + Math.abs(ref)));
  }
  check(`n=${n} vs CPU axpy`, maxVsCpu <= 1e-6, `rel diff ${maxVsCpu}`);
  check(`n=${n} vs float64 loop`, maxVsF64 <= 2e-7, `rel diff ${maxVsF64}`);
  results.push({ n, maxRelDiffVsCpu: maxVsCpu, maxRelDiffVsFloat64: maxVsF64 });
}

const badInput = [
  ['length mismatch', () => cudaAxpy(1, new Float32Array(3), new Float32Array(4))],
  ['float64 input', () => cudaAxpy(1, new Float64Array(3), new Float64Array(3))],
  ['bad device index', () => cudaAxpy(1, new Float32Array(3), new Float32Array(3), 99)],
];
const errors = {};
for (const [name, fn] of badInput) {
  try {
    fn();
    check(`${name} throws`, false, 'no error');
  } catch (e) {
    errors[name] = String(e.message);
    check(`${name} names nl.cudaAxpy`, /nl\.cudaAxpy/.test(String(e.message)), String(e.message));
    if (name === 'bad device index')
      check(
        'bad device index names the device',
        /device 99 does not exist/.test(String(e.message)),
        String(e.message),
      );
  }
}

// One timing line for the record (includes host<->device copies: this is the sample path, not a
// throughput kernel).
const n = 1 << 24;
const x = randomF32(n);
const y = randomF32(n);
cudaAxpy(1, x, y); // warm-up (context creation)
const t0 = performance.now();
for (let r = 0; r < 5; r++) cudaAxpy(1, x, y);
const gpuMs = (performance.now() - t0) / 5;
const t1 = performance.now();
for (let r = 0; r < 5; r++) axpy(1, x, y);
const cpuMs = (performance.now() - t1) / 5;

console.log(
  JSON.stringify(
    { info: i, results, errors, timing: { n, cudaAxpyMsWithCopies: gpuMs, cpuAxpyMs: cpuMs }, failures },
    null,
    2,
  ),
);
process.exit(failures.length ? 1 : 0);
