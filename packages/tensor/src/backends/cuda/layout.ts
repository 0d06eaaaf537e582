/** CUDA kernels of the layout family, registered under 'cuda' (see ../cuda-kernels.ts). */
export {};
