/**
 * Grad mode: whether ops record themselves on the autograd tape. `noGrad(fn)` turns recording
 * off for the duration of `fn` (nests; restored on throw). Backward runs with it off.
 */
let enabled = true;

/** True when ops record for autograd. */
export function isGradEnabled(): boolean {
  return enabled;
}

/** Runs `fn` with gradient recording off and returns its result. */
export function noGrad<T>(fn: () => T): T {
  const prev = enabled;
  enabled = false;
  try {
    return fn();
  } finally {
    enabled = prev;
  }
}

/** Runs `fn` with gradient recording on (inside a noGrad, for example). */
export function enableGrad<T>(fn: () => T): T {
  const prev = enabled;
  enabled = true;
  try {
    return fn();
  } finally {
    enabled = prev;
  }
}
