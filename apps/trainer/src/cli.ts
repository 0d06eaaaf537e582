/**
 * nl-train (`pnpm train`): train, evaluate and sample Hope and its baselines.
 * The training loop lands with the @nl/hope issue; until then this prints what exists.
 */
import { Command } from 'commander';
import { info } from '@nl/native';

const program = new Command()
  .name('nl-train')
  .description('Train, evaluate and sample Hope (Nested Learning) models on CPU or CUDA')
  .action(() => {
    const i = info();
    console.error(
      `nl-train: the trainer is not implemented yet (tracked by the @nl/hope issue).\n` +
        `@nl/native ${i.version} is built (simd=${i.simd}, threads=${i.threads}); run \`pnpm bench\` to measure it.`,
    );
    process.exitCode = 1;
  });
program.parse();
