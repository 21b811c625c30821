// qgemm_avx2.c - int8 tile for AVX2 without VNNI: exact u8 x s8 in int32.
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
// vpmaddubsw sums two u8 x s8 products into a saturating int16: 255 * -128
// * 2 = -65280 does not fit, which is why AVX2 int8 GEMMs elsewhere are
// inexact (or scale weights down to 7 bits). Here each activation byte is
// split as a = (a & 127) + 128 * (a >> 7): with a 7-bit left operand a pair
// sums to at most 127 * 128 * 2 = 32512, and with the 0/1 high bit to at
// most 256, so neither vpmaddubsw saturates. vpmaddwd then widens each
// int16 pair into int32 (times 1 and times 128). Cost: twice the
// vpmaddubsw + vpmaddwd of the saturating method, no widened weight copy.
#include "../../src/internal.h"

#include <immintrin.h>
#include <string.h>

/// acc[r][16] (int32) for |rows| rows: panel blocks are 16 columns x 4 k
/// (64 bytes), the two halves of a block are columns 0..7 and 8..15.
static inline __attribute__((always_inline)) void
tile(const int rows, int64_t k, const uint8_t *a, int64_t lda,
     const int8_t *panel, int32_t *acc) {
  const __m256i ones = _mm256_set1_epi16(1), high = _mm256_set1_epi16(128);
  __m256i c0[4], c1[4];
  for (int r = 0; r < rows; ++r)
    c0[r] = c1[r] = _mm256_setzero_si256();
  int64_t full = k / 4;
  for (int64_t q = 0; q <= full; ++q) {
    uint32_t quad[4] = {0, 0, 0, 0};
    if (q < full) {
      for (int r = 0; r < rows; ++r)
        memcpy(&quad[r], a + r * lda + q * 4, 4);
    } else {
      if (k % 4 == 0)
        break;
      for (int r = 0; r < rows; ++r) // the zero-padded tail of K
        memcpy(&quad[r], a + r * lda + q * 4, (size_t)(k % 4));
    }
    const __m256i w0 = _mm256_loadu_si256((const __m256i *)(panel + q * 64));
    const __m256i w1 =
        _mm256_loadu_si256((const __m256i *)(panel + q * 64 + 32));
    for (int r = 0; r < rows; ++r) {
      __m256i lo = _mm256_set1_epi32((int32_t)(quad[r] & 0x7f7f7f7fu));
      __m256i hi = _mm256_set1_epi32((int32_t)((quad[r] >> 7) & 0x01010101u));
      __m256i s0 = _mm256_add_epi32(
          _mm256_madd_epi16(_mm256_maddubs_epi16(lo, w0), ones),
          _mm256_madd_epi16(_mm256_maddubs_epi16(hi, w0), high));
      __m256i s1 = _mm256_add_epi32(
          _mm256_madd_epi16(_mm256_maddubs_epi16(lo, w1), ones),
          _mm256_madd_epi16(_mm256_maddubs_epi16(hi, w1), high));
      c0[r] = _mm256_add_epi32(c0[r], s0);
      c1[r] = _mm256_add_epi32(c1[r], s1);
    }
  }
  for (int r = 0; r < rows; ++r) {
    _mm256_storeu_si256((__m256i *)(acc + r * 16), c0[r]);
    _mm256_storeu_si256((__m256i *)(acc + r * 16 + 8), c1[r]);
  }
}

void lowbit_qtile_avx2(int64_t mr, int64_t k, const uint8_t *a,
                       const int8_t *panel, int32_t *acc) {
  // Four rows at a time: 8 accumulators + 2 weight registers + constants
  // fit the 16 ymm registers.
  for (int64_t r0 = 0; r0 < mr; r0 += 4) {
    const uint8_t *ar = a + r0 * k;
    int32_t *accr = acc + r0 * 16;
    switch (mr - r0 < 4 ? mr - r0 : 4) {
    case 4: tile(4, k, ar, k, panel, accr); break;
    case 3: tile(3, k, ar, k, panel, accr); break;
    case 2: tile(2, k, ar, k, panel, accr); break;
    default: tile(1, k, ar, k, panel, accr); break;
    }
  }
}
