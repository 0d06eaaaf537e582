#!/usr/bin/env bash
# Runs ON the GPU machine (device tool), in the repo root, with .gpu/ and native/dist carried
# (made by tools/gpu/pack.sh). One prepared command, inside 8 minutes:
#   1. unpack Node; build @nl/native with CUDA forced on (plain cmake, no downloads)
#   2. the CUDA sample-kernel check (cuda-check.mjs)
#   3. the CUDA test suite on the GPU: every bundled test file (.gpu/tests), with NL_CUDA_REAL=1
#      (the runtime tests on cuda:0) -> cuda-tests.json + a log per file
#   4. the runtime/GEMM tests again with NL_CUBLAS_DISABLE=1 (our tiled kernel on the GPU)
#   5. compute-sanitizer racecheck on the runtime tests, when the image has it
#   6. the CUDA bench beside torch on the same GPU -> bench-cuda.json / bench-cuda.txt
#   7. the emulator's race check (NL_CUDA_EMU_ORDER=check, GPU hidden) over the same bundles, many
#      files at once on the machine's cores -> race-check/cuda-tests.json
# Output files land in $OUT when set (device tool), else in .gpu/out. A failed step does not stop
# the later ones; the exit status is 1 when any step failed.
set -uo pipefail
out="${OUT:-.gpu/out}"
mkdir -p "$out" /tmp/nl-node/bin
status=0
step() { echo; echo "== $1 ($SECONDS s)"; }
python3 -c "import lzma, shutil; shutil.copyfileobj(lzma.open('.gpu/node.xz'), open('/tmp/nl-node/bin/node', 'wb'))"
chmod +x /tmp/nl-node/bin/node
export PATH="/tmp/nl-node/bin:$PATH"
echo "node $(node --version) | $(nvcc --version | tail -1) | $(cmake --version | head -1)"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true

step "build"
gen=()
command -v ninja >/dev/null && gen=(-G Ninja)
cmake -S native -B native/build "${gen[@]}" -DCMAKE_BUILD_TYPE=Release -DNL_CUDA=ON \
  -DNL_CUDA_ARCHS="${NL_CUDA_ARCHS:-90}" -DCMAKE_JS_INC="$PWD/.gpu/include" \
  -DCMAKE_LIBRARY_OUTPUT_DIRECTORY="$PWD/native/build/Release" >"$out/cmake-configure.log" 2>&1 ||
  { cat "$out/cmake-configure.log"; exit 1; }
cmake --build native/build -j "$(nproc)" >"$out/cmake-build.log" 2>&1 || { tail -50 "$out/cmake-build.log"; exit 1; }
echo "built $(ls -la native/build/Release/nl_native.node)"

step "sample kernel"
timeout 60 node tools/gpu/cuda-check.mjs >"$out/cuda-check.json" || status=1
tail -c 600 "$out/cuda-check.json"

step "CUDA test suite on the GPU"
NL_CUDA_REAL=1 NL_TEST_JOBS=4 timeout 300 node tools/gpu/run-tests.mjs || status=1

step "runtime + tiled GEMM with cuBLAS disabled"
NL_CUDA_REAL=1 NL_CUBLAS_DISABLE=1 timeout 60 node .gpu/tests/native-test-cuda-runtime.mjs >"$out/tiled-gemm.log" 2>&1 || status=1
grep REPORT "$out/tiled-gemm.log" || tail -20 "$out/tiled-gemm.log"

step "compute-sanitizer racecheck (runtime tests)"
if command -v compute-sanitizer >/dev/null; then
  NL_CUDA_REAL=1 NL_CUBLAS_DISABLE=1 timeout 120 compute-sanitizer --tool racecheck --print-limit 20 \
    node .gpu/tests/native-test-cuda-runtime.mjs >"$out/racecheck.log" 2>&1 || status=1
  grep -E "RACECHECK SUMMARY|ERROR SUMMARY|REPORT" "$out/racecheck.log" | head -5
else
  echo "compute-sanitizer not found; skipped"
fi

step "CUDA bench"
NL_TORCH_PEER=apps/bench/peers/torch_cuda.py OUT="$out" timeout 240 node .gpu/bench-cuda.mjs || status=1

step "race check on the emulated device (every launch in 4 thread orders)"
# (not the trainer's end-to-end file: four models' training under the check outlasts the step; the
# memory / hope ops it runs are in the package files)
CUDA_VISIBLE_DEVICES= NL_CUDA_EMU_ORDER=check NL_TEST_JOBS="$(nproc)" NL_TEST_SKIP=apps-trainer OUT="$out/race-check" \
  timeout 150 node tools/gpu/run-tests.mjs || status=1
echo "done in $SECONDS s, status $status"
exit $status
