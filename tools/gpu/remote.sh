#!/usr/bin/env bash
# Runs ON the GPU machine (device tool), in the repo root, with .gpu/ and native/dist carried:
# unpacks Node, builds @nl/native with CUDA forced on (plain cmake, no cmake-js, no downloads),
# then runs tools/gpu/cuda-check.mjs (the CUDA sample kernel vs its CPU/JS references).
# Output files land in $OUT when set (device tool), else in .gpu/out.
set -euo pipefail
out="${OUT:-.gpu/out}"
mkdir -p "$out" /tmp/nl-node/bin
python3 -c "import lzma, shutil; shutil.copyfileobj(lzma.open('.gpu/node.xz'), open('/tmp/nl-node/bin/node', 'wb'))"
chmod +x /tmp/nl-node/bin/node
export PATH="/tmp/nl-node/bin:$PATH"
echo "node $(node --version) | $(nvcc --version | tail -1) | $(cmake --version | head -1)"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true

gen=()
command -v ninja >/dev/null && gen=(-G Ninja)
cmake -S native -B native/build "${gen[@]}" -DCMAKE_BUILD_TYPE=Release -DNL_CUDA=ON \
  -DNL_CUDA_ARCHS="${NL_CUDA_ARCHS:-90}" -DCMAKE_JS_INC="$PWD/.gpu/include" \
  -DCMAKE_LIBRARY_OUTPUT_DIRECTORY="$PWD/native/build/Release" >"$out/cmake-configure.log" 2>&1 ||
  { cat "$out/cmake-configure.log"; exit 1; }
cmake --build native/build -j "$(nproc)" >"$out/cmake-build.log" 2>&1 || { tail -50 "$out/cmake-build.log"; exit 1; }
echo "built $(ls -la native/build/Release/nl_native.node)"
node tools/gpu/cuda-check.mjs | tee "$out/cuda-check.json"
