#!/usr/bin/env bash
# Builds lowbit's libFuzzer targets with clang-22 (-fsanitize=fuzzer,address)
# in build-fuzz/ and runs each from a seed corpus of real inputs for a
# bounded number of inputs with a fixed seed, so a CI run is reproducible:
#   importer: binary ONNX models through the importer and the frontend
#   tensor:   .npy and ONNX TensorProto files
#   package:  weight packages of a compiled model (the digits CNN, compiled
#             with build/bin/lowbit) through the verifier and session open
# LOWBIT_FUZZ_RUNS inputs each (default 50000), capped at LOWBIT_FUZZ_SECONDS
# (default 100) per target. Exits non-zero on any crash, leak, timeout or
# sanitizer report; the input is printed and kept in build-fuzz/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${LOWBIT_FUZZ_SECONDS:-100}"
runs="${LOWBIT_FUZZ_RUNS:-50000}"
seed="${LOWBIT_FUZZ_SEED:-1}"
export CCACHE_DIR="${CCACHE_DIR:-/var/cache/lowbit-ccache}"
mkdir -p "$CCACHE_DIR" 2>/dev/null || export CCACHE_DIR="$HOME/.cache/lowbit-ccache"
if [ ! -f build-fuzz/build.ninja ]; then
  rm -rf build-fuzz  # a half-configured folder (e.g. no clang then) is useless
  cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
    -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
    -DLOWBIT_BUILD_FUZZERS=ON >/dev/null
fi
cmake --build build-fuzz --target lowbit-importer-fuzzer lowbit-tensor-fuzzer \
  lowbit-package-fuzzer

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Runs fuzzer $1 over a scratch copy of corpus $2 (new inputs must not change
# the next run); extra libFuzzer flags follow.
fuzz() {
  local target=$1 corpus=$2
  shift 2
  rm -rf "$work/corpus" && mkdir -p "$work/corpus"
  cp "$corpus"/* "$work/corpus"/
  echo "fuzzing $target: $runs inputs, seed $seed, at most ${seconds}s"
  ASAN_OPTIONS=detect_leaks=1 build-fuzz/bin/lowbit-$target-fuzzer \
    "$work/corpus" -seed="$seed" -runs="$runs" -max_total_time="$seconds" \
    -timeout=20 -rss_limit_mb=4096 -print_final_stats=1 \
    -artifact_prefix=build-fuzz/$target- "$@" 2>&1 | tail -n 12
  echo "fuzz $target: no crash in $runs inputs"
}

corpus=build-fuzz/corpus
mkdir -p "$corpus"
cp examples/digits/digits_cnn.onnx "$corpus/" 2>/dev/null || true
# Small real models from the ONNX backend tests as extra seeds.
if [ -d /usr/share/libonnx-testdata/data/node ]; then
  i=0
  for m in /usr/share/libonnx-testdata/data/node/test_{conv,gemm,matmul,add,relu,softmax,reshape,gather,slice,concat,resize,quantizelinear}*/model.onnx; do
    [ -f "$m" ] || continue
    cp "$m" "$corpus/seed_$i.onnx"
    i=$((i + 1))
  done
fi
fuzz importer "$corpus" -max_len=200000

# Tensors: the first byte picks the parser (0: .npy, 1: TensorProto).
tcorpus=build-fuzz/tensor-corpus
mkdir -p "$tcorpus"
i=0
for f in examples/digits/*.npy; do
  [ -f "$f" ] || continue
  { printf '\0'; cat "$f"; } > "$tcorpus/npy_$i"
  i=$((i + 1))
done
for f in /usr/share/libonnx-testdata/data/node/test_{conv,add,softmax,cast,gather}*/test_data_set_0/input_0.pb; do
  [ -f "$f" ] || continue
  { printf '\1'; cat "$f"; } > "$tcorpus/pb_$i"
  i=$((i + 1))
done
# A small PEFT adapter (.safetensors; first byte 2).
python3 - "$tcorpus/safetensors_0" <<'PY'
import json, struct, sys
blob = struct.pack("<6f", 0.5, -1, 2, 0.25, 3, -0.125)
head = json.dumps({"base_model.model.fc.lora_A.weight": {"dtype": "F32", "shape": [1, 4], "data_offsets": [0, 16]},
                   "base_model.model.fc.lora_B.weight": {"dtype": "F16", "shape": [2, 1], "data_offsets": [16, 20]},
                   "__metadata__": {"format": "pt"}}).encode()
open(sys.argv[1], "wb").write(b"\x02" + struct.pack("<Q", len(head)) + head + blob[:20])
PY
fuzz tensor "$tcorpus" -max_len=65536

# Packages of the digits CNN, compiled by the regular build.
if [ -x build/bin/lowbit ]; then
  model=build-fuzz/package-model
  build/bin/lowbit compile examples/digits/digits_cnn.onnx --name digits \
    --input-shape image=1x1x8x8 -o "$model" --force >/dev/null
  pcorpus=build-fuzz/package-corpus
  mkdir -p "$pcorpus"
  cp "$model/digits.lbpkg" "$pcorpus/"
  LOWBIT_FUZZ_MODEL="$model" LOWBIT_FUZZ_MODEL_NAME=digits \
    fuzz package "$pcorpus" -max_len=65536
else
  echo "fuzz package: skipped (no build/bin/lowbit to compile its model)"
fi
