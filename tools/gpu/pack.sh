#!/usr/bin/env bash
# Pack what a bare GPU machine needs to build and test @nl/native into .gpu/ (git-ignored):
#   .gpu/node.xz     this machine's node binary, xz-compressed (~24 MB; the GPU machine has no Node)
#   .gpu/include/    Node-API C headers (node-api-headers) + node-addon-api C++ headers
# and builds native/dist (the JS loader) here. The native sources travel as tracked files.
# Then, with the device tool: carry [".gpu", "native/dist"] and run `bash tools/gpu/remote.sh`.
# See tools/gpu/README.md.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
out="$root/.gpu"
mkdir -p "$out/include"

node_bin="$(readlink -f "$(command -v node)")"
if [[ ! -f "$out/node.xz" || "$node_bin" -nt "$out/node.xz" ]]; then
  echo "pack: compressing $node_bin ($(node --version))"
  xz -T2 -6 -c "$node_bin" >"$out/node.xz.tmp" && mv "$out/node.xz.tmp" "$out/node.xz"
fi

headers="$(cd native && node -p "require('path').dirname(require.resolve('node-api-headers/package.json'))")"
addon_api="$(cd native && node -p "require('path').resolve(require('node-addon-api').include_dir)")"
cp -r "$headers/include/." "$out/include/"
cp "$addon_api"/*.h "$out/include/"

pnpm --filter @nl/native build >/dev/null # tsup: native/dist (the loader the check script imports)
node tools/gpu/bundle.mjs                  # .gpu/tests/*.mjs (the CUDA suite) and .gpu/bench-cuda.mjs
du -sh "$out" native/dist | sed 's/^/pack: /'
