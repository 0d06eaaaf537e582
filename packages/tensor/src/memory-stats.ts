/**
 * Process-wide counters behind `memory()`: live tracked tensors and the bytes of the storages
 * they use (each storage counted once, however many views share it).
 */
export const stats = { numTensors: 0, bytes: 0 };
