/** SelfModifyingTitans fused native kernels (forward and backward); the reference is the token loop module. */
export {
  selfModForward,
  selfModBackward,
  selfModAutoBlock,
  selfModBlocks,
  selfModCkptSize,
  SELF_MOD_STATES,
  type SelfModOptions,
  type SelfModStates,
  type SelfModStateName,
} from './native.js';
