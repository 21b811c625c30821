#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine: install dependencies, build, then
# import the bundled digits CNN and run it on eight real handwritten digits
# with the reference interpreter, checking it against PyTorch's logits.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh >/dev/null
out=build/example
mkdir -p "$out"
echo "== lowbit import examples/digits/digits_cnn.onnx -o $out/digits.mlir"
build/bin/lowbit import examples/digits/digits_cnn.onnx -o "$out/digits.mlir"
grep -c "lowbit.onnx_node" "$out/digits.mlir" | xargs printf "   %s ONNX nodes imported\n"
echo "== lowbit run examples/digits/digits_cnn.onnx --input image=examples/digits/digits_8.npy -d $out"
build/bin/lowbit run examples/digits/digits_cnn.onnx \
  --input image=examples/digits/digits_8.npy -d "$out"
python3 - "$out/logits.npy" <<'PY'
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
