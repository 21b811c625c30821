#!/usr/bin/env bash
# Configures and builds lowbit into build/ with Ninja; compiler caching with
# ccache in a directory outside the repository.
set -euo pipefail
cd "$(dirname "$0")/.."
export CCACHE_DIR="${CCACHE_DIR:-/var/cache/lowbit-ccache}"
mkdir -p "$CCACHE_DIR" 2>/dev/null || export CCACHE_DIR="$HOME/.cache/lowbit-ccache"
if [ ! -f build/build.ninja ]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
    -DLOWBIT_WERROR=ON
fi
cmake --build build
