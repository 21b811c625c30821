// qgemm.c - int8 and int4-weight GEMMs: reference kernels and the driver.
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
// The reference loops here are the oracles the ISA kernels are tested
// against (test/unit/runtime/QGemmTest.cpp); the ISA kernels live in
// kernels/x86/ and are chosen by exec->cpu.
#include "../src/internal.h"

#include <math.h>
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

void lowbit_qtile8x32_avx512vnni(int64_t k, const uint8_t *a,
                                 const int8_t *panel0, const int8_t *panel1,
                                 int32_t *acc0, int32_t *acc1);

/// Rows of A are taken QMC at a time (kept in L2 while the task's panels
/// pass over them); panels go two at a time through the 8 x 32 VNNI tile.
#define QMC 256

static void qgemm_range(void *ctx, int64_t begin, int64_t end) {
  const qgemm_t *t = (const qgemm_t *)ctx;
  int32_t acc[8 * 16], acc1[8 * 16];
  int64_t k4 = (t->k + 3) / 4;
  int reference = (t->cpu & LOWBIT_CPU_REFERENCE) != 0;
  int vnni = (t->cpu & LOWBIT_CPU_AVX512VNNI) && !reference;
  int avx2 = (t->cpu & LOWBIT_CPU_AVX2) && !reference;
  for (int64_t m0 = 0; m0 < t->m; m0 += QMC) {
    int64_t m1 = t->m - m0 < QMC ? t->m : m0 + QMC;
    for (int64_t p = begin; p < end; p += 2) {
      int two = vnni && p + 1 < end;
      const int8_t *panel = t->w + p * k4 * 64;
      for (int64_t r0 = m0; r0 < m1; r0 += 8) {
        int64_t mr = m1 - r0 < 8 ? m1 - r0 : 8;
        const uint8_t *a = t->a + r0 * t->k;
        if (two && mr == 8) {
          lowbit_qtile8x32_avx512vnni(t->k, a, panel, panel + k4 * 64, acc,
                                      acc1);
          qepilogue(t, acc, r0, mr, p);
          qepilogue(t, acc1, r0, mr, p + 1);
          continue;
        }
        for (int64_t q = p; q < end && q < p + 2; ++q) {
          const int8_t *pq = t->w + q * k4 * 64;
          if (vnni)
            lowbit_qtile_avx512vnni(mr, t->k, a, pq, acc);
          else if (avx2)
            lowbit_qtile_avx2(mr, t->k, a, pq, acc);
          else
            qtile_ref(t, r0, mr, q, acc);
          qepilogue(t, acc, r0, mr, q);
        }
      }
    }
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
// Activation quantization
//===----------------------------------------------------------------------===//

typedef struct quantize_t {
  const float *x;
  uint8_t *y;
  float scale, zero_point;
} quantize_t;

/// In f32 like ONNX QuantizeLinear (and the interpreter's lowbit.quantize):
/// a correctly rounded division (this file is not built with fast-math),
/// nearbyintf rounds half to even; both vectorize (vdivps, vrndscaleps).
LOWBIT_MULTIVERSION
static void quantize_range(void *ctx, int64_t begin, int64_t end) {
  const quantize_t *t = (const quantize_t *)ctx;
  const float *x = t->x;
  uint8_t *y = t->y;
  float scale = t->scale, zp = t->zero_point;
  for (int64_t i = begin; i < end; ++i) {
    float v = nearbyintf(x[i] / scale) + zp;
    v = v < 0.0f ? 0.0f : v > 255.0f ? 255.0f : v;
    y[i] = (uint8_t)v;
  }
}

void lowbit_k_quantize_u8(const lowbit_exec_t *exec, int64_t n,
                          const float *x, float scale, int32_t zero_point,
                          uint8_t *y) {
  quantize_t t = {x, y, scale, (float)zero_point};
  if (n < (1 << 16))
    quantize_range(&t, 0, n);
  else
    lowbit_parallel_for(exec->pool, n, quantize_range, &t);
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
