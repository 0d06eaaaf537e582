/**
 * `Dropout`: inverted dropout while training, identity in eval mode.
 */
import type { Tensor } from '../core.js';
import { dropout } from '../functional/dropout.js';
import { Module } from '../module.js';

export class Dropout extends Module {
  /** @param p - drop probability in [0, 1) (default 0.5) */
  constructor(readonly p = 0.5) {
    super();
    if (!(p >= 0 && p < 1)) throw new RangeError(`Dropout: p must be in [0, 1), got ${p}`);
  }

  /** x [...] -> [...]; identity when `training` is false */
  forward(x: Tensor): Tensor {
    return dropout(x, { p: this.p, training: this.training });
  }
}
