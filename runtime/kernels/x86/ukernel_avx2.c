// ukernel_avx2.c - 6x16 f32 GEMM micro-kernel (AVX2 + FMA).
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
// Built with -mavx2 -mfma; called only when the CPU has both.
#include "../../src/internal.h"

#include <immintrin.h>

static inline __attribute__((always_inline)) void
tile(const int rows, int64_t kc, const float *a, int64_t lda,
     const float *panel, float *acc) {
  __m256 c0[LOWBIT_MR_AVX2], c1[LOWBIT_MR_AVX2];
  for (int r = 0; r < rows; ++r)
    c0[r] = c1[r] = _mm256_setzero_ps();
  for (int64_t k = 0; k < kc; ++k) {
    __m256 b0 = _mm256_loadu_ps(panel + k * 16);
    __m256 b1 = _mm256_loadu_ps(panel + k * 16 + 8);
    for (int r = 0; r < rows; ++r) {
      __m256 av = _mm256_broadcast_ss(a + r * lda + k);
      c0[r] = _mm256_fmadd_ps(av, b0, c0[r]);
      c1[r] = _mm256_fmadd_ps(av, b1, c1[r]);
    }
  }
  for (int r = 0; r < rows; ++r) {
    _mm256_storeu_ps(acc + r * 16, c0[r]);
    _mm256_storeu_ps(acc + r * 16 + 8, c1[r]);
  }
}

void lowbit_ukernel_avx2(int64_t mr, int64_t kc, const float *a, int64_t lda,
                         const float *panel, float *acc) {
  switch (mr) {
  case 6: tile(6, kc, a, lda, panel, acc); break;
  case 5: tile(5, kc, a, lda, panel, acc); break;
  case 4: tile(4, kc, a, lda, panel, acc); break;
  case 3: tile(3, kc, a, lda, panel, acc); break;
  case 2: tile(2, kc, a, lda, panel, acc); break;
  default: tile(1, kc, a, lda, panel, acc); break;
  }
}
