#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine: install dependencies, build,
# compile the bundled digits CNN for x86 (C + runtime kernels + weight
# package), run it on eight real handwritten digits, check the result
# against PyTorch's logits, and time it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh >/dev/null
out=build/example
rm -rf "$out" && mkdir -p "$out"
echo "== lowbit compile examples/digits/digits_cnn.onnx --target x86 --input-shape image=8x1x8x8 -o $out/digits"
build/bin/lowbit compile examples/digits/digits_cnn.onnx --target x86 \
  --input-shape image=8x1x8x8 -o "$out/digits"
echo "== lowbit run $out/digits --input image=examples/digits/digits_8.npy -d $out/outputs"
build/bin/lowbit run "$out/digits" --input image=examples/digits/digits_8.npy \
  -d "$out/outputs"
python3 - "$out/outputs/logits.npy" <<'PY'
import sys
import numpy as np
got = np.load(sys.argv[1])
ref = np.load("examples/digits/logits_8_pytorch.npy")
labels = np.load("examples/digits/labels_8.npy")
rel = np.linalg.norm(got - ref) / np.linalg.norm(ref)
print("   predicted:", got.argmax(1).tolist())
print("   labels:   ", labels.tolist())
print("   relative L2 difference to PyTorch's logits: %.2e" % rel)
sys.exit(0 if rel < 1e-4 and (got.argmax(1) == labels).all() else 1)
PY
echo "== lowbit bench $out/digits --iters 200"
build/bin/lowbit bench "$out/digits" --iters 200
