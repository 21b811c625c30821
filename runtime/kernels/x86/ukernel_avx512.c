// ukernel_avx512.c - 12x16 f32 GEMM micro-kernel (AVX-512F).
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Built with -mavx512f; called only when the CPU has AVX-512.
#include "../../src/internal.h"

#include <immintrin.h>

static inline __attribute__((always_inline)) void
tile(const int rows, int64_t kc, const float *a, int64_t lda,
     const float *panel, float *acc) {
  __m512 c[LOWBIT_MR_AVX512];
  for (int r = 0; r < rows; ++r)
    c[r] = _mm512_setzero_ps();
  for (int64_t k = 0; k < kc; ++k) {
    __m512 b = _mm512_loadu_ps(panel + k * 16);
    for (int r = 0; r < rows; ++r)
      c[r] = _mm512_fmadd_ps(_mm512_set1_ps(a[r * lda + k]), b, c[r]);
  }
  for (int r = 0; r < rows; ++r)
    _mm512_storeu_ps(acc + r * 16, c[r]);
}

void lowbit_ukernel_avx512(int64_t mr, int64_t kc, const float *a,
                           int64_t lda, const float *panel, float *acc) {
  switch (mr) {
  case 12: tile(12, kc, a, lda, panel, acc); break;
  case 11: tile(11, kc, a, lda, panel, acc); break;
  case 10: tile(10, kc, a, lda, panel, acc); break;
  case 9: tile(9, kc, a, lda, panel, acc); break;
  case 8: tile(8, kc, a, lda, panel, acc); break;
  case 7: tile(7, kc, a, lda, panel, acc); break;
  case 6: tile(6, kc, a, lda, panel, acc); break;
  case 5: tile(5, kc, a, lda, panel, acc); break;
  case 4: tile(4, kc, a, lda, panel, acc); break;
  case 3: tile(3, kc, a, lda, panel, acc); break;
  case 2: tile(2, kc, a, lda, panel, acc); break;
  default: tile(1, kc, a, lda, panel, acc); break;
  }
}
