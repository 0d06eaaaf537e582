/**
 * Byte-level tokenizer: a token is one UTF-8 byte, so the vocabulary is exactly 256 ids and no
 * vocabulary file exists. `encode` gives the UTF-8 bytes of a string as Int32 ids; `decode` turns
 * ids back into text (invalid UTF-8, e.g. a sequence cut mid-character, decodes to U+FFFD as
 * `TextDecoder` does). `ByteStreamDecoder` decodes ids arriving one at a time during generation,
 * holding back a partial multi-byte character until it is complete.
 */

/** Number of token ids of the byte tokenizer (ids are 0..255). */
export const BYTE_VOCAB_SIZE = 256;

const encoder = new TextEncoder();

function checkIds(ids: ArrayLike<number>): Uint8Array {
  const bytes = new Uint8Array(ids.length);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (!Number.isInteger(id) || id < 0 || id >= BYTE_VOCAB_SIZE) {
      throw new RangeError(`byte tokenizer: id ${id} at position ${i} is outside [0, ${BYTE_VOCAB_SIZE})`);
    }
    bytes[i] = id;
  }
  return bytes;
}

/** The byte tokenizer. Stateless; one shared instance is exported as {@link byteTokenizer}. */
export class ByteTokenizer {
  /** Vocabulary size: 256. */
  readonly vocabSize = BYTE_VOCAB_SIZE;

  /**
   * Encode text as its UTF-8 bytes.
   * @returns ids, shape [numBytes], each in [0, 256)
   */
  encode(text: string): Int32Array {
    return Int32Array.from(encoder.encode(text));
  }

  /**
   * Decode ids (each in [0, 256)) as UTF-8; malformed sequences become U+FFFD.
   * @throws RangeError naming the first id outside [0, 256)
   */
  decode(ids: ArrayLike<number>): string {
    return new TextDecoder('utf-8').decode(checkIds(ids));
  }
}

/** Shared byte tokenizer instance. */
export const byteTokenizer = new ByteTokenizer();

/** Incremental decoder for ids produced one at a time (e.g. by sampling). */
export class ByteStreamDecoder {
  private readonly decoder = new TextDecoder('utf-8');

  /** Feed ids; returns the text completed so far (may be '' while a character is incomplete). */
  push(ids: ArrayLike<number>): string {
    return this.decoder.decode(checkIds(ids), { stream: true });
  }

  /** Flush: a dangling partial character becomes U+FFFD. */
  end(): string {
    return this.decoder.decode();
  }
}
