/**
 * Exact byte encodings of a model's weights and an optimizer's state, as stored in a checkpoint
 * folder (folder.ts):
 *
 *   model.safetensors      every tensor of `module.stateDict()` (parameters and buffers), by name
 *   optimizer.json         `{ format, name, paramGroups, scalars }`: the optimizer's class name,
 *                          its group options and per-parameter scalar state (e.g. Adam's step)
 *   optimizer.safetensors  its per-parameter arrays as 1-D tensors `state.<paramIndex>.<key>`
 *
 * Both round trips are bit-exact (raw IEEE bytes, no text formatting of floats), so training
 * resumed from a checkpoint continues exactly like the uninterrupted run. Decoding checks every
 * name and shape before anything is written and throws a {@link CheckpointError} naming the file.
 */
import { flattenStateDict, unflattenStateDict, type Optimizer } from '@nl/optim';
import { io, type nn, type Tensor } from '@nl/tensor';
import { CheckpointError } from './folder.js';

/** optimizer.json format tag. */
export const OPTIMIZER_FORMAT = 'nl-optim/1';

/** File name of the optimizer's arrays among a checkpoint's extra files. */
export const OPTIMIZER_TENSORS_FILE = 'optimizer.safetensors';

/** Any @nl/optim optimizer (the options type does not matter for (de)serialisation). */
export type AnyOptimizer = Optimizer<any>;

/** An optimizer's state as checkpoint files. */
export interface EncodedOptimizer {
  /** Contents of optimizer.json. */
  json: Record<string, unknown>;
  /** Bytes of optimizer.safetensors. */
  tensors: Uint8Array;
}

const msg = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** The module's parameters and buffers as safetensors bytes. */
export function encodeWeights(module: nn.Module): Uint8Array {
  return io.save(null, module.stateDict());
}

/**
 * Copy weights written by {@link encodeWeights} into `module` (strict: same names and shapes).
 * Nothing is written unless every tensor fits.
 * @param where - the file's name for error messages
 * @throws CheckpointError for unreadable bytes or a name/shape mismatch
 */
export function loadWeights(module: nn.Module, bytes: Uint8Array, where = 'model.safetensors'): void {
  let tensors: Record<string, Tensor>;
  try {
    // weights are never NaN/Inf in a checkpoint we wrote: refuse them here, naming the tensor,
    // rather than let them fail later with an unrelated message
    tensors = io.load(bytes, { finite: true });
  } catch (e) {
    throw new CheckpointError(`checkpoint: ${where} is not loadable: ${msg(e)}`);
  }
  try {
    // encodeWeights stores every tensor in the module's own dtype, so a different dtype means a
    // mislabelled or foreign file (e.g. float bytes labelled I32), not a conversion to make
    const own = module.stateDict();
    for (const [name, t] of Object.entries(tensors)) {
      const mine = Object.hasOwn(own, name) ? own[name] : undefined;
      if (mine !== undefined && mine.dtype !== t.dtype)
        throw new Error(`'${name}' is stored as ${t.dtype} but the model's tensor is ${mine.dtype}`);
    }
    module.loadStateDict(tensors);
  } catch (e) {
    throw new CheckpointError(`checkpoint: ${where} does not fit the model: ${msg(e)}`);
  } finally {
    for (const t of Object.values(tensors)) t.dispose();
  }
}

/** An optimizer's full state (exact) as optimizer.json + optimizer.safetensors. */
export function encodeOptimizer(opt: AnyOptimizer): EncodedOptimizer {
  const flat = flattenStateDict(opt.stateDict());
  const records: Record<string, io.SafetensorsRecord> = {};
  for (const [name, a] of Object.entries(flat.tensors)) {
    records[name] = { dtype: a instanceof Float64Array ? 'F64' : 'F32', shape: [a.length], data: a };
  }
  const meta = JSON.parse(flat.metadata) as Record<string, unknown>;
  return {
    json: { format: OPTIMIZER_FORMAT, name: opt.name, ...meta },
    tensors: io.encodeSafetensors(records),
  };
}

/**
 * Restore state written by {@link encodeOptimizer} into `opt`, which must be the same optimizer
 * class over the same parameters (same groups and sizes). State arrays keep their own sizes and
 * dtypes (M3 keeps float64 moments of float32 weights; DMGD stores its memory MLP), so only their
 * parameter index is checked here.
 * @throws CheckpointError naming what does not match; `opt` is unchanged then
 */
export function loadOptimizer(opt: AnyOptimizer, json: Record<string, unknown>, tensors: Uint8Array): void {
  if (json.format !== OPTIMIZER_FORMAT)
    throw new CheckpointError(
      `checkpoint: optimizer.json is not an ${OPTIMIZER_FORMAT} optimizer state (format ${JSON.stringify(json.format)})`,
    );
  if (json.name !== opt.name)
    throw new CheckpointError(
      `checkpoint: optimizer.json holds ${String(json.name)} state, but the optimizer is ${opt.name}`,
    );
  let records: Record<string, io.SafetensorsRecord>;
  try {
    records = io.decodeSafetensors(tensors).tensors;
  } catch (e) {
    throw new CheckpointError(`checkpoint: ${OPTIMIZER_TENSORS_FILE} is not readable: ${msg(e)}`);
  }
  const params = opt.paramGroups.flatMap((g) => g.params);
  const arrays: Record<string, Float32Array | Float64Array> = {};
  for (const [name, r] of Object.entries(records)) {
    if (!(r.data instanceof Float32Array || r.data instanceof Float64Array))
      throw new CheckpointError(`checkpoint: ${OPTIMIZER_TENSORS_FILE}: ${name} has dtype ${r.dtype}`);
    const m = /^state\.(\d+)\./.exec(name);
    const p = m ? params[Number(m[1])] : undefined;
    if (!p) throw new CheckpointError(`checkpoint: ${OPTIMIZER_TENSORS_FILE}: ${name} names no parameter`);
    arrays[name] = r.data;
  }
  const { paramGroups, scalars } = json;
  try {
    const sd = unflattenStateDict({ tensors: arrays, metadata: JSON.stringify({ paramGroups, scalars }) });
    opt.loadStateDict(sd);
  } catch (e) {
    throw new CheckpointError(`checkpoint: optimizer state does not fit the optimizer: ${msg(e)}`);
  }
}
