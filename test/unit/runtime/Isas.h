//===- Isas.h - the kernel families this CPU can run -------------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// Every runtime kernel test runs once per family that `--cpu` can select on
// the machine running it (reference always; AVX2 and AVX-512 where present),
// so an AVX-512 machine also proves the AVX2 code.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_TEST_UNIT_RUNTIME_ISAS_H
#define LOWBIT_TEST_UNIT_RUNTIME_ISAS_H

#include "lowbit/abi.h"

#include <vector>

namespace lowbit_test {

struct Isa {
  const char *name;
  uint32_t bits;
};

inline std::vector<Isa> isas() {
  std::vector<Isa> out = {{"reference", LOWBIT_CPU_REFERENCE}};
  uint32_t cpu = lowbit_cpu_detect();
  if (cpu & LOWBIT_CPU_AVX2)
    out.push_back({"avx2", LOWBIT_CPU_AVX2});
  if (cpu & LOWBIT_CPU_AVX512)
    out.push_back({(cpu & LOWBIT_CPU_AVX512VNNI) ? "avx512-vnni" : "avx512",
                   cpu & (LOWBIT_CPU_AVX512 | LOWBIT_CPU_AVX512VNNI |
                          LOWBIT_CPU_AVX2)});
  return out;
}

} // namespace lowbit_test

#endif // LOWBIT_TEST_UNIT_RUNTIME_ISAS_H
