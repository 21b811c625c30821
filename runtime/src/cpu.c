// cpu.c - CPU feature detection.
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
#include "internal.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static uint64_t xgetbv0(void) {
  uint32_t eax, edx;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return ((uint64_t)edx << 32) | eax;
}

uint32_t lowbit_cpu_detect(void) {
  unsigned a, b, c, d;
  uint32_t f = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d))
    return 0;
  int osxsave = (c >> 27) & 1, fma = (c >> 12) & 1, avx = (c >> 28) & 1;
  if (!osxsave || !avx)
    return 0;
  uint64_t xcr0 = xgetbv0();
  int ymm = (xcr0 & 0x6) == 0x6, zmm = (xcr0 & 0xe6) == 0xe6;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
    return 0;
  int avx2 = (b >> 5) & 1;
  int avx512f = (b >> 16) & 1, avx512dq = (b >> 17) & 1,
      avx512bw = (b >> 30) & 1, avx512vl = (b >> 31) & 1;
  int vnni512 = (c >> 11) & 1;
  if (ymm && avx2 && fma)
    f |= LOWBIT_CPU_AVX2;
  if (zmm && avx512f && avx512dq && avx512bw && avx512vl)
    f |= LOWBIT_CPU_AVX512;
  if ((f & LOWBIT_CPU_AVX512) && vnni512)
    f |= LOWBIT_CPU_AVX512VNNI;
  if (__get_cpuid_count(7, 1, &a, &b, &c, &d) && ((a >> 4) & 1) && ymm)
    f |= LOWBIT_CPU_AVXVNNI;
  return f;
}
#else
uint32_t lowbit_cpu_detect(void) { return 0; }
#endif
