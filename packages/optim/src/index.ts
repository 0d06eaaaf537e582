/**
 * @nl/optim — optimizers behind one swappable contract (see README.md): SGD, Adam, AdamW, Muon,
 * DeltaMomentum, PreconditionedMomentum, DMGD, M3, each with its pure update function; schedules,
 * gradient clipping, and the ParamLike adapter for plain typed arrays. @nl/tensor Tensor
 * parameters are stepped on their device by the `optim.*` kernels of the tensor kernel registry
 * (signatures in kernels/types.ts, CPU versions in kernels/*.ts); plain arrays take the host path.
 */
export * from './param.js';
export * from './serialize.js';
export * from './optimizer.js';
export * from './sgd.js';
export * from './adam.js';
export * from './newton_schulz.js';
export * from './muon.js';
export * from './delta_momentum.js';
export * from './preconditioned.js';
export * from './dmgd_memory.js';
export * from './dmgd.js';
export * from './m3.js';
export * from './schedule.js';
export * from './clip.js';
export * from './toy.js';
export * from './state_flat.js';
export * from './device.js';
export * from './newton_schulz_tensor.js';
export * from './kernels/types.js';
// the 'cuda' optimizer kernels register themselves (the CPU ones come with each optimizer)
import './kernels/cuda.js';
