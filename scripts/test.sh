#!/usr/bin/env bash
# The whole test suite from a fresh Debian 12 machine: dependencies, build,
# every lit and unit test through ctest, then the importer fuzzer for a
# bounded number of inputs (scripts/fuzz.sh; LOWBIT_FUZZ_RUNS=0 skips it).
# LOWBIT_SANITIZE=1 runs the suite built with ASan and UBSan instead.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
if [ "${LOWBIT_SANITIZE:-0}" = 1 ]; then
  # The whole suite under ASan + UBSan (build-sanitize/); leaks are not
  # reported: MLIR's and protobuf's process-lifetime caches would drown them
  # (the fuzzers check leaks in the importer and the parsers). Debian's
  # LLVM is not instrumented, but its headers poison BumpPtrAllocator slabs
  # when the includer is: allow_user_poisoning=0 drops those annotations,
  # which would otherwise report libMLIR's own writes.
  ASAN_OPTIONS=detect_leaks=0:allow_user_poisoning=0 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build-sanitize --output-on-failure -j2
  exit 0
fi
ctest --test-dir build --output-on-failure -j2
if [ "${LOWBIT_FUZZ_RUNS:-1}" != 0 ]; then
  bash scripts/fuzz.sh
fi
