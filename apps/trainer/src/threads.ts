/**
 * Applies the `threads` config key: a positive value resizes @nl/native's CPU thread pool before
 * any model is built; 0 leaves the addon's default (NL_NUM_THREADS, else all hardware threads).
 * The addon is imported lazily so that commands which never touch it do not load it.
 */

/**
 * Set the native thread pool size when `threads` > 0.
 * @returns the pool size now in effect, or undefined when left at the default
 */
export async function applyThreads(threads: number): Promise<number | undefined> {
  if (threads <= 0) return undefined;
  const native = await import('@nl/native');
  native.setNumThreads(threads);
  return native.numThreads();
}
