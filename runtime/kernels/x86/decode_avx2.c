// decode_avx2.c - int4 / int8 weight panels to f32 (AVX2).
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Built with -mavx2 -mfma; called only when the CPU has both. The scalar
// decoders in gemm.c are the reference (same values, bit for bit: one
// int -> float conversion and one product per code).
#include "../../src/internal.h"
#include "decode_s4.h"

#include <immintrin.h>

void lowbit_decode_s4_avx2(const uint8_t *w, const float *scales,
                           int64_t group, int64_t k0, int64_t kc,
                           float *out) {
  for (int64_t kk = 0; kk < kc; ++kk) {
    const float *s = scales + ((k0 + kk) / group) * LOWBIT_PANEL;
    __m128i c = lowbit_s4_row_codes(w + kk * 8);
    __m256 v0 = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(c));
    __m256 v1 = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(c, 8)));
    _mm256_storeu_ps(out + kk * 16, _mm256_mul_ps(v0, _mm256_loadu_ps(s)));
    _mm256_storeu_ps(out + kk * 16 + 8,
                     _mm256_mul_ps(v1, _mm256_loadu_ps(s + 8)));
  }
}

void lowbit_decode_s8_avx2(const int8_t *w, const float *scales,
                           int64_t group, int64_t k0, int64_t kc,
                           float *out) {
  for (int64_t kk = 0; kk < kc; ++kk) {
    const float *s = scales + ((k0 + kk) / group) * LOWBIT_PANEL;
    __m128i c = _mm_loadu_si128((const __m128i *)(w + kk * 16));
    __m256 v0 = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(c));
    __m256 v1 = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(c, 8)));
    _mm256_storeu_ps(out + kk * 16, _mm256_mul_ps(v0, _mm256_loadu_ps(s)));
    _mm256_storeu_ps(out + kk * 16 + 8,
                     _mm256_mul_ps(v1, _mm256_loadu_ps(s + 8)));
  }
}
