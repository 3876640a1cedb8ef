#!/bin/bash
# Prepares .gpu-kit/ (ignored, ~35 MB) for ONE device call that measures issue #6's GPU targets:
#   1. $SHARED_DIR/gpu/make-kit.sh (default ../shared: the workspace's GPU kit, outside this
#      repository, not a document): node, Dawn (dawn.node) and the Vulkan loader packages;
#   2. the benchmark bundled into one file (.gpu-kit/bench.bundle.mjs; tfjs inside, `webgpu` outside)
#      with the `webgpu` package's JS beside it, so the GPU machine needs no node_modules;
#   3. the PyTorch peer (bench_torch.py), to run in the same call.
# Then, with the device tool: run(command="bash .gpu-kit/on-device.sh bash scripts/gpu/device-bench.sh",
#   carry=[".gpu-kit"], timeout_s=480). Results come back under $OUT (see device-bench.sh).
set -euo pipefail
shared=${SHARED_DIR:-../shared}
[ -f "$shared/gpu/make-kit.sh" ] || { echo "make-kit: $shared/gpu/make-kit.sh not found (set SHARED_DIR)" >&2; exit 1; }
bash "$shared/gpu/make-kit.sh"
kit=.gpu-kit
node scripts/run-ts.mjs --bundle-to "$kit/bench.bundle.mjs" scripts/bench.ts
mkdir -p "$kit/node_modules/webgpu"
rm -rf "$kit/node_modules/webgpu/dist"   # a Dawn unpacked by a rehearsal here: device-bench.sh unpacks it there
cp node_modules/webgpu/package.json node_modules/webgpu/index.js "$kit/node_modules/webgpu/"
cp "$shared/peers/bench_torch.py" "$kit/"
du -sh "$kit"
