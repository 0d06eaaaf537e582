import * as T from './src/index.ts';
const n = 1024;
const a = T.randn([n, n]), b = T.randn([n, n]);
function bench(label: string, fn: () => void, iters = 30) {
  for (let i = 0; i < 3; i++) fn();
  const t0 = performance.now();
  for (let i = 0; i < iters; i++) fn();
  const ms = (performance.now() - t0) / iters;
  console.log(label, ms.toFixed(2), 'ms', ((2 * n ** 3) / ms / 1e6).toFixed(0), 'GFLOP/s');
}
bench('matmul', () => { const c = a.matmul(b); c.dispose(); });
bench('matmul+dataSync', () => { const c = a.matmul(b); c.dataSync(); c.dispose(); });
bench('matmul+data copy only', () => { const c = a.matmul(b); c.dispose(); });
const c = a.matmul(b);
bench('dataSync alone', () => { c.dataSync(); }, 100);
const pre = new Float32Array(n * n);
bench('matmul+alloc4MB', () => { const c = a.matmul(b); new Float32Array(n * n)[5] = 1; c.dispose(); });
bench('matmul+copy into prealloc', () => { const c = a.matmul(b); pre.set(c.rawView()); c.dispose(); });
bench('matmul+dataSync again', () => { const c = a.matmul(b); c.dataSync(); c.dispose(); });
bench('matmul+fresh alloc+full write', () => { const c = a.matmul(b); new Float32Array(n * n).set(pre); c.dispose(); });
bench('fresh alloc+full write only', () => { new Float32Array(n * n).set(pre); });
bench('matmul then gc-free copy via pool-like reuse', () => { const c = a.matmul(b); const o = new Float32Array(pre.buffer, 0, n*n); o.set(c.rawView()); c.dispose(); });
