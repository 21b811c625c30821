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

// Two adjacent panels at once (12 x 32): each broadcast feeds two FMAs, so
// the loop is FMA-bound rather than load-bound. |panel1| is the next panel.
static inline __attribute__((always_inline)) void
tile2(const int rows, int64_t kc, const float *a, int64_t lda,
      const float *panel0, const float *panel1, float *acc0, float *acc1) {
  __m512 c0[LOWBIT_MR_AVX512], c1[LOWBIT_MR_AVX512];
  for (int r = 0; r < rows; ++r)
    c0[r] = c1[r] = _mm512_setzero_ps();
  for (int64_t k = 0; k < kc; ++k) {
    __m512 b0 = _mm512_loadu_ps(panel0 + k * 16);
    __m512 b1 = _mm512_loadu_ps(panel1 + k * 16);
    for (int r = 0; r < rows; ++r) {
      __m512 av = _mm512_set1_ps(a[r * lda + k]);
      c0[r] = _mm512_fmadd_ps(av, b0, c0[r]);
      c1[r] = _mm512_fmadd_ps(av, b1, c1[r]);
    }
  }
  for (int r = 0; r < rows; ++r) {
    _mm512_storeu_ps(acc0 + r * 16, c0[r]);
    _mm512_storeu_ps(acc1 + r * 16, c1[r]);
  }
}

void lowbit_ukernel2_avx512(int64_t mr, int64_t kc, const float *a,
                            int64_t lda, const float *panel0,
                            const float *panel1, float *acc0, float *acc1) {
  switch (mr) {
  case 12: tile2(12, kc, a, lda, panel0, panel1, acc0, acc1); break;
  case 11: tile2(11, kc, a, lda, panel0, panel1, acc0, acc1); break;
  case 10: tile2(10, kc, a, lda, panel0, panel1, acc0, acc1); break;
  case 9: tile2(9, kc, a, lda, panel0, panel1, acc0, acc1); break;
  case 8: tile2(8, kc, a, lda, panel0, panel1, acc0, acc1); break;
  case 7: tile2(7, kc, a, lda, panel0, panel1, acc0, acc1); break;
  case 6: tile2(6, kc, a, lda, panel0, panel1, acc0, acc1); break;
  case 5: tile2(5, kc, a, lda, panel0, panel1, acc0, acc1); break;
  case 4: tile2(4, kc, a, lda, panel0, panel1, acc0, acc1); break;
  case 3: tile2(3, kc, a, lda, panel0, panel1, acc0, acc1); break;
  case 2: tile2(2, kc, a, lda, panel0, panel1, acc0, acc1); break;
  default: tile2(1, kc, a, lda, panel0, panel1, acc0, acc1); break;
  }
}

// 12 x 32 with A packed k-major (ap[k * 12 + r]): one stream for all the
// broadcasts at constant offsets instead of twelve row pointers.
void lowbit_ukernel2p_avx512(int64_t mr, int64_t kc, const float *ap,
                             const float *panel0, const float *panel1,
                             float *acc0, float *acc1) {
  __m512 c0[LOWBIT_MR_AVX512], c1[LOWBIT_MR_AVX512];
  for (int r = 0; r < LOWBIT_MR_AVX512; ++r)
    c0[r] = c1[r] = _mm512_setzero_ps();
  for (int64_t k = 0; k < kc; ++k) {
    __m512 b0 = _mm512_loadu_ps(panel0 + k * 16);
    __m512 b1 = _mm512_loadu_ps(panel1 + k * 16);
    const float *a = ap + k * LOWBIT_MR_AVX512;
    for (int r = 0; r < LOWBIT_MR_AVX512; ++r) {
      __m512 av = _mm512_set1_ps(a[r]);
      c0[r] = _mm512_fmadd_ps(av, b0, c0[r]);
      c1[r] = _mm512_fmadd_ps(av, b1, c1[r]);
    }
  }
  for (int r = 0; r < mr; ++r) {
    _mm512_storeu_ps(acc0 + r * 16, c0[r]);
    _mm512_storeu_ps(acc1 + r * 16, c1[r]);
  }
}
