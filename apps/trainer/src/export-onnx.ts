/**
 * `nl-train export --checkpoint-dir <dir> --onnx <file> [--step] [--max-len N]`: writes the
 * checkpoint's model as an ONNX graph (@nl/hope's exportTransformerOnnx): the full-sequence
 * forward, or with --step the one-token decode step with the KV cache as inputs and outputs.
 * Transformer checkpoints only so far; other kinds stop with an error naming the kind (exit 1).
 */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { exportTransformerOnnx, loadCheckpoint, TransformerLM } from '@nl/hope';
import { ConfigError } from './config.js';

export function registerExport(program: Command, print: (s: string) => void): void {
  program
    .command('export')
    .description('write a checkpoint as an ONNX graph (transformer models)')
    .requiredOption('--checkpoint-dir <dir>', 'checkpoint folder to export')
    .requiredOption('--onnx <file>', 'ONNX file to write')
    .option('--step', 'the one-token decode step with the KV cache, instead of the full-sequence forward')
    .option('--max-len <n>', 'positions the graph accepts (RoPE tables)', '4096')
    .action((opts: { checkpointDir: string; onnx: string; step?: boolean; maxLen: string }) => {
      const maxLen = Number(opts.maxLen);
      if (!Number.isInteger(maxLen) || maxLen < 1)
        throw new ConfigError(`--max-len must be a positive integer, got ${opts.maxLen}`);
      const { model } = loadCheckpoint(opts.checkpointDir);
      try {
        if (!(model instanceof TransformerLM))
          throw new Error(
            `export: ONNX export supports transformer checkpoints so far; ${opts.checkpointDir} holds a ` +
              `${(model.config as { kind: string }).kind} model`,
          );
        const mode = opts.step ? 'step' : 'forward';
        const bytes = exportTransformerOnnx(model, { mode, maxLen });
        writeFileSync(opts.onnx, bytes);
        print(
          `nl-train export: ${mode} graph of ${opts.checkpointDir} -> ${opts.onnx} (${bytes.length} bytes)`,
        );
      } finally {
        model.dispose?.();
      }
    });
}
