/** CUDA kernels of the nn family, registered under 'cuda' (see ../cuda-kernels.ts). */
export {};
