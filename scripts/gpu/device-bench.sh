#!/bin/bash
# Runs ON the GPU machine (through .gpu-kit/on-device.sh, which unpacks node and Dawn and points
# Vulkan at the NVIDIA driver): the issue #6 table in one call, every file written under $OUT.
#   tfjs-check.jsonl  losses with tfjs's kernels vs the lab's on the real GPU (must be ≤ 1e-3)
#   tfjs-fast.jsonl   the lab's kernels: mlp, conv4, resnet8 x plain, combined at batch 128
#   tfjs-stock.jsonl  tfjs's own kernels, same cases (the "old" column)
#   tfjs-top.jsonl    the slowest kernels of a conv4 step (what to fix next)
#   torch.jsonl       the PyTorch peer (CUDA eager) in the same call
# Here, on SwiftShader, `QUICK=1 VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json
# XDG_RUNTIME_DIR=$(mktemp -d) OUT=/tmp/gpu-out bash scripts/gpu/device-bench.sh` runs it tiny.
set -u
kit=.gpu-kit
OUT=${OUT:?set OUT to a folder for the results}
mkdir -p "$OUT" "$kit/node_modules/webgpu/dist/linux-x64"
dawn="$kit/node_modules/webgpu/dist/linux-x64/dawn.node"
[ -s "$dawn" ] || xz -dc "$kit/dawn.node.xz" > "$dawn"
if [ "${QUICK:-0}" = 1 ]; then size=(--batch 8 --width 0.125); steps=(--steps 2 --warmup 1); torch=(cpu 8 2)
else size=(--batch 128); steps=(--steps 20 --warmup 3); torch=(cuda 128 30); fi
bench() { node "$kit/bench.bundle.mjs" --backend webgpu "${size[@]}" "$@"; }
status=0
{ nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null; node --version; } > "$OUT/machine.txt"
date -u +%FT%TZ >> "$OUT/machine.txt"
echo "== check"; bench --net mlp,conv4 --stage plain,combined --steps 1 --warmup 0 --check > "$OUT/tfjs-check.jsonl" 2> "$OUT/tfjs-check.err" || status=1
echo "== fast"; bench --net mlp,conv4,resnet8 --stage plain,combined "${steps[@]}" > "$OUT/tfjs-fast.jsonl" 2> "$OUT/tfjs-fast.err" || status=1
echo "== stock"; bench --net mlp,conv4,resnet8 --stage plain,combined --steps 5 --warmup 2 --stock > "$OUT/tfjs-stock.jsonl" 2> "$OUT/tfjs-stock.err" || status=1
echo "== top"; bench --net conv4 --stage plain,combined --steps 2 --warmup 2 --top 15 > "$OUT/tfjs-top.jsonl" 2> "$OUT/tfjs-top.err" || status=1
# the first Python that has PyTorch
py=""
for candidate in python3 /usr/bin/python3 /opt/conda/bin/python python; do
  if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import torch' 2>/dev/null; then py=$candidate; break; fi
done
if [ -n "$py" ]; then
  echo "== torch ($py)"; "$py" "$kit/bench_torch.py" "${torch[@]}" > "$OUT/torch.jsonl" 2> "$OUT/torch.err" || status=1
else
  echo "no Python with PyTorch found" | tee "$OUT/torch.err"; status=1
fi
tail -n +1 "$OUT"/*.jsonl
exit $status
