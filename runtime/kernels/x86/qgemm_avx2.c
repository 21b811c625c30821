// qgemm_avx2.c - int8 tile for AVX2 without VNNI: exact, by widening.
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// vpmaddubsw would saturate u8 x s8 pair sums in 16 bits, so both operands
// are widened to 16 bits and multiplied with vpmaddwd (exact int32).
#include "../../src/internal.h"

#include <immintrin.h>
#include <string.h>

void lowbit_qtile_avx2(int64_t mr, int64_t k, const uint8_t *a,
                       const int8_t *panel, int32_t *acc) {
  for (int64_t r = 0; r < mr; ++r) {
    __m256i lo = _mm256_setzero_si256(), hi = _mm256_setzero_si256();
    for (int64_t q = 0; q < (k + 3) / 4; ++q) {
      // The 64-byte block holds 16 columns x 4 k; take 2 k at a time.
      const int8_t *blk = panel + q * 64;
      uint8_t quad[4] = {0, 0, 0, 0};
      int64_t have = k - q * 4 < 4 ? k - q * 4 : 4;
      memcpy(quad, a + r * k + q * 4, (size_t)have);
      for (int pair = 0; pair < 2; ++pair) {
        // a pair (a0, a1) as int16 broadcast to every 32-bit lane.
        int32_t ap = (int32_t)(uint16_t)quad[2 * pair] |
                     ((int32_t)quad[2 * pair + 1] << 16);
        __m256i av = _mm256_set1_epi32(ap);
        // w pairs for columns 0..7 and 8..15: bytes j*4 + 2*pair, +1.
        int16_t w0[16], w1[16];
        for (int j = 0; j < 8; ++j) {
          w0[2 * j] = blk[j * 4 + 2 * pair];
          w0[2 * j + 1] = blk[j * 4 + 2 * pair + 1];
          w1[2 * j] = blk[(j + 8) * 4 + 2 * pair];
          w1[2 * j + 1] = blk[(j + 8) * 4 + 2 * pair + 1];
        }
        lo = _mm256_add_epi32(
            lo, _mm256_madd_epi16(av, _mm256_loadu_si256((const __m256i *)w0)));
        hi = _mm256_add_epi32(
            hi, _mm256_madd_epi16(av, _mm256_loadu_si256((const __m256i *)w1)));
      }
    }
    _mm256_storeu_si256((__m256i *)(acc + r * 16), lo);
    _mm256_storeu_si256((__m256i *)(acc + r * 16 + 8), hi);
  }
}
