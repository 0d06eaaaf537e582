/**
 * PyTorch peers (peers/*.py), measured in the same run as our rows: the script gets a JSON spec
 * (argv[1], or '-' and stdin when it is large) and prints one JSON object on its last stdout line;
 * exit code 3 with {"error"} when torch is missing. The interpreter is $NL_PYTHON, else `python3`
 * (Debian's python3-torch lives in /usr/bin/python3). Failures never throw: the result carries
 * `error`, which the rows print as their note, so every suite runs without Python.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** apps/bench/peers (this file sits one level below apps/bench both in src/ and bundled in dist/). */
export const PEERS_DIR = fileURLToPath(new URL('../peers/', import.meta.url));

/** What every peer reply may carry besides its results. */
export interface PeerReply {
  error?: string;
  torch?: string;
  device?: string;
  threads?: number;
  blas?: string;
}

/** The Python that runs the peers: $NL_PYTHON, else `python3` on PATH. */
export function peerPython(): string {
  return process.env.NL_PYTHON || 'python3';
}

/** Runs `peers/<script>` (a `script` with a '/' is a path from the cwd) on `spec`; never throws. */
export function runPeer<R extends object>(script: string, spec: unknown, timeoutMs = 900_000): R & PeerReply {
  const path = script.includes('/') ? resolve(script) : PEERS_DIR + script;
  const json = JSON.stringify(spec);
  const viaStdin = json.length > 60_000; // argv strings are capped at 128 KiB on Linux
  const python = peerPython();
  const r = spawnSync(python, [path, viaStdin ? '-' : json], {
    encoding: 'utf8',
    input: viaStdin ? json : undefined,
    timeout: timeoutMs,
    maxBuffer: 256 * 2 ** 20,
  });
  const last = (r.stdout ?? '').trim().split('\n').pop();
  if (last) {
    try {
      return JSON.parse(last) as R & PeerReply; // a reply wins over a pipe error (it read no stdin)
    } catch {
      // not JSON: reported below with stderr
    }
  }
  if (r.error) return { error: `${python} not runnable: ${r.error.message}` } as R & PeerReply;
  const tail = (r.stderr || r.stdout || '').trim().slice(-300);
  return { error: `torch peer failed (${python}, exit ${r.status}): ${tail}` } as R & PeerReply;
}

/** The note of peer rows: the skip reason, or which torch ran them. */
export function peerNote(p: PeerReply): string {
  if (p.error) return `skipped: ${p.error} (install python3-torch, or set NL_PYTHON)`;
  return `torch ${p.torch} ${p.device ?? ''}${p.threads ? ` ${p.threads} threads` : ''}${p.blas ? `, BLAS ${p.blas}` : ''}`;
}

/** "ours / torch = 1.23x" (the ratio the peer rows print), or '' without both rates. */
export function oursOverTorch(ours: number | null, torch: number | null | undefined): string {
  return ours && torch ? `ours / torch = ${(ours / torch).toFixed(2)}x` : '';
}
