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

/// Eight full rows against two panels (32 columns): 16 accumulators in
/// registers (constant trip counts unroll fully), two B loads and eight
/// broadcasts per four k, sixteen vpdpbusd.
void lowbit_qtile8x32_avx512vnni(int64_t k, const uint8_t *a,
                                 const int8_t *panel0, const int8_t *panel1,
                                 int32_t *acc0, int32_t *acc1) {
  __m512i c0[8], c1[8];
  for (int r = 0; r < 8; ++r) {
    c0[r] = _mm512_setzero_si512();
    c1[r] = _mm512_setzero_si512();
  }
  int64_t k4 = k / 4;
  for (int64_t q = 0; q < k4; ++q) {
    __m512i b0 = _mm512_loadu_si512(panel0 + q * 64);
    __m512i b1 = _mm512_loadu_si512(panel1 + q * 64);
    for (int r = 0; r < 8; ++r) {
      int32_t quad;
      memcpy(&quad, a + r * k + q * 4, 4);
      __m512i av = _mm512_set1_epi32(quad);
      c0[r] = _mm512_dpbusd_epi32(c0[r], av, b0);
      c1[r] = _mm512_dpbusd_epi32(c1[r], av, b1);
    }
  }
  if (k % 4) {
    __m512i b0 = _mm512_loadu_si512(panel0 + k4 * 64);
    __m512i b1 = _mm512_loadu_si512(panel1 + k4 * 64);
    for (int r = 0; r < 8; ++r) {
      uint8_t tail[4] = {0, 0, 0, 0};
      memcpy(tail, a + r * k + k4 * 4, (size_t)(k % 4));
      int32_t quad;
      memcpy(&quad, tail, 4);
      __m512i av = _mm512_set1_epi32(quad);
      c0[r] = _mm512_dpbusd_epi32(c0[r], av, b0);
      c1[r] = _mm512_dpbusd_epi32(c1[r], av, b1);
    }
  }
  for (int r = 0; r < 8; ++r) {
    _mm512_storeu_si512(acc0 + r * 16, c0[r]);
    _mm512_storeu_si512(acc1 + r * 16, c1[r]);
  }
}
