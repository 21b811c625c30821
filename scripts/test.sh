#!/usr/bin/env bash
# The whole test suite from a fresh Debian 12 machine: dependencies, build,
# every lit and unit test through ctest, then the importer fuzzer for a
# bounded number of inputs (scripts/fuzz.sh; LOWBIT_FUZZ_RUNS=0 skips it).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
ctest --test-dir build --output-on-failure -j2
if [ "${LOWBIT_FUZZ_RUNS:-1}" != 0 ]; then
  bash scripts/fuzz.sh
fi
