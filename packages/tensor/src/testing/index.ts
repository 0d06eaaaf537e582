/**
 * Testing helpers every @nl package uses: `assertClose` and `gradcheck`.
 */
export { assertClose, type CloseOptions, type Comparable } from './assert-close.js';
export { gradcheck, type GradcheckOptions, type GradcheckResult } from './gradcheck.js';
