// nn.c - convolution, pooling, softmax, layer norm and gather kernels.
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
#include "../src/internal.h"

// The row kernels are built per ISA (LOWBIT_ISA_RANGE, internal.h) and
// chosen from exec->cpu, so expf and the reductions vectorize at the
// machine's width and --cpu selects which build runs.

#include <float.h>
#include <math.h>
#include <string.h>

// Built with -ffast-math -fno-finite-math-only (runtime/CMakeLists.txt):
// glibc declares its vector math variants only under __FAST_MATH__, which
// that leaves undefined, so declare the ones the loops vectorize.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && \
    !defined(__FAST_MATH__)
__attribute__((__simd__("notinbranch"))) float expf(float);
__attribute__((__simd__("notinbranch"))) float logf(float);
__attribute__((__simd__("notinbranch"))) float erff(float);
__attribute__((__simd__("notinbranch"))) float tanhf(float);
#endif

//===----------------------------------------------------------------------===//
// Convolution: im2col (one row per output pixel) + packed GEMM per group
//===----------------------------------------------------------------------===//

/// Images per GEMM: enough output rows (pixels x images) to fill the
/// micro-kernels and amortize the call, bounded to keep scratch small.
static int64_t images_per_chunk(const lowbit_conv2d_params_t *p) {
  int64_t pixels = p->oh * p->ow;
  int64_t chunk = pixels >= 1024 ? 1 : 1024 / (pixels ? pixels : 1);
  return chunk < p->n ? chunk : p->n;
}

int64_t lowbit_k_conv2d_scratch(const lowbit_conv2d_params_t *p) {
  int64_t kg = (p->c / p->groups) * p->kh * p->kw, og = p->o / p->groups;
  int64_t rows = images_per_chunk(p) * p->oh * p->ow;
  // Patches [rows, kg] then the GEMM result [rows, og].
  return rows * (kg + og) * (int64_t)sizeof(float);
}

typedef struct im2col_t {
  const lowbit_conv2d_params_t *p;
  const float *x; // first image of the chunk, group offset applied
  float *cols;    // [images * oh * ow, cg * kh * kw]
  int64_t cg;
  const uint8_t *x8; // u8 activations instead (im2col_u8_range)
  uint8_t *cols8;
  uint8_t pad;
} im2col_t;

LOWBIT_MULTIVERSION
static void im2col_range(void *ctx, int64_t begin, int64_t end) {
  const im2col_t *t = (const im2col_t *)ctx;
  const lowbit_conv2d_params_t *p = t->p;
  int64_t kg = t->cg * p->kh * p->kw, pixels = p->oh * p->ow;
  for (int64_t row = begin; row < end; ++row) {
    int64_t img = row / pixels, pix = row % pixels;
    int64_t oy = pix / p->ow, ox = pix % p->ow;
    float *dst = t->cols + row * kg;
    const float *x = t->x + img * p->c * p->h * p->w;
    int64_t ix0 = ox * p->stride_w - p->pad_l;
    // Columns kx in [kx_lo, kx_hi) read inside the image (dilation 1: one
    // contiguous run per kernel row); the rest are padding zeros.
    int64_t kx_lo = 0, kx_hi = p->kw;
    if (p->dil_w == 1) {
      kx_lo = ix0 < 0 ? -ix0 : 0;
      kx_hi = p->w - ix0 < p->kw ? p->w - ix0 : p->kw;
      if (kx_hi < kx_lo)
        kx_hi = kx_lo;
    }
    for (int64_t ci = 0; ci < t->cg; ++ci) {
      const float *xc = x + ci * p->h * p->w;
      for (int64_t ky = 0; ky < p->kh; ++ky) {
        int64_t iy = oy * p->stride_h - p->pad_t + ky * p->dil_h;
        if (iy < 0 || iy >= p->h) {
          memset(dst, 0, (size_t)p->kw * sizeof(float));
          dst += p->kw;
          continue;
        }
        const float *src = xc + iy * p->w + ix0;
        if (p->dil_w == 1) {
          for (int64_t kx = 0; kx < kx_lo; ++kx)
            dst[kx] = 0.0f;
          for (int64_t kx = kx_lo; kx < kx_hi; ++kx)
            dst[kx] = src[kx];
          for (int64_t kx = kx_hi; kx < p->kw; ++kx)
            dst[kx] = 0.0f;
          dst += p->kw;
          continue;
        }
        for (int64_t kx = 0; kx < p->kw; ++kx) {
          int64_t ix = ix0 + kx * p->dil_w;
          *dst++ = (ix >= 0 && ix < p->w) ? src[kx * p->dil_w] : 0.0f;
        }
      }
    }
  }
}

/// im2col of u8 activations: padding reads the zero point |pad| (the code
/// of 0.0), so the integer product sees exactly the float convolution's
/// zero padding.
static void im2col_u8_range(void *ctx, int64_t begin, int64_t end) {
  const im2col_t *t = (const im2col_t *)ctx;
  const lowbit_conv2d_params_t *p = t->p;
  const uint8_t *x0 = (const uint8_t *)t->x8;
  uint8_t pad = t->pad;
  int64_t kg = t->cg * p->kh * p->kw, pixels = p->oh * p->ow;
  for (int64_t row = begin; row < end; ++row) {
    int64_t img = row / pixels, pix = row % pixels;
    int64_t oy = pix / p->ow, ox = pix % p->ow;
    uint8_t *dst = t->cols8 + row * kg;
    const uint8_t *x = x0 + img * p->c * p->h * p->w;
    for (int64_t ci = 0; ci < t->cg; ++ci)
      for (int64_t ky = 0; ky < p->kh; ++ky) {
        int64_t iy = oy * p->stride_h - p->pad_t + ky * p->dil_h;
        for (int64_t kx = 0; kx < p->kw; ++kx) {
          int64_t ix = ox * p->stride_w - p->pad_l + kx * p->dil_w;
          *dst++ = (iy >= 0 && iy < p->h && ix >= 0 && ix < p->w)
                       ? x[(ci * p->h + iy) * p->w + ix]
                       : pad;
        }
      }
  }
}

typedef struct scatter_t {
  const float *r; // [images * pixels, og]
  float *y;       // first image of the chunk, group channel offset applied
  int64_t pixels, og, o;
  int relu; // the GEMM had no fused epilogue
} scatter_t;

/// [image, pixel, channel] -> NCHW.
static void scatter_range(void *ctx, int64_t begin, int64_t end) {
  const scatter_t *t = (const scatter_t *)ctx;
  for (int64_t img = begin; img < end; ++img)
    for (int64_t oc = 0; oc < t->og; ++oc) {
      float *dst = t->y + (img * t->o + oc) * t->pixels;
      const float *src = t->r + img * t->pixels * t->og + oc;
      if (t->relu)
        for (int64_t pix = 0; pix < t->pixels; ++pix)
          dst[pix] = src[pix * t->og] < 0.0f ? 0.0f : src[pix * t->og];
      else
        for (int64_t pix = 0; pix < t->pixels; ++pix)
          dst[pix] = src[pix * t->og];
    }
}

/// One of |w_packed| (f32 panels) or |wq| (quantized panels) is set.
static void conv2d(const lowbit_exec_t *exec, const lowbit_conv2d_params_t *p,
                   const float *x, const float *w_packed,
                   const lowbit_qweight_t *wq, const float *bias, float *y,
                   float *scratch) {
  int64_t cg = p->c / p->groups, og = p->o / p->groups;
  int64_t kg = cg * p->kh * p->kw, pixels = p->oh * p->ow;
  int64_t panel_floats =
      (og + LOWBIT_PANEL - 1) / LOWBIT_PANEL * LOWBIT_PANEL * kg;
  int64_t chunk = images_per_chunk(p);
  float *cols = scratch;
  float *result = scratch + chunk * pixels * kg;
  for (int64_t b0 = 0; b0 < p->n; b0 += chunk) {
    int64_t images = p->n - b0 < chunk ? p->n - b0 : chunk;
    int64_t rows = images * pixels;
    for (int64_t g = 0; g < p->groups; ++g) {
      im2col_t t = {p,  x + (b0 * p->c + g * cg) * p->h * p->w, cols, cg,
                    NULL, NULL, 0};
      if (rows * kg > (1 << 16))
        lowbit_parallel_for(exec->pool, rows, im2col_range, &t);
      else
        im2col_range(&t, 0, rows);
      // Rows are output pixels of all images in the chunk; channels are
      // contiguous, so the GEMM epilogue (bias, ReLU) runs vectorized.
      const float *gbias = bias ? bias + g * og : NULL;
      if (wq) {
        // Group g's panels: codes and scales follow the previous groups'.
        int64_t panels = (og + LOWBIT_PANEL - 1) / LOWBIT_PANEL;
        int64_t kgroups = (kg + wq->group - 1) / wq->group;
        lowbit_qweight_t gw = *wq;
        gw.data += g * panels * kg * LOWBIT_PANEL * wq->bits / 8;
        gw.scales += g * panels * kgroups * LOWBIT_PANEL;
        if (gw.zero_points)
          gw.zero_points += g * panels * kgroups * LOWBIT_PANEL;
        lowbit_k_sgemm_wq(exec, rows, og, kg, cols, kg, &gw, gbias, result, og,
                          p->act);
      } else {
        lowbit_k_sgemm_packed(exec, rows, og, kg, cols, kg,
                              w_packed + g * panel_floats, gbias, result, og,
                              1, p->act);
      }
      scatter_t s = {result, y + (b0 * p->o + g * og) * pixels, pixels, og,
                     p->o, 0};
      if (rows * og > (1 << 16))
        lowbit_parallel_for(exec->pool, images, scatter_range, &s);
      else
        scatter_range(&s, 0, images);
    }
  }
}

void lowbit_k_conv2d(const lowbit_exec_t *exec, const lowbit_conv2d_params_t *p,
                     const float *x, const float *w_packed, const float *bias,
                     float *y, float *scratch) {
  conv2d(exec, p, x, w_packed, NULL, bias, y, scratch);
}

void lowbit_k_conv2d_wq(const lowbit_exec_t *exec,
                        const lowbit_conv2d_params_t *p, const float *x,
                        const lowbit_qweight_t *w, const float *bias, float *y,
                        float *scratch) {
  conv2d(exec, p, x, NULL, w, bias, y, scratch);
}

void lowbit_k_conv2d_u8s8(const lowbit_exec_t *exec,
                          const lowbit_conv2d_params_t *p, const uint8_t *x,
                          int32_t zp_x, float scale_x, const int8_t *w_packed,
                          const int32_t *w_colsum, const float *scale_w,
                          const float *bias, float *y, float *scratch) {
  int64_t cg = p->c / p->groups, og = p->o / p->groups;
  int64_t kg = cg * p->kh * p->kw, pixels = p->oh * p->ow;
  int64_t panels = (og + LOWBIT_PANEL - 1) / LOWBIT_PANEL;
  int64_t k4 = (kg + 3) / 4;
  int64_t chunk = images_per_chunk(p);
  // The u8 patches use a quarter of the f32 patch area of the scratch.
  uint8_t *cols = (uint8_t *)scratch;
  float *result = scratch + chunk * pixels * kg;
  for (int64_t b0 = 0; b0 < p->n; b0 += chunk) {
    int64_t images = p->n - b0 < chunk ? p->n - b0 : chunk;
    int64_t rows = images * pixels;
    for (int64_t g = 0; g < p->groups; ++g) {
      im2col_t t = {p,    NULL, NULL, cg, x + (b0 * p->c + g * cg) * p->h * p->w,
                    cols, (uint8_t)zp_x};
      if (rows * kg > (1 << 16))
        lowbit_parallel_for(exec->pool, rows, im2col_u8_range, &t);
      else
        im2col_u8_range(&t, 0, rows);
      // Group g's panels, column sums and scales follow the previous ones.
      lowbit_k_qgemm_u8s8(exec, rows, og, kg, cols, zp_x, scale_x,
                          w_packed + g * panels * k4 * 64,
                          w_colsum + g * panels * LOWBIT_PANEL,
                          scale_w + g * panels * LOWBIT_PANEL,
                          bias ? bias + g * og : NULL, result, og);
      scatter_t s = {result, y + (b0 * p->o + g * og) * pixels, pixels, og,
                     p->o, p->act == LOWBIT_ACT_RELU};
      if (rows * og > (1 << 16))
        lowbit_parallel_for(exec->pool, images, scatter_range, &s);
      else
        scatter_range(&s, 0, images);
    }
  }
}

//===----------------------------------------------------------------------===//
// Depthwise convolution: one plane per channel, direct
//===----------------------------------------------------------------------===//

typedef struct depthwise_t {
  const lowbit_conv2d_params_t *p;
  const float *x, *w;
  const lowbit_qweight_t *wq;
  const float *bias;
  float *y;
} depthwise_t;

/// Largest zero-padded input plane the vector path stages on the stack.
#define DW_PLANE 16384
/// 16 floats: one AVX-512 register, two AVX2 ones (GCC vector extension,
/// lowered per LOWBIT_ISA_RANGE build).
typedef float v16f __attribute__((vector_size(64)));

LOWBIT_ISA_BODY void depthwise_range(void *ctx, int64_t begin, int64_t end) {
  const depthwise_t *t = (const depthwise_t *)ctx;
  const lowbit_conv2d_params_t *p = t->p;
  int64_t taps = p->kh * p->kw;
  float wbuf[LOWBIT_DEPTHWISE_MAX_TAPS];
  // The vector path: a zero-padded copy of the input plane, then each run
  // of 16 outputs of a row accumulates all kh * kw taps in one register
  // (short rows, ow = 5 in keyword spotting, cost a few FMAs per tap).
  int64_t chunks = (p->ow + 15) / 16;
  int64_t pw = (chunks * 16 - 1) * p->stride_w + (p->kw - 1) * p->dil_w + 1;
  int64_t ph = (p->oh - 1) * p->stride_h + (p->kh - 1) * p->dil_h + 1;
  float padded[DW_PLANE];
  int vector = ph * pw <= DW_PLANE;
  for (int64_t plane = begin; plane < end; ++plane) {
    int64_t c = plane % p->c;
    const float *wc = t->w ? t->w + c * taps : wbuf;
    if (!t->w)
      lowbit_k_gather_rows_q(p->c, taps, t->wq, 1, &c, wbuf);
    const float *xp = t->x + plane * p->h * p->w;
    float *yp = t->y + plane * p->oh * p->ow;
    float b = t->bias ? t->bias[c] : 0.0f;
    int relu = p->act == LOWBIT_ACT_RELU;
    if (vector) {
      memset(padded, 0, (size_t)(ph * pw) * sizeof(float));
      for (int64_t iy = 0; iy < p->h; ++iy) {
        int64_t r = iy + p->pad_t, n = p->w;
        if (r >= ph)
          break;
        if (p->pad_l + n > pw)
          n = pw - p->pad_l;
        if (n > 0)
          memcpy(padded + r * pw + p->pad_l, xp + iy * p->w,
                 (size_t)n * sizeof(float));
      }
      // Two output rows at a time: independent FMA chains.
      for (int64_t oy = 0; oy < p->oh; oy += 2) {
        int64_t rows = p->oh - oy < 2 ? 1 : 2;
        for (int64_t q = 0; q < chunks; ++q) {
          v16f acc[2] = {{0}, {0}};
          for (int64_t ky = 0; ky < p->kh; ++ky)
            for (int64_t kx = 0; kx < p->kw; ++kx) {
              float wv = wc[ky * p->kw + kx];
              for (int64_t r = 0; r < 2; ++r) {
                const float *s = padded +
                                 ((oy + r) * p->stride_h + ky * p->dil_h) *
                                     pw +
                                 q * 16 * p->stride_w + kx * p->dil_w;
                if (r >= rows)
                  break;
                v16f xv;
                if (p->stride_w == 1) {
                  memcpy(&xv, s, sizeof(xv));
                } else {
                  for (int j = 0; j < 16; ++j)
                    xv[j] = s[j * p->stride_w];
                }
                acc[r] += wv * xv;
              }
            }
          int64_t n = p->ow - q * 16 < 16 ? p->ow - q * 16 : 16;
          for (int64_t r = 0; r < rows; ++r) {
            float *yr = yp + (oy + r) * p->ow + q * 16;
            for (int64_t j = 0; j < n; ++j) {
              float v = acc[r][j] + b;
              yr[j] = relu && v < 0.0f ? 0.0f : v;
            }
          }
        }
      }
      continue;
    }
    // Planes too large to stage: bounds-checked direct loops.
    for (int64_t oy = 0; oy < p->oh; ++oy)
      for (int64_t ox = 0; ox < p->ow; ++ox) {
        float v = b;
        for (int64_t ky = 0; ky < p->kh; ++ky) {
          int64_t iy = oy * p->stride_h - p->pad_t + ky * p->dil_h;
          if (iy < 0 || iy >= p->h)
            continue;
          for (int64_t kx = 0; kx < p->kw; ++kx) {
            int64_t ix = ox * p->stride_w - p->pad_l + kx * p->dil_w;
            if (ix >= 0 && ix < p->w)
              v += wc[ky * p->kw + kx] * xp[iy * p->w + ix];
          }
        }
        yp[oy * p->ow + ox] = relu && v < 0.0f ? 0.0f : v;
      }
  }
}

LOWBIT_ISA_RANGE(depthwise_range)

void lowbit_k_depthwise2d(const lowbit_exec_t *exec,
                          const lowbit_conv2d_params_t *p, const float *x,
                          const float *w, const lowbit_qweight_t *wq,
                          const float *bias, float *y) {
  depthwise_t t = {p, x, w, wq, bias, y};
  int64_t planes = p->n * p->c;
  lowbit_range_fn fn = depthwise_range_for(exec->cpu);
  if (planes * p->oh * p->ow * p->kh * p->kw < (1 << 15))
    fn(&t, 0, planes);
  else
    lowbit_parallel_for(exec->pool, planes, fn, &t);
}

//===----------------------------------------------------------------------===//
// Softmax and layer normalization
//===----------------------------------------------------------------------===//

typedef struct softmax_t {
  int64_t len, inner;
  const float *x;
  float *y;
  int kind;
} softmax_t;

/// Rows contiguous in memory (inner == 1): loops the compiler vectorizes.
LOWBIT_ISA_BODY void softmax_rows(const softmax_t *t, int64_t begin, int64_t end) {
  for (int64_t row = begin; row < end; ++row) {
    const float *x = t->x + row * t->len;
    float *y = t->y + row * t->len;
    float mx = -FLT_MAX;
    for (int64_t k = 0; k < t->len; ++k)
      mx = x[k] > mx ? x[k] : mx;
    float sum = 0.0f;
    for (int64_t k = 0; k < t->len; ++k) {
      y[k] = expf(x[k] - mx);
      sum += y[k];
    }
    if (t->kind == 0) {
      float inv = 1.0f / sum;
      for (int64_t k = 0; k < t->len; ++k)
        y[k] *= inv;
    } else {
      float lse = mx + logf(sum);
      for (int64_t k = 0; k < t->len; ++k)
        y[k] = x[k] - lse;
    }
  }
}

LOWBIT_ISA_BODY void softmax_range(void *ctx, int64_t begin, int64_t end) {
  const softmax_t *t = (const softmax_t *)ctx;
  if (t->inner == 1) {
    softmax_rows(t, begin, end);
    return;
  }
  for (int64_t row = begin; row < end; ++row) {
    int64_t o = row / t->inner, i = row % t->inner;
    const float *x = t->x + o * t->len * t->inner + i;
    float *y = t->y + o * t->len * t->inner + i;
    float mx = -FLT_MAX;
    for (int64_t k = 0; k < t->len; ++k)
      mx = x[k * t->inner] > mx ? x[k * t->inner] : mx;
    float sum = 0.0f;
    for (int64_t k = 0; k < t->len; ++k) {
      float e = expf(x[k * t->inner] - mx);
      if (t->kind == 0)
        y[k * t->inner] = e;
      sum += e;
    }
    if (t->kind == 0) {
      float inv = 1.0f / sum;
      for (int64_t k = 0; k < t->len; ++k)
        y[k * t->inner] *= inv;
    } else {
      float lse = mx + logf(sum);
      for (int64_t k = 0; k < t->len; ++k)
        y[k * t->inner] = x[k * t->inner] - lse;
    }
  }
}

LOWBIT_ISA_RANGE(softmax_range)

void lowbit_k_softmax(const lowbit_exec_t *exec, int64_t outer, int64_t len,
                      int64_t inner, const float *x, float *y, int kind) {
  softmax_t t = {len, inner, x, y, kind};
  int64_t rows = outer * inner;
  lowbit_range_fn fn = softmax_range_for(exec->cpu);
  if (rows * len > 16384)
    lowbit_parallel_for(exec->pool, rows, fn, &t);
  else
    fn(&t, 0, rows);
}

typedef struct layernorm_t {
  int64_t len;
  const float *x, *scale, *bias;
  float eps;
  float *y;
} layernorm_t;

LOWBIT_ISA_BODY void layernorm_range(void *ctx, int64_t begin, int64_t end) {
  const layernorm_t *t = (const layernorm_t *)ctx;
  for (int64_t row = begin; row < end; ++row) {
    const float *x = t->x + row * t->len;
    float *y = t->y + row * t->len;
    float mean = 0.0f;
    for (int64_t k = 0; k < t->len; ++k)
      mean += x[k];
    mean /= (float)t->len;
    float var = 0.0f;
    for (int64_t k = 0; k < t->len; ++k) {
      float d = x[k] - mean;
      var += d * d;
    }
    var /= (float)t->len;
    float inv = 1.0f / sqrtf(var + t->eps);
    for (int64_t k = 0; k < t->len; ++k)
      y[k] = (x[k] - mean) * inv * t->scale[k] + (t->bias ? t->bias[k] : 0.0f);
  }
}

LOWBIT_ISA_RANGE(layernorm_range)

void lowbit_k_layernorm(const lowbit_exec_t *exec, int64_t rows, int64_t len,
                        const float *x, const float *scale, const float *bias,
                        float epsilon, float *y) {
  layernorm_t t = {len, x, scale, bias, epsilon, y};
  lowbit_range_fn fn = layernorm_range_for(exec->cpu);
  if (rows * len > 16384)
    lowbit_parallel_for(exec->pool, rows, fn, &t);
  else
    fn(&t, 0, rows);
}

lowbit_status_t lowbit_k_gather_rows(int64_t rows, int64_t row_bytes,
                                     const void *table, int64_t n,
                                     const int64_t *index, void *y) {
  for (int64_t i = 0; i < n; ++i) {
    int64_t r = index[i] < 0 ? index[i] + rows : index[i];
    if (r < 0 || r >= rows)
      return LOWBIT_INVALID_ARGUMENT;
    memcpy((char *)y + i * row_bytes, (const char *)table + r * row_bytes,
           (size_t)row_bytes);
  }
  return LOWBIT_OK;
}

lowbit_status_t lowbit_k_gather_rows_q(int64_t rows, int64_t cols,
                                       const lowbit_qweight_t *q, int64_t n,
                                       const int64_t *index, float *y) {
  int bits = q->bits;
  int64_t row_bytes = (cols * bits + 7) / 8;
  int64_t groups = (cols + q->group - 1) / q->group;
  uint32_t mask = (1u << bits) - 1;
  for (int64_t i = 0; i < n; ++i) {
    int64_t r = index[i] < 0 ? index[i] + rows : index[i];
    if (r < 0 || r >= rows)
      return LOWBIT_INVALID_ARGUMENT;
    const uint8_t *row = q->data + r * row_bytes;
    const float *s = q->scales + r * groups;
    const float *z = q->zero_points ? q->zero_points + r * groups : NULL;
    float *dst = y + i * cols;
    for (int64_t j = 0; j < cols; ++j) {
      int64_t at = j * bits;
      uint32_t v = row[at / 8];
      if (at % 8 + bits > 8)
        v |= (uint32_t)row[at / 8 + 1] << 8;
      float value = q->lut[(v >> (at % 8)) & mask];
      int64_t g = j / q->group;
      dst[j] = (z ? value - z[g] : value) * s[g];
    }
  }
  return LOWBIT_OK;
}
