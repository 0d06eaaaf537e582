/** CUDA kernels of the select family, registered under 'cuda' (see ../cuda-kernels.ts). */
export {};
