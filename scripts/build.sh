#!/usr/bin/env bash
# Configures and builds lowbit into build/ with Ninja; compiler caching with
# ccache in a directory outside the repository.
set -euo pipefail
cd "$(dirname "$0")/.."
export CCACHE_DIR="${CCACHE_DIR:-/var/cache/lowbit-ccache}"
mkdir -p "$CCACHE_DIR" 2>/dev/null || export CCACHE_DIR="$HOME/.cache/lowbit-ccache"
# LOWBIT_SANITIZE=1 builds build-sanitize/ with ASan and UBSan instead.
dir=build
flags=()
if [ "${LOWBIT_SANITIZE:-0}" = 1 ]; then
  dir=build-sanitize
  flags=(-DLOWBIT_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo)
fi
if [ ! -f "$dir/build.ninja" ]; then
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
    -DLOWBIT_WERROR=ON "${flags[@]}"
fi
cmake --build "$dir"
