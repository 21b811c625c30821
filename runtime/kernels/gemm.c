// gemm.c - the f32 GEMM driver: blocking, threading, ISA dispatch.
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
// C = act(A · Wᵀ + bias) with W pre-packed in 16-wide panels
// (LOWBIT_PANEL, "f32-panel16" in abi.h). Loop order per task: K blocks
// (KC) outermost, then panels (each KC x 16 block stays in L1), then MR-row
// tiles of an MC-row block of A (which stays in L2). Tasks split the
// (M block, panel group) grid across the pool.
//
// Quantized weights (lowbit_qweight_t: "s4-panel16", "s8-panel16") run
// through the same loop: each KC x 16 block of a panel is decoded to f32
// into a buffer on the stack right before the micro-kernels use it, so the
// weight stream from memory stays 4 or 8 bits wide while the arithmetic is
// the f32 kernels'. A block is decoded once per M block (MC rows).
#include "../src/internal.h"

#include <stdlib.h>
#include <string.h>

// Quantized weights are decoded once per M block, so their M blocks are
// four times taller (512 KB of packed A, still within L2) to spread that
// cost; the buffer is then on the heap, not the stack.
enum { KC = 384, PACK_A_FLOATS = 32768, PACK_A_FLOATS_WQ = 4 * 32768 };

void lowbit_ukernel_ref(int64_t mr, int64_t kc, const float *a, int64_t lda,
                        const float *panel, float *acc) {
  for (int64_t r = 0; r < mr; ++r) {
    float row[LOWBIT_PANEL] = {0};
    for (int64_t k = 0; k < kc; ++k) {
      float av = a[r * lda + k];
      const float *b = panel + k * LOWBIT_PANEL;
      for (int j = 0; j < LOWBIT_PANEL; ++j)
        row[j] += av * b[j];
    }
    memcpy(acc + r * LOWBIT_PANEL, row, sizeof(row));
  }
}

typedef struct gemm_task_t {
  int64_t m, n, k, lda, ldc_m, ldc_n, mc, mr;
  int64_t m_blocks, panel_groups, panels_per_task;
  const float *a, *w, *bias;
  float *c;
  int act;
  lowbit_ukernel_fn uk;
  lowbit_ukernel2_fn uk2; // NULL when the ISA has no two-panel kernel
  int pack_a;             // pack A blocks k-major (AVX-512 path)
  const lowbit_qweight_t *wq; // quantized weights instead of |w|
  const lowbit_lowrank_t *lr; // low-rank branch added in the epilogue
  uint32_t cpu;               // LOWBIT_CPU_* bits (the decoders' ISA)
} gemm_task_t;

/// Codebook formats (nf4, fp4, fp8): each unsigned code indexes |lut|.
static void decode_panel_lut(const lowbit_qweight_t *wq, int64_t k, int64_t p,
                             int64_t k0, int64_t kc, const float *scales,
                             float *out) {
  int bits = wq->bits, row_bytes = 2 * bits;
  const float *lut = wq->lut;
  const uint8_t *w = wq->data + (p * k + k0) * row_bytes;
  int64_t groups = (k + wq->group - 1) / wq->group;
  for (int64_t kk = 0; kk < kc; ++kk) {
    int64_t g = (k0 + kk) / wq->group;
    const float *s = scales + g * LOWBIT_PANEL;
    const uint8_t *row = w + kk * row_bytes;
    float *o = out + kk * LOWBIT_PANEL;
    if (wq->zero_points) {
      // Affine: (value - zero point) * scale, exact as in the interpreter.
      const float *z = wq->zero_points + (p * groups + g) * LOWBIT_PANEL;
      for (int j = 0; j < LOWBIT_PANEL; ++j) {
        int at = j * bits;
        uint32_t v = row[at / 8] | (at / 8 + 1 < row_bytes
                                        ? (uint32_t)row[at / 8 + 1] << 8
                                        : 0u);
        o[j] = (lut[(v >> (at % 8)) & ((1u << bits) - 1)] - z[j]) * s[j];
      }
    } else if (bits == 8) {
      for (int j = 0; j < LOWBIT_PANEL; ++j)
        o[j] = lut[row[j]] * s[j];
    } else if (bits == 4) {
      for (int j = 0; j < LOWBIT_PANEL / 2; ++j) {
        o[2 * j] = lut[row[j] & 15] * s[2 * j];
        o[2 * j + 1] = lut[row[j] >> 4] * s[2 * j + 1];
      }
    } else {
      for (int j = 0; j < LOWBIT_PANEL; ++j) {
        int at = j * bits;
        uint32_t v = row[at / 8] | (at / 8 + 1 < row_bytes
                                        ? (uint32_t)row[at / 8 + 1] << 8
                                        : 0u);
        o[j] = lut[(v >> (at % 8)) & ((1u << bits) - 1)] * s[j];
      }
    }
  }
}

/// Decodes rows [k0, k0 + kc) of quantized panel |p| into out[kc][16].
/// Branch-free sign extension (shifts) so that each row vectorizes.
LOWBIT_MULTIVERSION
static void decode_panel(const lowbit_qweight_t *wq, int64_t k, int64_t p,
                         int64_t k0, int64_t kc, float *out, uint32_t cpu) {
  int64_t groups = (k + wq->group - 1) / wq->group;
  const float *scales = wq->scales + p * groups * LOWBIT_PANEL;
  if (wq->lut) {
    decode_panel_lut(wq, k, p, k0, kc, scales, out);
    return;
  }
  // The common widths on the vector decoders (the loops below are their
  // reference and the other ISAs' path).
  int vec512 = (cpu & LOWBIT_CPU_AVX512) && !(cpu & LOWBIT_CPU_REFERENCE);
  int vec256 = (cpu & LOWBIT_CPU_AVX2) && !(cpu & LOWBIT_CPU_REFERENCE);
  if (wq->bits == 4 && (vec512 || vec256)) {
    const uint8_t *w = wq->data + (p * k + k0) * (LOWBIT_PANEL / 2);
    (vec512 ? lowbit_decode_s4_avx512 : lowbit_decode_s4_avx2)(
        w, scales, wq->group, k0, kc, out);
    return;
  }
  if (wq->bits == 8 && (vec512 || vec256)) {
    const int8_t *w = (const int8_t *)wq->data + (p * k + k0) * LOWBIT_PANEL;
    (vec512 ? lowbit_decode_s8_avx512 : lowbit_decode_s8_avx2)(
        w, scales, wq->group, k0, kc, out);
    return;
  }
  if (wq->bits == 8) {
    const int8_t *w = (const int8_t *)wq->data + (p * k + k0) * LOWBIT_PANEL;
    for (int64_t kk = 0; kk < kc; ++kk) {
      const float *s = scales + ((k0 + kk) / wq->group) * LOWBIT_PANEL;
      for (int j = 0; j < LOWBIT_PANEL; ++j)
        out[kk * LOWBIT_PANEL + j] = (float)w[kk * LOWBIT_PANEL + j] * s[j];
    }
    return;
  }
  if (wq->bits != 4) {
    // Any other width (2..7 bits): 16 codes of |bits| bits per row, least
    // significant bit first, read through a 64-bit window.
    int bits = wq->bits, row_bytes = 2 * bits;
    const uint8_t *w = wq->data + (p * k + k0) * row_bytes;
    for (int64_t kk = 0; kk < kc; ++kk) {
      const float *s = scales + ((k0 + kk) / wq->group) * LOWBIT_PANEL;
      const uint8_t *row = w + kk * row_bytes;
      uint64_t lo = 0, hi = 0; // row_bytes <= 14: two words
      for (int b = 0; b < row_bytes && b < 8; ++b)
        lo |= (uint64_t)row[b] << (8 * b);
      for (int b = 8; b < row_bytes; ++b)
        hi |= (uint64_t)row[b] << (8 * (b - 8));
      for (int j = 0; j < LOWBIT_PANEL; ++j) {
        int at = j * bits;
        uint64_t v = at < 64 ? lo >> at : hi >> (at - 64);
        if (at < 64 && at + bits > 64)
          v |= hi << (64 - at);
        int64_t c = (int64_t)(v & ((1u << bits) - 1));
        if (c >= (1 << (bits - 1)))
          c -= 1 << bits;
        out[kk * LOWBIT_PANEL + j] = (float)c * s[j];
      }
    }
    return;
  }
  const uint8_t *w = wq->data + (p * k + k0) * (LOWBIT_PANEL / 2);
  for (int64_t kk = 0; kk < kc; ++kk) {
    const float *s = scales + ((k0 + kk) / wq->group) * LOWBIT_PANEL;
    const uint8_t *row = w + kk * (LOWBIT_PANEL / 2);
    int8_t v[LOWBIT_PANEL];
    for (int j = 0; j < LOWBIT_PANEL / 2; ++j) {
      v[2 * j] = (int8_t)(uint8_t)(row[j] << 4) >> 4;
      v[2 * j + 1] = (int8_t)row[j] >> 4;
    }
    for (int j = 0; j < LOWBIT_PANEL; ++j)
      out[kk * LOWBIT_PANEL + j] = (float)v[j] * s[j];
  }
}

/// The low-rank branch's left factor for panel |p| (16 output channels x
/// rank), as f32 in the micro-kernels' layout: the packed panel itself or
/// its decoded copy in |buf|.
static const float *lowrank_panel(const lowbit_lowrank_t *lr, int64_t p,
                                  float *buf, uint32_t cpu) {
  if (!lr->left_q)
    return lr->left + p * lr->rank * LOWBIT_PANEL;
  decode_panel(lr->left_q, lr->rank, p, 0, lr->rank, buf, cpu);
  return buf;
}

/// acc += (x·Rᵀ)[rows] · L[panel]ᵀ: the branch's rank-long products for
/// the tile, added before the epilogue so the output is written once.
static void add_lowrank(const gemm_task_t *t, int64_t r0, int64_t mr,
                        const float *lpanel, float *acc, float *tmp) {
  const lowbit_lowrank_t *lr = t->lr;
  t->uk(mr, lr->rank, lr->xr + r0 * lr->rank, lr->rank, lpanel, tmp);
  for (int64_t i = 0; i < mr * LOWBIT_PANEL; ++i)
    acc[i] += tmp[i];
}

/// Packs rows [m0, m1) x [k0, k0 + kc) of A into MR-row tiles, k-major,
/// zero-padding the last tile.
static void pack_a(const gemm_task_t *t, int64_t m0, int64_t m1, int64_t k0,
                   int64_t kc, float *out) {
  for (int64_t r0 = m0; r0 < m1; r0 += t->mr) {
    int64_t mr = m1 - r0 < t->mr ? m1 - r0 : t->mr;
    for (int64_t k = 0; k < kc; ++k) {
      for (int64_t r = 0; r < mr; ++r)
        out[k * t->mr + r] = t->a[(r0 + r) * t->lda + k0 + k];
      for (int64_t r = mr; r < t->mr; ++r)
        out[k * t->mr + r] = 0.0f;
    }
    out += kc * t->mr;
  }
}

static void epilogue(const gemm_task_t *t, const float *acc, int64_t m0,
                     int64_t mr, int64_t n0, int first, int last) {
  int64_t nr = t->n - n0 < LOWBIT_PANEL ? t->n - n0 : LOWBIT_PANEL;
  if (t->ldc_n == 1 && nr == LOWBIT_PANEL) {
    // The common case, written so the compiler vectorizes each row.
    const float *bias = t->bias ? t->bias + n0 : NULL;
    for (int64_t r = 0; r < mr; ++r) {
      float *crow = t->c + (m0 + r) * t->ldc_m + n0;
      const float *arow = acc + r * LOWBIT_PANEL;
      float v[LOWBIT_PANEL];
      for (int j = 0; j < LOWBIT_PANEL; ++j)
        v[j] = first ? arow[j] : arow[j] + crow[j];
      if (last && bias)
        for (int j = 0; j < LOWBIT_PANEL; ++j)
          v[j] += bias[j];
      if (last && t->act == LOWBIT_ACT_RELU)
        for (int j = 0; j < LOWBIT_PANEL; ++j)
          v[j] = v[j] < 0.0f ? 0.0f : v[j];
      for (int j = 0; j < LOWBIT_PANEL; ++j)
        crow[j] = v[j];
    }
    return;
  }
  for (int64_t r = 0; r < mr; ++r) {
    float *crow = t->c + (m0 + r) * t->ldc_m + n0 * t->ldc_n;
    const float *arow = acc + r * LOWBIT_PANEL;
    for (int64_t j = 0; j < nr; ++j) {
      float v = arow[j];
      if (!first)
        v += crow[j * t->ldc_n];
      if (last) {
        if (t->bias)
          v += t->bias[n0 + j];
        if (t->act == LOWBIT_ACT_RELU && v < 0.0f)
          v = 0.0f;
      }
      crow[j * t->ldc_n] = v;
    }
  }
}

static void gemm_range(void *ctx, int64_t begin, int64_t end) {
  const gemm_task_t *t = (const gemm_task_t *)ctx;
  float packed_stack[PACK_A_FLOATS] __attribute__((aligned(64)));
  float *packed_a = packed_stack;
  // Without the heap buffer the block is used unpacked (still correct).
  if (t->wq && t->pack_a)
    packed_a = (float *)aligned_alloc(64, PACK_A_FLOATS_WQ * sizeof(float));
  float acc[LOWBIT_MR_MAX * LOWBIT_PANEL] __attribute__((aligned(64)));
  float acc2[LOWBIT_MR_MAX * LOWBIT_PANEL] __attribute__((aligned(64)));
  float decoded[2 * KC * LOWBIT_PANEL] __attribute__((aligned(64)));
  // The branch's left panels (rank <= LOWBIT_LOWRANK_MAX) and its products.
  float lr_dec[2 * LOWBIT_LOWRANK_MAX * LOWBIT_PANEL]
      __attribute__((aligned(64)));
  float lr_acc[LOWBIT_MR_MAX * LOWBIT_PANEL] __attribute__((aligned(64)));
  const float *lp0 = NULL, *lp1 = NULL;
  int64_t panels = (t->n + LOWBIT_PANEL - 1) / LOWBIT_PANEL;
  for (int64_t task = begin; task < end; ++task) {
    int64_t mb = task / t->panel_groups, pg = task % t->panel_groups;
    int64_t m0 = mb * t->mc, m1 = m0 + t->mc < t->m ? m0 + t->mc : t->m;
    int64_t p0 = pg * t->panels_per_task;
    int64_t p1 = p0 + t->panels_per_task < panels ? p0 + t->panels_per_task
                                                  : panels;
    for (int64_t k0 = 0; k0 < t->k; k0 += KC) {
      int64_t kc = t->k - k0 < KC ? t->k - k0 : KC;
      int first = k0 == 0, last = k0 + kc >= t->k;
      // Packing pays off when the block serves many panels.
      int packed = t->pack_a && p1 - p0 >= 8 && packed_a;
      if (packed)
        pack_a(t, m0, m1, k0, kc, packed_a);
      for (int64_t p = p0; p < p1; ++p) {
        const float *panel = t->w + (p * t->k + k0) * LOWBIT_PANEL;
        if (t->wq) {
          decode_panel(t->wq, t->k, p, k0, kc, decoded, t->cpu);
          panel = decoded;
        }
        int branch = last && t->lr;
        if (branch) {
          lp0 = lowrank_panel(t->lr, p, lr_dec, t->cpu);
          if (t->uk2 && p + 1 < p1)
            lp1 = lowrank_panel(t->lr, p + 1,
                                lr_dec + LOWBIT_LOWRANK_MAX * LOWBIT_PANEL,
                                t->cpu);
        }
        if (t->uk2 && p + 1 < p1) {
          const float *next = panel + t->k * LOWBIT_PANEL;
          if (t->wq) {
            decode_panel(t->wq, t->k, p + 1, k0, kc,
                         decoded + KC * LOWBIT_PANEL, t->cpu);
            next = decoded + KC * LOWBIT_PANEL;
          }
          // A packed k-major (its own kernel) or read in place with lda.
          const float *ap = packed_a;
          for (int64_t r = m0; r < m1; r += t->mr) {
            int64_t mr = m1 - r < t->mr ? m1 - r : t->mr;
            if (packed) {
              lowbit_ukernel2p_avx512(mr, kc, ap, panel, next, acc, acc2);
              ap += kc * t->mr;
            } else {
              t->uk2(mr, kc, t->a + r * t->lda + k0, t->lda, panel, next,
                     acc, acc2);
            }
            if (branch) {
              add_lowrank(t, r, mr, lp0, acc, lr_acc);
              add_lowrank(t, r, mr, lp1, acc2, lr_acc);
            }
            epilogue(t, acc, r, mr, p * LOWBIT_PANEL, first, last);
            epilogue(t, acc2, r, mr, (p + 1) * LOWBIT_PANEL, first, last);
          }
          ++p;
          continue;
        }
        for (int64_t r = m0; r < m1; r += t->mr) {
          int64_t mr = m1 - r < t->mr ? m1 - r : t->mr;
          t->uk(mr, kc, t->a + r * t->lda + k0, t->lda, panel, acc);
          if (branch)
            add_lowrank(t, r, mr, lp0, acc, lr_acc);
          epilogue(t, acc, r, mr, p * LOWBIT_PANEL, first, last);
        }
      }
    }
    if (t->k == 0) // C = act(bias)
      for (int64_t p = p0; p < p1; ++p)
        for (int64_t r = m0; r < m1; r += t->mr) {
          int64_t mr = m1 - r < t->mr ? m1 - r : t->mr;
          memset(acc, 0, sizeof(acc));
          epilogue(t, acc, r, mr, p * LOWBIT_PANEL, 1, 1);
        }
  }
  if (packed_a != packed_stack)
    free(packed_a);
}

static void sgemm(const lowbit_exec_t *exec, int64_t m, int64_t n, int64_t k,
                  const float *a, int64_t lda, const float *w_packed,
                  const lowbit_qweight_t *wq, const lowbit_lowrank_t *lr,
                  const float *bias, float *c, int64_t ldc_m, int64_t ldc_n,
                  int act) {
  if (m <= 0 || n <= 0)
    return;
  gemm_task_t t;
  t.wq = wq;
  t.lr = lr && lr->rank > 0 ? lr : NULL;
  t.uk2 = NULL;
  t.pack_a = 0;
  uint32_t cpu = exec->cpu;
  t.cpu = cpu;
  if ((cpu & LOWBIT_CPU_AVX512) && !(cpu & LOWBIT_CPU_REFERENCE)) {
    t.uk = lowbit_ukernel_avx512;
    t.uk2 = lowbit_ukernel2_avx512;
    t.mr = LOWBIT_MR_AVX512;
    t.pack_a = 1;
  } else if ((cpu & LOWBIT_CPU_AVX2) && !(cpu & LOWBIT_CPU_REFERENCE)) {
    t.uk = lowbit_ukernel_avx2;
    t.mr = LOWBIT_MR_AVX2;
  } else {
    t.uk = lowbit_ukernel_ref;
    t.mr = LOWBIT_MR_REF;
  }
  t.m = m;
  t.n = n;
  t.k = k;
  t.lda = lda;
  t.ldc_m = ldc_m;
  t.ldc_n = ldc_n;
  t.a = a;
  t.w = w_packed;
  t.bias = bias;
  t.c = c;
  t.act = act;
  // MC: about 128 KB of A per block, a multiple of MR.
  int64_t kk = k < KC ? (k > 0 ? k : 1) : KC;
  t.mc = ((wq && t.pack_a ? PACK_A_FLOATS_WQ : PACK_A_FLOATS) / kk) / t.mr *
         t.mr;
  if (t.mc < t.mr)
    t.mc = t.mr;
  t.m_blocks = (m + t.mc - 1) / t.mc;
  int64_t panels = (n + LOWBIT_PANEL - 1) / LOWBIT_PANEL;
  int threads = lowbit_threadpool_size(exec->pool);
  // Enough M blocks to keep every thread busy: each task takes all panels
  // (one packed A block serves them all); otherwise split N too.
  t.panels_per_task = t.m_blocks >= 2 * threads ? panels : 4;
  t.panel_groups = (panels + t.panels_per_task - 1) / t.panels_per_task;
  // With few M blocks, make sure every thread still gets work.
  while (t.m_blocks * t.panel_groups < 2 * threads && t.mc > t.mr) {
    t.mc = (t.mc / 2 + t.mr - 1) / t.mr * t.mr;
    t.m_blocks = (m + t.mc - 1) / t.mc;
  }
  int64_t tasks = t.m_blocks * t.panel_groups;
  // Below ~1M multiply-adds a thread wake-up costs more than it saves.
  if (m * n * k < (1 << 20))
    gemm_range(&t, 0, tasks);
  else
    lowbit_parallel_for(exec->pool, tasks, gemm_range, &t);
}

void lowbit_k_sgemm_packed(const lowbit_exec_t *exec, int64_t m, int64_t n,
                           int64_t k, const float *a, int64_t lda,
                           const float *w_packed, const float *bias, float *c,
                           int64_t ldc_m, int64_t ldc_n, int act) {
  sgemm(exec, m, n, k, a, lda, w_packed, NULL, NULL, bias, c, ldc_m, ldc_n,
        act);
}

void lowbit_k_sgemm_wq(const lowbit_exec_t *exec, int64_t m, int64_t n,
                       int64_t k, const float *a, int64_t lda,
                       const lowbit_qweight_t *w, const float *bias, float *c,
                       int64_t ldc, int act) {
  sgemm(exec, m, n, k, a, lda, NULL, w, NULL, bias, c, ldc, 1, act);
}

void lowbit_k_sgemm_lowrank(const lowbit_exec_t *exec, int64_t m, int64_t n,
                            int64_t k, const float *a, int64_t lda,
                            const float *w_packed, const lowbit_qweight_t *wq,
                            const lowbit_lowrank_t *lr, const float *bias,
                            float *c, int64_t ldc, int act) {
  if (lr && lr->rank > 0 && k > 0) {
    // x·Rᵀ once for all rows (M x rank, into lr->xr), then the layer's
    // GEMM with L·(x·Rᵀ) added in its last K block's epilogue.
    sgemm(exec, m, lr->rank, k, a, lda, lr->right, lr->right_q, NULL, NULL,
          lr->xr, lr->rank, 1, LOWBIT_ACT_NONE);
    sgemm(exec, m, n, k, a, lda, w_packed, wq, lr, bias, c, ldc, 1, act);
    return;
  }
  sgemm(exec, m, n, k, a, lda, w_packed, wq, NULL, bias, c, ldc, 1, act);
}

int64_t lowbit_k_sgemm_scratch(int64_t n, int64_t k) {
  int64_t panels = (n + LOWBIT_PANEL - 1) / LOWBIT_PANEL;
  return panels * (k > 0 ? k : 1) * LOWBIT_PANEL * (int64_t)sizeof(float);
}

/// Packs B [K, N] (strides rs, cs) into 16-wide panels.
static void pack_b(int64_t n, int64_t k, const float *b, int64_t rs,
                   int64_t cs, float *out) {
  int64_t panels = (n + LOWBIT_PANEL - 1) / LOWBIT_PANEL;
  for (int64_t p = 0; p < panels; ++p)
    for (int64_t kk = 0; kk < k; ++kk) {
      float *dst = out + (p * k + kk) * LOWBIT_PANEL;
      for (int j = 0; j < LOWBIT_PANEL; ++j) {
        int64_t col = p * LOWBIT_PANEL + j;
        dst[j] = col < n ? b[kk * rs + col * cs] : 0.0f;
      }
    }
}

typedef struct batched_t {
  lowbit_exec_t serial; // the same kernels, no pool: one thread per item
  int64_t batch, slots, m, n, k, a_bs, a_rs, b_bs, b_rs, b_cs, c_bs;
  const int64_t *a_off, *b_off;
  const float *a, *b;
  float *c, *scratch;
} batched_t;

static void batched_item(const batched_t *t, const lowbit_exec_t *exec,
                         int64_t i, float *scratch) {
  const float *a = t->a + (t->a_off ? t->a_off[i] : i * t->a_bs);
  const float *b = t->b + (t->b_off ? t->b_off[i] : i * t->b_bs);
  pack_b(t->n, t->k, b, t->b_rs, t->b_cs, scratch);
  lowbit_k_sgemm_packed(exec, t->m, t->n, t->k, a, t->a_rs, scratch, NULL,
                        t->c + i * t->c_bs, t->n, 1, LOWBIT_ACT_NONE);
}

/// One call per thread slot: that slot's share of the batch items, with
/// its own slice of the scratch.
static void batched_slots(void *ctx, int64_t begin, int64_t end) {
  const batched_t *t = (const batched_t *)ctx;
  int64_t per = lowbit_k_sgemm_scratch(t->n, t->k) / (int64_t)sizeof(float);
  for (int64_t slot = begin; slot < end; ++slot) {
    float *scratch = t->scratch + slot * per;
    int64_t lo = t->batch * slot / t->slots;
    int64_t hi = t->batch * (slot + 1) / t->slots;
    for (int64_t i = lo; i < hi; ++i)
      batched_item(t, &t->serial, i, scratch);
  }
}

void lowbit_k_sgemm_batched(const lowbit_exec_t *exec, int64_t batch,
                            int64_t m, int64_t n, int64_t k, const float *a,
                            const int64_t *a_off, int64_t a_bs, int64_t a_rs,
                            const float *b, const int64_t *b_off, int64_t b_bs,
                            int64_t b_rs, int64_t b_cs, float *c, int64_t c_bs,
                            float *scratch) {
  int threads = lowbit_threadpool_size(exec->pool);
  batched_t t = {*exec, batch, threads, m, n, k, a_bs, a_rs, b_bs, b_rs,
                 b_cs, c_bs, a_off, b_off, a, b, c, scratch};
  if (batch < 2 || threads < 2 || threads > LOWBIT_MAX_THREADS) {
    for (int64_t i = 0; i < batch; ++i)
      batched_item(&t, exec, i, scratch);
    return;
  }
  // Many small products (attention heads): one item per task, each on one
  // thread with its own slice of the scratch, instead of splitting every
  // small product across threads.
  t.serial.pool = NULL;
  lowbit_parallel_for(exec->pool, threads, batched_slots, &t);
}
