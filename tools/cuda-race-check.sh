#!/usr/bin/env bash
# Race check of every CUDA kernel without a GPU: runs every CUDA test file (each op family against
# its reference, on the emulated device) with NL_CUDA_EMU_ORDER=check, so the host emulator runs
# each kernel launch with its threads (and blocks) in forward, reverse and two shuffled orders
# (shuffle:1, shuffle:2) from the same device memory and fails the op — "order-dependent result
# (a race) in kernel <name>" — when any live buffer differs. Launches that made float atomic adds
# (scatterAdd / indexAdd, embedding backward) may differ to rounding only.
#   bash tools/cuda-race-check.sh                  # all CUDA test files
#   bash tools/cuda-race-check.sh packages/memory  # a subset (vitest filters)
#   NL_CUDA_EMU_ORDER=shuffle:7 bash tools/cuda-race-check.sh   # one other order for the whole run
set -uo pipefail
cd "$(dirname "$0")/.."
files=("$@")
if [ ${#files[@]} -eq 0 ]; then
  # not apps/trainer/test/device-cuda.test.ts: four models' training under the check outlasts its
  # 120 s test timeout here (no race reported before it); the ops it runs are in these files
  files=(native/test/cuda-*.test.ts packages/*/test/cuda-*.test.ts packages/tensor/test/devices-ops.test.ts)
fi
export NL_CUDA_EMU_ORDER="${NL_CUDA_EMU_ORDER:-check}" NL_CUDA_EMULATE=1
echo "NL_CUDA_EMU_ORDER=$NL_CUDA_EMU_ORDER: ${files[*]}"
exec npx vitest run "${files[@]}"
