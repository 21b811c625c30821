// decode_avx512.c - int4 / int8 weight panels to f32 (AVX-512).
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Built with -mavx512f -mavx512bw; one 16-column panel row per zmm. Same
// values as the scalar decoders in gemm.c.
#include "../../src/internal.h"
#include "decode_s4.h"

#include <immintrin.h>

void lowbit_decode_s4_avx512(const uint8_t *w, const float *scales,
                             int64_t group, int64_t k0, int64_t kc,
                             float *out) {
  for (int64_t kk = 0; kk < kc; ++kk) {
    const float *s = scales + ((k0 + kk) / group) * LOWBIT_PANEL;
    __m128i c = lowbit_s4_row_codes(w + kk * 8);
    __m512 v = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(c));
    _mm512_storeu_ps(out + kk * 16, _mm512_mul_ps(v, _mm512_loadu_ps(s)));
  }
}

void lowbit_decode_s8_avx512(const int8_t *w, const float *scales,
                             int64_t group, int64_t k0, int64_t kc,
                             float *out) {
  for (int64_t kk = 0; kk < kc; ++kk) {
    const float *s = scales + ((k0 + kk) / group) * LOWBIT_PANEL;
    __m128i c = _mm_loadu_si128((const __m128i *)(w + kk * 16));
    __m512 v = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(c));
    _mm512_storeu_ps(out + kk * 16, _mm512_mul_ps(v, _mm512_loadu_ps(s)));
  }
}
