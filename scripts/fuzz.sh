#!/usr/bin/env bash
# Builds the ONNX importer fuzzer with clang-22 (-fsanitize=fuzzer,address)
# in build-fuzz/ and runs it from a seed corpus of real models for
# LOWBIT_FUZZ_RUNS inputs (default 50000) with a fixed seed, so a CI run is
# reproducible, capped at LOWBIT_FUZZ_SECONDS (default 100). Exits non-zero
# on any crash, leak, timeout or sanitizer report; the input is printed.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${LOWBIT_FUZZ_SECONDS:-100}"
runs="${LOWBIT_FUZZ_RUNS:-50000}"
seed="${LOWBIT_FUZZ_SEED:-1}"
export CCACHE_DIR="${CCACHE_DIR:-/var/cache/lowbit-ccache}"
mkdir -p "$CCACHE_DIR" 2>/dev/null || export CCACHE_DIR="$HOME/.cache/lowbit-ccache"
if [ ! -f build-fuzz/build.ninja ]; then
  cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
    -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
    -DLOWBIT_BUILD_FUZZERS=ON >/dev/null
fi
cmake --build build-fuzz --target lowbit-importer-fuzzer
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
echo "fuzzing the ONNX importer: $runs inputs, seed $seed, at most ${seconds}s"
# A scratch copy of the corpus: new inputs must not change the next run.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$corpus"/* "$work"/
ASAN_OPTIONS=detect_leaks=1 build-fuzz/bin/lowbit-importer-fuzzer "$work" \
  -seed="$seed" -runs="$runs" -max_total_time="$seconds" -timeout=20 \
  -rss_limit_mb=4096 -max_len=200000 -print_final_stats=1 \
  -artifact_prefix=build-fuzz/ 2>&1 | tail -n 25
echo "fuzz: no crash in $runs inputs"
