// qgemm_avx512.c - int8 (VNNI) and int4-weight tiles for AVX-512.
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

/// f32 activations x int4 weights: 16 nibbles unpacked to f32 in
/// registers, partial sums per group scaled once per group.
void lowbit_s4tile_avx512(int64_t mr, int64_t k, int64_t group,
                          const float *a, int64_t lda, const uint8_t *panel,
                          const float *scales, float *acc) {
  __m512 c[8], part[8];
  for (int r = 0; r < mr; ++r)
    c[r] = _mm512_setzero_ps();
  const __m512i eight = _mm512_set1_epi32(8);
  const __m512i mask = _mm512_set1_epi32(0xF);
  // Lane j takes byte j/2, shifted by 4 for odd j.
  const __m512i shifts = _mm512_set_epi32(4, 0, 4, 0, 4, 0, 4, 0, 4, 0, 4, 0,
                                          4, 0, 4, 0);
  for (int64_t g0 = 0, gi = 0; g0 < k; g0 += group, ++gi) {
    int64_t g1 = g0 + group < k ? g0 + group : k;
    for (int r = 0; r < mr; ++r)
      part[r] = _mm512_setzero_ps();
    for (int64_t kk = g0; kk < g1; ++kk) {
      __m128i bytes = _mm_loadl_epi64((const __m128i *)(panel + kk * 8));
      // Duplicate each byte into two int32 lanes: 0,0,1,1,...,7,7.
      __m512i wide = _mm512_cvtepu8_epi32(_mm_unpacklo_epi8(bytes, bytes));
      __m512i v = _mm512_and_si512(_mm512_srlv_epi32(wide, shifts), mask);
      v = _mm512_sub_epi32(_mm512_xor_si512(v, eight), eight); // sign-extend
      __m512 w = _mm512_cvtepi32_ps(v);
      for (int r = 0; r < mr; ++r)
        part[r] = _mm512_fmadd_ps(_mm512_set1_ps(a[r * lda + kk]), w, part[r]);
    }
    __m512 s = _mm512_loadu_ps(scales + gi * 16);
    for (int r = 0; r < mr; ++r)
      c[r] = _mm512_fmadd_ps(part[r], s, c[r]);
  }
  for (int r = 0; r < mr; ++r)
    _mm512_storeu_ps(acc + r * 16, c[r]);
}
