/**
 * `nl-train export --checkpoint-dir <dir> --onnx <file> [--step] [--max-len N]`: writes the
 * checkpoint's model as an ONNX graph (@nl/hope's exportTransformerOnnx / exportDeltaNetOnnx /
 * exportTitansOnnx): the full-sequence forward, or with --step the one-token decode step with the
 * recurrent state (KV cache; conv caches and memory state) as inputs and outputs. Transformer,
 * DeltaNet, Titans and Hope checkpoints, both graphs (Hope's step: the whole fast state — memories,
 * conv caches, CMS Δ — explicit; start values from @nl/hope's hopeOnnxState); other kinds stop
 * with an error naming what exists (exit 1). --max-len applies to the transformer (RoPE tables) only.
 */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import {
  DeltaNetLM,
  exportDeltaNetOnnx,
  exportHopeOnnx,
  exportTitansOnnx,
  exportTransformerOnnx,
  HopeLM,
  loadCheckpoint,
  TitansLM,
  TransformerLM,
} from '@nl/hope';
import { ConfigError } from './config.js';

export function registerExport(program: Command, print: (s: string) => void): void {
  program
    .command('export')
    .description('write a checkpoint as an ONNX graph (transformer, deltanet, titans, hope)')
    .requiredOption('--checkpoint-dir <dir>', 'checkpoint folder to export')
    .requiredOption('--onnx <file>', 'ONNX file to write')
    .option(
      '--step',
      'the one-token decode step with the recurrent state (KV cache / memory) as inputs and outputs, instead of the full-sequence forward',
    )
    .option('--max-len <n>', 'positions the graph accepts (RoPE tables)', '4096')
    .action((opts: { checkpointDir: string; onnx: string; step?: boolean; maxLen: string }) => {
      const maxLen = Number(opts.maxLen);
      if (!Number.isInteger(maxLen) || maxLen < 1)
        throw new ConfigError(`--max-len must be a positive integer, got ${opts.maxLen}`);
      const { model } = loadCheckpoint(opts.checkpointDir);
      try {
        const mode = opts.step ? 'step' : 'forward';
        const kind = (model.config as { kind: string }).kind;
        let bytes: Uint8Array;
        if (model instanceof TransformerLM) bytes = exportTransformerOnnx(model, { mode, maxLen });
        else if (model instanceof DeltaNetLM) bytes = exportDeltaNetOnnx(model, { mode });
        else if (model instanceof TitansLM) bytes = exportTitansOnnx(model, { mode });
        else if (model instanceof HopeLM) bytes = exportHopeOnnx(model, { mode });
        else
          throw new Error(
            `export: no ONNX ${mode} graph for ${kind} models yet (transformer, deltanet, titans, hope: ` +
              `forward and --step); ${opts.checkpointDir} holds a ${kind} model`,
          );
        writeFileSync(opts.onnx, bytes);
        print(
          `nl-train export: ${mode} graph of ${opts.checkpointDir} -> ${opts.onnx} (${bytes.length} bytes)`,
        );
      } finally {
        model.dispose?.();
      }
    });
}
