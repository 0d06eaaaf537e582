/** @nl/hope generation: sampling and the streaming generation loop. */
export {
  argmax,
  checkSampling,
  sampleToken,
  samplingProbs,
  type Sampling,
  type SamplingOptions,
} from './sampling.js';
export {
  generate,
  generateStream,
  generateTokens,
  type GenerateOptions,
  type GenerateResult,
  type GeneratedToken,
  type TextCodec,
} from './generate.js';
