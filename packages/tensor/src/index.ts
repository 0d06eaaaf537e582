/**
 * @nl/tensor — tensors, reverse-mode autograd, nn modules and safetensors I/O.
 * (Being built: see the package README for what exists today.)
 */
export { info as backendInfo } from '@nl/native';
