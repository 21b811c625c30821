// qgemm_avx512.c - int8 (VNNI) tiles for AVX-512.
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Built with -mavx512f -mavx512vnni -mavx512bw; called only when the CPU
// has them.
#include "../../src/internal.h"

#include <immintrin.h>
#include <string.h>

/// acc[r][16] = sum_k a[r * k + kk] * panel, k in blocks of 4 (vpdpbusd:
/// u8 x s8, four products summed into each int32 lane).
void lowbit_qtile_avx512vnni(int64_t mr, int64_t k, const uint8_t *a,
                             const int8_t *panel, int32_t *acc) {
  __m512i c[8];
  for (int r = 0; r < mr; ++r)
    c[r] = _mm512_setzero_si512();
  int64_t k4 = k / 4;
  for (int64_t q = 0; q < k4; ++q) {
    __m512i b = _mm512_loadu_si512(panel + q * 64);
    for (int r = 0; r < mr; ++r) {
      int32_t quad;
      memcpy(&quad, a + r * k + q * 4, 4);
      c[r] = _mm512_dpbusd_epi32(c[r], _mm512_set1_epi32(quad), b);
    }
  }
  if (k % 4) { // the tail: zero-padded quads
    __m512i b = _mm512_loadu_si512(panel + k4 * 64);
    for (int r = 0; r < mr; ++r) {
      uint8_t tail[4] = {0, 0, 0, 0};
      memcpy(tail, a + r * k + k4 * 4, (size_t)(k % 4));
      int32_t quad;
      memcpy(&quad, tail, 4);
      c[r] = _mm512_dpbusd_epi32(c[r], _mm512_set1_epi32(quad), b);
    }
  }
  for (int r = 0; r < mr; ++r)
    _mm512_storeu_si512(acc + r * 16, c[r]);
}
