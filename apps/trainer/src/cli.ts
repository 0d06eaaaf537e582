/**
 * nl-train (`pnpm train`): the executable. All behaviour is in main.ts; this only wires the
 * process (argv, streams, Ctrl-C) and sets the exit code.
 */
import { main } from './main.js';

process.exitCode = await main(process.argv, { handleSigint: true });
