/**
 * The shifting domains of the continual-learning family: State of the Union addresses in three
 * eras, oldest first, then Moby-Dick. Each domain is split by document with the corpus split's
 * rule (document i of the domain is held out iff i mod 10 = 9), so held-out text is never trained
 * on. Training draws random windows of the training bytes; scoring uses fixed windows of the
 * held-out bytes.
 */
import { DOCUMENT_SEPARATOR, loadMobyDick, loadSotu, type CorpusDocument, type Rng } from '@nl/hope';

/** One domain: its name and its bytes on each side of the split. */
export interface Domain {
  name: string;
  train: Uint8Array;
  heldOut: Uint8Array;
}

/** The SOTU eras (first and last year, inclusive): before the Civil War's end, to 1945, after. */
export const SOTU_ERAS: ReadonlyArray<readonly [number, number]> = [
  [1790, 1865],
  [1866, 1945],
  [1946, 2021],
];

const encoder = new TextEncoder();

function splitDomain(name: string, docs: CorpusDocument[]): Domain {
  const side = (held: boolean) =>
    encoder.encode(
      docs
        .filter((_, i) => (i % 10 === 9) === held)
        .map((d) => d.text)
        .join(DOCUMENT_SEPARATOR),
    );
  return { name, train: side(false), heldOut: side(true) };
}

let cached: Domain[] | null = null;

/** SOTU 1790–1865, SOTU 1866–1945, SOTU 1946–2021, Moby-Dick (read once per process). */
export function continualDomains(): Domain[] {
  if (cached === null) {
    const sotu = loadSotu();
    const year = (d: CorpusDocument) => Number(d.name.slice(0, 4)); // names are "<year> <president>"
    cached = [
      ...SOTU_ERAS.map(([lo, hi]) =>
        splitDomain(
          `SOTU ${lo}-${hi}`,
          sotu.filter((d) => year(d) >= lo && year(d) <= hi),
        ),
      ),
      splitDomain('Moby-Dick', loadMobyDick()),
    ];
  }
  return cached;
}

/** `n` random windows of `len` bytes of `bytes`, as one Int32 [n·len] array. */
export function randomWindows(rng: Rng, bytes: Uint8Array, n: number, len: number): Int32Array {
  if (bytes.length < len)
    throw new RangeError(`randomWindows: ${bytes.length} bytes are fewer than a window of ${len}`);
  const out = new Int32Array(n * len);
  for (let b = 0; b < n; b++) {
    const at = rng.int(bytes.length - len + 1);
    for (let i = 0; i < len; i++) out[b * len + i] = bytes[at + i]!;
  }
  return out;
}

/** `n` windows of `len` bytes spread evenly over `bytes` (the fixed scoring set). */
export function evenWindows(bytes: Uint8Array, n: number, len: number): Int32Array {
  if (bytes.length < len)
    throw new RangeError(`evenWindows: ${bytes.length} bytes are fewer than a window of ${len}`);
  const out = new Int32Array(n * len);
  const span = bytes.length - len;
  for (let b = 0; b < n; b++) {
    const at = n === 1 ? 0 : Math.floor((b * span) / (n - 1));
    for (let i = 0; i < len; i++) out[b * len + i] = bytes[at + i]!;
  }
  return out;
}
