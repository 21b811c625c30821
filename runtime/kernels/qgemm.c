// qgemm.c - int8 and int4-weight GEMMs: reference kernels and the driver.
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
// The reference loops here are the oracles the ISA kernels are tested
// against (test/unit/runtime/QGemmTest.cpp); the ISA kernels live in
// kernels/x86/ and are chosen by exec->cpu.
#include "../src/internal.h"

#include <string.h>

typedef struct qgemm_t {
  int64_t m, n, k;
  const uint8_t *a;
  int32_t zp_a;
  float scale_a;
  const int8_t *w;
  const int32_t *colsum;
  const float *scale_w, *bias;
  float *c;
  int64_t ldc;
  uint32_t cpu;
} qgemm_t;

/// int32 accumulators for rows [r0, r0 + mr) x panel |p| (16 columns).
static void qtile_ref(const qgemm_t *t, int64_t r0, int64_t mr, int64_t p,
                      int32_t *acc) {
  int64_t k4 = (t->k + 3) / 4;
  const int8_t *panel = t->w + p * k4 * 64;
  for (int64_t r = 0; r < mr; ++r)
    for (int j = 0; j < 16; ++j) {
      int32_t s = 0;
      for (int64_t kk = 0; kk < t->k; ++kk)
        s += (int32_t)t->a[(r0 + r) * t->k + kk] *
             (int32_t)panel[(kk / 4) * 64 + j * 4 + kk % 4];
      acc[r * 16 + j] = s;
    }
}

static void qepilogue(const qgemm_t *t, const int32_t *acc, int64_t r0,
                      int64_t mr, int64_t p) {
  int64_t n0 = p * 16, nr = t->n - n0 < 16 ? t->n - n0 : 16;
  for (int64_t r = 0; r < mr; ++r)
    for (int64_t j = 0; j < nr; ++j) {
      int32_t v = acc[r * 16 + j] - t->zp_a * t->colsum[n0 + j];
      float out = t->scale_a * t->scale_w[n0 + j] * (float)v;
      if (t->bias)
        out += t->bias[n0 + j];
      t->c[(r0 + r) * t->ldc + n0 + j] = out;
    }
}

void lowbit_qtile_avx512vnni(int64_t mr, int64_t k, const uint8_t *a,
                             const int8_t *panel, int32_t *acc);
void lowbit_qtile_avx2(int64_t mr, int64_t k, const uint8_t *a,
                       const int8_t *panel, int32_t *acc);

static void qgemm_range(void *ctx, int64_t begin, int64_t end) {
  const qgemm_t *t = (const qgemm_t *)ctx;
  int32_t acc[8 * 16];
  int64_t k4 = (t->k + 3) / 4;
  for (int64_t p = begin; p < end; ++p)
    for (int64_t r0 = 0; r0 < t->m; r0 += 8) {
      int64_t mr = t->m - r0 < 8 ? t->m - r0 : 8;
      const uint8_t *a = t->a + r0 * t->k;
      const int8_t *panel = t->w + p * k4 * 64;
      if ((t->cpu & LOWBIT_CPU_AVX512VNNI) && !(t->cpu & LOWBIT_CPU_REFERENCE))
        lowbit_qtile_avx512vnni(mr, t->k, a, panel, acc);
      else if ((t->cpu & LOWBIT_CPU_AVX2) && !(t->cpu & LOWBIT_CPU_REFERENCE))
        lowbit_qtile_avx2(mr, t->k, a, panel, acc);
      else
        qtile_ref(t, r0, mr, p, acc);
      qepilogue(t, acc, r0, mr, p);
    }
}

void lowbit_k_qgemm_u8s8(const lowbit_exec_t *exec, int64_t m, int64_t n,
                         int64_t k, const uint8_t *a, int32_t zp_a,
                         float scale_a, const int8_t *w_packed,
                         const int32_t *w_colsum, const float *scale_w,
                         const float *bias, float *c, int64_t ldc) {
  qgemm_t t = {m,       n,        k,       a,    zp_a, scale_a, w_packed,
               w_colsum, scale_w, bias,    c,    ldc,  exec->cpu};
  int64_t panels = (n + 15) / 16;
  if (m * n * k < (1 << 20))
    qgemm_range(&t, 0, panels);
  else
    lowbit_parallel_for(exec->pool, panels, qgemm_range, &t);
}

//===----------------------------------------------------------------------===//
// Int4 weights, f32 activations
//===----------------------------------------------------------------------===//

// The int4 entry point of the quantized-weight GEMM (gemm.c decodes panels
// for the f32 micro-kernels).
void lowbit_k_sgemm_s4(const lowbit_exec_t *exec, int64_t m, int64_t n,
                       int64_t k, const float *a, int64_t lda,
                       const uint8_t *w_packed, const float *scales,
                       int64_t group, const float *bias, float *c,
                       int64_t ldc) {
  lowbit_qweight_t w = {w_packed, scales, group, 4, NULL};
  lowbit_k_sgemm_wq(exec, m, n, k, a, lda, &w, bias, c, ldc, LOWBIT_ACT_NONE);
}
