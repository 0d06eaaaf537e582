/**
 * nl-bench (`pnpm bench`): runs benchmark suites, prints one table per suite (rates with units,
 * ratios to the suite's reference implementation) and writes every row to
 * results/bench-<timestamp>.json with the machine's description.
 *
 *   pnpm bench                 all suites
 *   pnpm bench --suite gemm    one suite
 *   pnpm bench --quick         smaller sizes, shorter sampling (smoke run)
 *   pnpm bench --suite tasks [--task mqar ...] [--seeds 3] [--first-seed 0] [--models hope titans ...] [--budget long] [--widths 64] [--merge]
 *                              the paper's-claims tasks (not part of the default run: model
 *                              training, up to an hour); writes results/tasks/<family>.*
 *   pnpm bench --device cuda   the CUDA suite (GEMM, AdamW, transformer-tiny step and decode, memory
 *                              ops, hope-tiny step; memory ops beside torch peers, hope-340m) beside
 *                              PyTorch on the same GPU; exits 1 naming the reason when no CUDA
 *                              device serves (NL_CUDA_EMULATE=1: a smoke run on the emulated device)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { info } from '@nl/native';
import type { Row } from './harness.js';
import { formatTable } from './table.js';
import { gemmSuite } from './suites/gemm.js';
import { BATCHED_SHAPES, gemmShapesSuite } from './suites/gemm-shapes.js';
import { memorySuite } from './suites/memory.js';
import { tensorSuite } from './suites/tensor.js';
import { optimSuite } from './suites/optim.js';
import { inferenceSuite } from './suites/inference.js';
import { transformerSuite } from './suites/transformer.js';
import { modelsSuite } from './suites/models.js';
import { cudaSuite } from './suites/cuda.js';
import { cudaPeerShapes } from './suites/cuda-peers.js';
import { HOPE_340M_SHAPE } from './suites/cuda-hope340m.js';
import { cudaDeviceInfo, type Device } from '@nl/tensor';
import { runTaskSuite, TASK_FAMILIES } from './tasks/run-tasks.js';

interface Suite {
  name: string;
  description: string;
  ratioLabel: string;
  run(quick: boolean): Promise<Row[]>;
}

const suites: Suite[] = [
  {
    name: 'gemm',
    description: 'f32 matrix multiply, square sizes: @nl/native vs onnxruntime-node MatMul vs plain JS',
    ratioLabel: 'vs ORT',
    run: (quick) =>
      gemmSuite(
        quick
          ? { sizes: [128, 256], jsMaxSize: 256, timeMs: 100 }
          : { sizes: [256, 512, 1024, 2048], jsMaxSize: 1024, timeMs: 1000 },
      ),
  },
  {
    name: 'gemm-shapes',
    description:
      'f32 GEMM, transposed operands and batched small products (one call each): @nl/native, and ORT for comparison',
    ratioLabel: 'vs native A·B',
    run: (quick) =>
      gemmShapesSuite(
        quick
          ? { size: 256, batched: BATCHED_SHAPES.map((s) => ({ ...s, batch: 4 })), timeMs: 100 }
          : { size: 1024, batched: BATCHED_SHAPES, timeMs: 1000 },
      ),
  },
  {
    name: 'memory',
    description:
      '@nl/memory fused chunk kernels (gated delta rule, Titans linear, Titans MLP) vs their TS token-by-token references, f32, B=1 H=4 D=64; SelfModifyingTitans fused vs loop/chunked, B=1..16 H=4 D=32/64; ContinuumMemory fused vs loop (hope-tiny CMS, fwd+bwd+observe)',
    ratioLabel: 'vs TS ref',
    run: (quick) =>
      memorySuite(
        quick
          ? {
              seqLens: [512],
              refMaxT: 512,
              timeMs: 100,
              chunkSize: 64,
              selfMod: { batches: [1, 4], dims: [32], seqLen: 512, refT: 16, timeMs: 100 },
              cms: { batches: [4], seqLen: 32, timeMs: 100 },
            }
          : {
              seqLens: [512, 2048, 8192],
              refMaxT: 2048,
              timeMs: 1000,
              chunkSize: 64,
              selfMod: { batches: [1, 4, 16], dims: [32, 64], seqLen: 512, refT: 32, timeMs: 1000 },
              cms: { batches: [1, 8, 32], seqLen: 32, timeMs: 1000 },
            },
      ),
  },
  {
    name: 'tensor',
    description:
      '@nl/tensor CPU: elementwise/reduction GB/s vs a copy kernel, tiny-op overhead (µs), 2-layer MLP train steps/s',
    ratioLabel: 'vs ref',
    run: (quick) =>
      tensorSuite(
        quick
          ? { n: 1 << 20, timeMs: 100, mlp: { batch: 32, inDim: 64, hidden: 128, out: 10 }, leakSteps: 200 }
          : {
              n: 1 << 23,
              timeMs: 500,
              mlp: { batch: 64, inDim: 256, hidden: 512, out: 10 },
              leakSteps: 1000,
            },
      ),
  },
  {
    name: 'optim',
    description:
      '@nl/optim: step time per 1M params (fused/native vs TS reference), Newton–Schulz GFLOP/s, MLP training loss of AdamW/Muon/M3/DMGD',
    ratioLabel: 'vs TS ref',
    run: (quick) =>
      optimSuite(
        quick
          ? {
              side: 128,
              count: 4,
              nsShapes: [
                [256, 256],
                [1024, 1024],
              ],
              trainSteps: 100,
              timeMs: 100,
            }
          : {
              side: 512,
              count: 4,
              nsShapes: [
                [256, 256],
                [1024, 1024],
                [4096, 1024],
              ],
              trainSteps: 300,
              timeMs: 500,
            },
      ),
  },
  {
    name: 'inference',
    description:
      'transformer-tiny greedy decode, tokens/s: our streaming decoder vs its exported ONNX step graph (KV cache as inputs/outputs) in onnxruntime-node',
    ratioLabel: 'vs ORT',
    run: (quick) => inferenceSuite(quick ? { tokens: 16, runs: 1 } : { tokens: 128, runs: 3 }),
  },
  {
    name: 'models',
    description:
      "the four tiny models (transformer, deltanet, titans, hope-tiny) in one run: train step tokens/s and batch-1 decode tokens/s (each model's default decoder), interleaved rounds, best round kept",
    ratioLabel: 'vs transformer-tiny',
    run: (quick) =>
      modelsSuite(
        quick
          ? { batch: 2, seq: 16, trainSteps: 1, decodeTokens: 8, rounds: 1 }
          : { batch: 8, seq: 128, trainSteps: 3, decodeTokens: 256, rounds: 8 },
      ),
  },
  {
    name: 'transformer',
    description:
      'transformer-tiny on the CPU: train step (fwd+bwd+AdamW) and batch-1 KV-cache decode, ours vs PyTorch eager (same shape, same run; skipped with a note without torch); a d 64 step at T 512 with the buffer pool at its old 256 MiB cap vs its current limit',
    ratioLabel: 'ours / torch',
    run: (quick) =>
      transformerSuite(
        quick
          ? { batch: 2, seq: 16, decodeTokens: 8, timeMs: 100, pool: { batch: 2, seq: 16, timeMs: 100 } }
          : {
              batch: 8,
              seq: 128,
              decodeTokens: 128,
              timeMs: 2000,
              pool: { batch: 8, seq: 512, timeMs: 4000 },
            },
      ),
  },
];

async function main(): Promise<void> {
  const program = new Command()
    .name('nl-bench')
    .description('Benchmarks of the @nl kernels against onnxruntime-node and plain JS')
    .option('-s, --suite <names...>', `suites to run (${suites.map((s) => s.name).join(', ')})`)
    .option('-q, --quick', 'small sizes and short sampling', false)
    .option('-o, --out <dir>', 'folder for the JSON results', 'results')
    .option('-d, --device <device>', "run the device suite on 'cuda' / 'cuda:N' instead of the CPU suites")
    .option(
      '--task <names...>',
      `with --suite tasks: the task families (${TASK_FAMILIES.map((t) => t.name).join(', ')})`,
    )
    .option('--seeds <n>', 'with --suite tasks: seeds per model (default 3)', '3')
    .option('--first-seed <n>', 'with --suite tasks: the first seed (seeds first … first + n − 1)', '0')
    .option('--widths <n...>', "with --suite tasks: the model widths to run, of the budget's (mqar)")
    .option('--models <names...>', 'with --suite tasks: the models compared (default all)')
    .option(
      '--budget <name>',
      `with --suite tasks: a named longer budget of the families that have one (${TASK_FAMILIES.filter(
        (t) => (t.budgets ?? []).length > 0,
      )
        .map((t) => `${t.name}: ${t.budgets!.join(', ')}`)
        .join('; ')})`,
    )
    .option(
      '--merge',
      "with --suite tasks: keep the stored report's rows of the runs (model, width, seed) not run (same family and budget)",
      false,
    )
    .parse();
  const opts = program.opts<{
    suite?: string[];
    quick: boolean;
    out: string;
    device?: string;
    task?: string[];
    seeds: string;
    firstSeed: string;
    widths?: string[];
    models?: string[];
    budget?: string;
    merge: boolean;
  }>();
  if (opts.suite?.includes('tasks')) {
    if (opts.suite.length > 1) {
      console.error('nl-bench: --suite tasks runs alone (it trains models for up to an hour)');
      process.exit(2);
    }
    const seeds = Number(opts.seeds);
    if (!Number.isInteger(seeds) || seeds < 1) {
      console.error(`nl-bench: --seeds must be a positive integer, got ${JSON.stringify(opts.seeds)}`);
      process.exit(2);
    }
    const firstSeed = Number(opts.firstSeed);
    if (!Number.isInteger(firstSeed) || firstSeed < 0) {
      console.error(`nl-bench: --first-seed must be an integer ≥ 0, got ${JSON.stringify(opts.firstSeed)}`);
      process.exit(2);
    }
    const widths = opts.widths?.map(Number);
    if (widths?.some((w) => !Number.isInteger(w) || w < 1)) {
      console.error(`nl-bench: --widths must be positive integers, got ${opts.widths!.join(' ')}`);
      process.exit(2);
    }
    try {
      runTaskSuite({
        families: opts.task,
        quick: opts.quick,
        seeds: Array.from({ length: seeds }, (_, i) => firstSeed + i),
        models: opts.models,
        ...(widths === undefined ? {} : { widths }),
        ...(opts.budget === undefined ? {} : { budget: opts.budget }),
        outDir: join(resolve(opts.out), 'tasks'),
        merge: opts.merge,
      });
    } catch (e) {
      if (!(e instanceof RangeError)) throw e;
      console.error(`nl-bench: ${e.message}`);
      process.exit(2);
    }
    return;
  }
  if (opts.device !== undefined && opts.device !== 'cpu') {
    if (!/^cuda(:\d+)?$/.test(opts.device)) {
      console.error(
        `nl-bench: unknown --device ${JSON.stringify(opts.device)} (expected cpu, cuda or cuda:N)`,
      );
      process.exit(2);
    }
    let dev: ReturnType<typeof cudaDeviceInfo>;
    try {
      dev = cudaDeviceInfo(opts.device);
    } catch (e) {
      console.error(
        `nl-bench: no CUDA device for --device ${opts.device}: ${(e as Error).message.replace(/^cudaDeviceInfo: /, '')}`,
      );
      process.exit(1);
    }
    console.log(
      `nl-bench --device ${opts.device}: ${dev.name}${dev.emulated ? ' (EMULATED: rates measure the host emulator)' : ''}, GEMM: ${dev.gemm}`,
    );
    const q = opts.quick;
    const rows = await cudaSuite({
      device: opts.device as Device,
      gemmSizes: q ? [64, 128] : [1024, 2048, 4096],
      adamParams: q
        ? [
            [64, 64],
            [64, 16],
          ]
        : [
            [4096, 1024],
            [1024, 4096],
            [1024, 1024],
            [1024, 1024],
          ],
      train: q ? { batch: 2, seq: 16 } : { batch: 8, seq: 128 },
      decodeTokens: q ? 4 : 256,
      timeMs: q ? 50 : 1000,
      memory: q
        ? { batch: 1, seq: 16, heads: 2, dim: 16, hidden: 16, chunkSize: 8 }
        : { batch: 4, seq: 512, heads: 8, dim: 64, hidden: 64, chunkSize: 64 },
      hope: q ? { batch: 1, seq: 8 } : { batch: 8, seq: 256 },
      peers: cudaPeerShapes(q),
      hope340m: q ? null : HOPE_340M_SHAPE,
    });
    console.log(formatTable(rows, 'ratio'));
    const dir = resolve(opts.out);
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `bench-cuda-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(
      file,
      JSON.stringify({ date: new Date().toISOString(), device: dev, quick: q, rows }, null, 2),
    );
    console.log(`\nwrote ${file}`);
    return;
  }
  const unknown = (opts.suite ?? []).filter((s) => !suites.some((x) => x.name === s));
  if (unknown.length > 0) {
    console.error(
      `nl-bench: unknown suite(s) ${unknown.join(', ')}; available: ${suites.map((s) => s.name).join(', ')}`,
    );
    process.exit(2);
  }
  const chosen = opts.suite ? suites.filter((s) => opts.suite!.includes(s.name)) : suites;
  const machine = {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    native: info(),
  };
  console.log(
    `nl-bench on ${machine.cpu} (${machine.cores} cores), Node ${machine.node}, @nl/native ${machine.native.version} simd=${machine.native.simd} threads=${machine.native.threads} cuda=${machine.native.cuda.devices.length > 0 ? machine.native.cuda.devices.map((d) => d.name).join(', ') : 'none'}`,
  );

  const all: Row[] = [];
  for (const suite of chosen) {
    console.log(`\n== ${suite.name}: ${suite.description}`);
    const rows = await suite.run(opts.quick);
    console.log(formatTable(rows, suite.ratioLabel));
    all.push(...rows);
  }
  const dir = resolve(opts.out);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(
    file,
    JSON.stringify({ date: new Date().toISOString(), machine, quick: opts.quick, rows: all }, null, 2),
  );
  console.log(`\nwrote ${file}`);
}

main().catch((err) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exit(1);
});
