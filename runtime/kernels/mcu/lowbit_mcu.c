/*===- lowbit_mcu.c - integer kernels for microcontrollers ----------------===*
 *
 * SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
 *
 *===----------------------------------------------------------------------===*
 *
 * Portable C99 reference kernels (see lowbit_mcu.h). Results are computed
 * in 64 bits up to the clamp, as the interpreter does, so an extreme
 * requantization saturates instead of wrapping.
 *
 *===----------------------------------------------------------------------===*/

#include "lowbit_mcu.h"

#include <stddef.h>

#if defined(__GNUC__)
#define LOWBIT_MCU_INLINE static inline __attribute__((always_inline))
#else
#define LOWBIT_MCU_INLINE static inline
#endif

/* round(v * m / 2^s), ties away from zero. */
static int64_t requant(int64_t v, int32_t m, int32_t s) {
  int64_t prod = v * (int64_t)m;
  int64_t half;
  if (s == 0)
    return prod;
  half = (int64_t)1 << (s - 1);
  return prod >= 0 ? (prod + half) >> s : -((-prod + half) >> s);
}

/* The same for an int32 accumulator and 0 <= m < 2^31, kept in 32-bit
   registers: |acc| * m is one UMULL, and for s >= 33 the rounding only
   touches the high word, since (hi * 2^32 + lo + 2^(s-1)) >> s equals
   (hi + 2^(s-33)) >> (s-32) for any lo < 2^32. The result is clamped to
   +-2^30, far outside every int8 clamp, so the caller's saturation is
   unchanged. */
LOWBIT_MCU_INLINE int32_t requant32(int32_t acc, int32_t m, int32_t s) {
  const uint32_t u = acc < 0 ? 0u - (uint32_t)acc : (uint32_t)acc;
  uint32_t r;
  if (s >= 33) {
    const uint32_t hi = (uint32_t)(((uint64_t)u * (uint32_t)m) >> 32);
    r = (hi + (1u << (s - 33))) >> (s - 32);
  } else {
    const int64_t v = requant((int64_t)u, m, s);
    r = v > (1 << 30) ? (1u << 30) : (uint32_t)v;
  }
  return acc < 0 ? -(int32_t)r : (int32_t)r;
}

/* TFLite's MultiplyByQuantizedMultiplier for the same (m, s): the doubling
   high multiply of acc * 2^left (saturated to int32) by m, rounded half up
   at 2^31, then a right shift rounded half away from zero. */
static int32_t requant_tflite(int32_t acc, int32_t m, int32_t s) {
  const int32_t exponent = 31 - s;
  const int32_t left = exponent > 0 ? exponent : 0;
  const int32_t right = exponent > 0 ? 0 : -exponent;
  int64_t a = (int64_t)acc * ((int64_t)1 << left), ab, nudge;
  int32_t high, mask, rem, threshold;
  a = a > 2147483647 ? 2147483647 : a < -2147483647 - 1 ? -2147483647 - 1 : a;
  ab = a * (int64_t)m;
  nudge = ab >= 0 ? ((int64_t)1 << 30) : 1 - ((int64_t)1 << 30);
  high = (int32_t)((ab + nudge) / ((int64_t)1 << 31));
  if (right == 0)
    return high;
  mask = (int32_t)(((int64_t)1 << right) - 1);
  rem = high & mask;
  threshold = (mask >> 1) + (high < 0 ? 1 : 0);
  return (high >> right) + (rem > threshold ? 1 : 0);
}

/* The requantization a layer asks for. */
#define LOWBIT_MCU_REQUANT(p, acc, m, s)                                      \
  ((p)->tflite_rounding ? requant_tflite(acc, m, s) : requant32(acc, m, s))

LOWBIT_MCU_INLINE int8_t saturate32(int32_t v, int32_t lo, int32_t hi) {
  return (int8_t)(v < lo ? lo : v > hi ? hi : v);
}

/* round(n / d), ties away from zero; d > 0. */
static int64_t div_round(int64_t n, int64_t d) {
  return n >= 0 ? (n + d / 2) / d : -((-n + d / 2) / d);
}

static int8_t saturate(int64_t v, int32_t lo, int32_t hi) {
  return (int8_t)(v < lo ? lo : v > hi ? hi : v);
}

/* sum_i (x[i] + xoff) * w[i] + acc over n contiguous bytes. */
#if defined(__ARM_FEATURE_DSP) && !defined(LOWBIT_MCU_PORTABLE)
#include <arm_acle.h>
#define LOWBIT_MCU_DSP 1
LOWBIT_MCU_INLINE uint32_t load4(const int8_t *p) { /* unaligned LDR on Armv7E-M */
  uint32_t v;
  __builtin_memcpy(&v, p, 4);
  return v;
}
LOWBIT_MCU_INLINE uint32_t ror8(uint32_t v) { return (v >> 8) | (v << 24); }
LOWBIT_MCU_INLINE int32_t dot_s8(const int8_t *x, const int8_t *w, int32_t n,
                      int32_t xoff, int32_t acc) {
  const int32_t off2 = (int32_t)(((uint32_t)xoff & 0xFFFFu) |
                                 ((uint32_t)xoff << 16));
  for (; n >= 4; n -= 4, x += 4, w += 4) {
    uint32_t xv = load4(x), wv = load4(w);
    acc = __smlad(__sxtab16(off2, xv), __sxtb16(wv), acc);
    acc = __smlad(__sxtab16(off2, ror8(xv)), __sxtb16(ror8(wv)), acc);
  }
  for (; n > 0; --n)
    acc += ((int32_t)*x++ + xoff) * (int32_t)*w++;
  return acc;
}
/* Two output channels at once: each input word is widened once. */
LOWBIT_MCU_INLINE void dot2_s8(const int8_t *x, const int8_t *w0, const int8_t *w1,
                    int32_t n, int32_t *a0, int32_t *a1) {
  int32_t s0 = *a0, s1 = *a1;
  for (; n >= 4; n -= 4, x += 4, w0 += 4, w1 += 4) {
    uint32_t xv = load4(x), v0 = load4(w0), v1 = load4(w1);
    int32_t x02 = __sxtb16(xv), x13 = __sxtb16(ror8(xv));
    s0 = __smlad(x02, __sxtb16(v0), s0);
    s0 = __smlad(x13, __sxtb16(ror8(v0)), s0);
    s1 = __smlad(x02, __sxtb16(v1), s1);
    s1 = __smlad(x13, __sxtb16(ror8(v1)), s1);
  }
  for (; n > 0; --n, ++x) {
    s0 += (int32_t)*x * (int32_t)*w0++;
    s1 += (int32_t)*x * (int32_t)*w1++;
  }
  *a0 = s0;
  *a1 = s1;
}
/* Two rows of x against two rows of w: 16 multiply-adds per 4 loads. */
LOWBIT_MCU_INLINE void dot22_s8(const int8_t *x0, const int8_t *x1, const int8_t *w0,
                     const int8_t *w1, int32_t n, int32_t acc[4]) {
  int32_t s00 = acc[0], s01 = acc[1], s10 = acc[2], s11 = acc[3];
  for (; n >= 4; n -= 4, x0 += 4, x1 += 4, w0 += 4, w1 += 4) {
    uint32_t a = load4(x0), b = load4(x1), v0 = load4(w0), v1 = load4(w1);
    int32_t a02 = __sxtb16(a), a13 = __sxtb16(ror8(a));
    int32_t b02 = __sxtb16(b), b13 = __sxtb16(ror8(b));
    int32_t w002 = __sxtb16(v0), w013 = __sxtb16(ror8(v0));
    int32_t w102 = __sxtb16(v1), w113 = __sxtb16(ror8(v1));
    s00 = __smlad(a13, w013, __smlad(a02, w002, s00));
    s01 = __smlad(a13, w113, __smlad(a02, w102, s01));
    s10 = __smlad(b13, w013, __smlad(b02, w002, s10));
    s11 = __smlad(b13, w113, __smlad(b02, w102, s11));
  }
  for (; n > 0; --n) {
    int32_t a = *x0++, b = *x1++, v0 = *w0++, v1 = *w1++;
    s00 += a * v0;
    s01 += a * v1;
    s10 += b * v0;
    s11 += b * v1;
  }
  acc[0] = s00;
  acc[1] = s01;
  acc[2] = s10;
  acc[3] = s11;
}
/* Four channels of a depthwise tap: aK += (x[K] + xoff) * w[K], with the
   accumulators in registers (locals a0..a3 of the caller). */
#define LOWBIT_MCU_MAC4(x, w, off2)                                          \
  do {                                                                       \
    const uint32_t xv_ = load4(x), wv_ = load4(w);                           \
    const int32_t x02_ = __sxtab16(off2, xv_);                               \
    const int32_t x13_ = __sxtab16(off2, ror8(xv_));                         \
    const int32_t w02_ = __sxtb16(wv_), w13_ = __sxtb16(ror8(wv_));          \
    a0 = __smlabb(x02_, w02_, a0);                                           \
    a2 = __smlatt(x02_, w02_, a2);                                           \
    a1 = __smlabb(x13_, w13_, a1);                                           \
    a3 = __smlatt(x13_, w13_, a3);                                           \
  } while (0)
#else
LOWBIT_MCU_INLINE int32_t dot_s8(const int8_t *x, const int8_t *w, int32_t n,
                      int32_t xoff, int32_t acc) {
  int32_t i;
  for (i = 0; i < n; ++i)
    acc += ((int32_t)x[i] + xoff) * (int32_t)w[i];
  return acc;
}
LOWBIT_MCU_INLINE void dot2_s8(const int8_t *x, const int8_t *w0, const int8_t *w1,
                    int32_t n, int32_t *a0, int32_t *a1) {
  int32_t i, s0 = *a0, s1 = *a1;
  for (i = 0; i < n; ++i) {
    s0 += (int32_t)x[i] * (int32_t)w0[i];
    s1 += (int32_t)x[i] * (int32_t)w1[i];
  }
  *a0 = s0;
  *a1 = s1;
}
LOWBIT_MCU_INLINE void dot22_s8(const int8_t *x0, const int8_t *x1, const int8_t *w0,
                     const int8_t *w1, int32_t n, int32_t acc[4]) {
  dot2_s8(x0, w0, w1, n, &acc[0], &acc[1]);
  dot2_s8(x1, w0, w1, n, &acc[2], &acc[3]);
}
#define LOWBIT_MCU_MAC4(x, w, off2)                                          \
  do {                                                                       \
    const int32_t o_ = (int16_t)((off2) & 0xFFFF);                           \
    a0 += ((int32_t)(x)[0] + o_) * (int32_t)(w)[0];                          \
    a1 += ((int32_t)(x)[1] + o_) * (int32_t)(w)[1];                          \
    a2 += ((int32_t)(x)[2] + o_) * (int32_t)(w)[2];                          \
    a3 += ((int32_t)(x)[3] + o_) * (int32_t)(w)[3];                          \
  } while (0)
#endif

/* The kernel rows [*lo, *hi) whose input row is inside [0, n). */
LOWBIT_MCU_INLINE void clip_taps(int32_t start, int32_t dil, int32_t k, int32_t n,
                      int32_t *lo, int32_t *hi) {
  int32_t a = 0, b = k;
  while (a < b && start + a * dil < 0)
    ++a;
  while (b > a && start + (b - 1) * dil >= n)
    --b;
  *lo = a;
  *hi = b;
}

/* Indices are int32: an MCU arena is far below 2 GiB (the compiler
   refuses tensors of 2^31 bytes), and 64-bit index arithmetic costs
   several instructions on a 32-bit core. */
/* One output row (image b, row i) of a convolution into yrow. */
static void conv_row(const lowbit_mcu_conv_t *p, const int8_t *x,
                     int8_t *yrow, int32_t b, int32_t i, int8_t *patch) {
  const int32_t cg = p->c / p->groups, og = p->o / p->groups;
  const int32_t xoff = -p->in_zero_point;
  const int32_t row = p->w * p->c, ktaps = p->kw * cg, k = p->kh * ktaps;
  const int8_t zp = (int8_t)p->in_zero_point;
  const int32_t r0 = i * p->stride_h - p->pad_top;
  int32_t p0, p1, j, oc, r, s, c;
  clip_taps(r0, p->dil_h, p->kh, p->h, &p0, &p1);
  for (j = 0; j < p->ow; ++j) {
    const int32_t s0 = j * p->stride_w - p->pad_left;
    int8_t *yo = yrow + j * p->o;
    const int8_t *xb = x + (b * p->h + r0) * row + s0 * p->c;
    int32_t q0, q1;
    clip_taps(s0, p->dil_w, p->kw, p->w, &q0, &q1);
    if (patch) {
      /* groups == 1: gather the window into one contiguous run, padding
         as the zero point (its product is folded into the bias), then
         every output channel is one dot product over it. */
      int8_t *d = patch;
      for (r = 0; r < p->kh; ++r) {
        const int8_t *xr = xb + r * p->dil_h * row;
        for (s = 0; s < p->kw; ++s) {
          const int8_t *xs = xr + s * p->dil_w * p->c;
          const int inside = r >= p0 && r < p1 && s >= q0 && s < q1;
          for (c = 0; c < p->c; ++c)
            *d++ = inside ? xs[c] : zp;
        }
      }
      for (oc = 0; oc + 1 < p->o; oc += 2) {
        int32_t a0 = p->bias[oc], a1 = p->bias[oc + 1];
        dot2_s8(patch, p->weight + oc * k, p->weight + (oc + 1) * k, k, &a0,
                &a1);
        yo[oc] = saturate32(p->out_zero_point +
                                LOWBIT_MCU_REQUANT(p, a0, p->multiplier[oc], p->shift[oc]),
                            p->clamp_min, p->clamp_max);
        yo[oc + 1] = saturate32(
            p->out_zero_point +
                LOWBIT_MCU_REQUANT(p, a1, p->multiplier[oc + 1], p->shift[oc + 1]),
            p->clamp_min, p->clamp_max);
      }
      if (oc < p->o)
        yo[oc] = saturate32(
            p->out_zero_point +
                LOWBIT_MCU_REQUANT(p, dot_s8(patch, p->weight + oc * k, k, 0, p->bias[oc]),
                          p->multiplier[oc], p->shift[oc]),
            p->clamp_min, p->clamp_max);
      continue;
    }
    for (oc = 0; oc < p->o; ++oc) {
      const int8_t *wo = p->weight + oc * k;
      const int8_t *xg = xb + (oc / og) * cg;
      int32_t acc = p->bias[oc];
      for (r = p0; r < p1; ++r) {
        const int8_t *xr = xg + r * p->dil_h * row;
        const int8_t *wr = wo + r * ktaps;
        for (s = q0; s < q1; ++s)
          acc = dot_s8(xr + s * p->dil_w * p->c, wr + s * cg, cg, xoff, acc);
      }
      yo[oc] = saturate32(
          p->out_zero_point + LOWBIT_MCU_REQUANT(p, acc, p->multiplier[oc], p->shift[oc]),
          p->clamp_min, p->clamp_max);
    }
  }
}

void lowbit_mcu_conv_s8(const lowbit_mcu_conv_t *p, const int8_t *x,
                        int8_t *y, int8_t *patch) {
  int32_t b, i;
  for (b = 0; b < p->n; ++b)
    for (i = 0; i < p->oh; ++i)
      conv_row(p, x, y + (b * p->oh + i) * p->ow * p->o, b, i, patch);
}

LOWBIT_MCU_INLINE void store_dw(const lowbit_mcu_conv_t *p, int8_t *y,
                                int32_t o, int32_t acc) {
  y[o] = saturate32(p->out_zero_point +
                        LOWBIT_MCU_REQUANT(p, acc, p->multiplier[o], p->shift[o]),
                    p->clamp_min, p->clamp_max);
}

/* One output row (image b, row i) of a depthwise convolution into yrow. */
static void depthwise_row(const lowbit_mcu_conv_t *p, const int8_t *x,
                          int8_t *yrow, int32_t b, int32_t i, int8_t *unused) {
  const int32_t mult = p->o / p->c, row = p->w * p->c;
  const int32_t xoff = -p->in_zero_point;
  const int32_t off2 =
      (int32_t)(((uint32_t)xoff & 0xFFFFu) | ((uint32_t)xoff << 16));
  const int32_t xstep = p->dil_w * p->c, xrow = p->dil_h * row;
  const int32_t wrow = p->kw * p->o;
  const int32_t r0 = i * p->stride_h - p->pad_top;
  int32_t p0, p1, j, o, r, s;
  (void)unused;
  clip_taps(r0, p->dil_h, p->kh, p->h, &p0, &p1);
  for (j = 0; j < p->ow; ++j) {
    const int32_t s0 = j * p->stride_w - p->pad_left;
    int8_t *yo = yrow + j * p->o;
    int32_t q0, q1;
    /* The first tap inside the input, for x and for w. */
    const int8_t *xt, *wt;
    clip_taps(s0, p->dil_w, p->kw, p->w, &q0, &q1);
    xt = x + (b * p->h + r0 + p0 * p->dil_h) * row +
         (s0 + q0 * p->dil_w) * p->c;
    wt = p->weight + p0 * wrow + q0 * p->o;
    o = 0;
    if (mult == 1) /* four channels per step: x, w and y contiguous */
      for (; o + 4 <= p->o; o += 4) {
        int32_t a0 = p->bias[o], a1 = p->bias[o + 1], a2 = p->bias[o + 2],
                a3 = p->bias[o + 3];
        const int8_t *xr = xt + o, *wr = wt + o;
        if (q1 - q0 == 3) /* the common 3-wide window, unrolled */
          for (r = p0; r < p1; ++r, xr += xrow, wr += wrow) {
            LOWBIT_MCU_MAC4(xr, wr, off2);
            LOWBIT_MCU_MAC4(xr + xstep, wr + p->o, off2);
            LOWBIT_MCU_MAC4(xr + 2 * xstep, wr + 2 * p->o, off2);
          }
        else
          for (r = p0; r < p1; ++r, xr += xrow, wr += wrow) {
            const int8_t *xs = xr, *ws = wr;
            for (s = q0; s < q1; ++s, xs += xstep, ws += p->o)
              LOWBIT_MCU_MAC4(xs, ws, off2);
          }
        store_dw(p, yo, o, a0);
        store_dw(p, yo, o + 1, a1);
        store_dw(p, yo, o + 2, a2);
        store_dw(p, yo, o + 3, a3);
      }
    for (; o < p->o; ++o) {
      const int8_t *xr = xt + o / mult, *wr = wt + o;
      int32_t acc = p->bias[o];
      for (r = p0; r < p1; ++r, xr += xrow, wr += wrow) {
        const int8_t *xs = xr, *ws = wr;
        for (s = q0; s < q1; ++s, xs += xstep, ws += p->o)
          acc += ((int32_t)*xs + xoff) * (int32_t)*ws;
      }
      store_dw(p, yo, o, acc);
    }
  }
}

void lowbit_mcu_depthwise_s8(const lowbit_mcu_conv_t *p, const int8_t *x,
                             int8_t *y) {
  int32_t b, i;
  for (b = 0; b < p->n; ++b)
    for (i = 0; i < p->oh; ++i)
      depthwise_row(p, x, y + (b * p->oh + i) * p->ow * p->o, b, i, NULL);
}

/* In place: output row i is computed into a ring of pad_top + 1 rows and
   written over input row i - pad_top once no later output row reads that
   input row (stride 1: output row i reads input rows from i - pad_top). */
void lowbit_mcu_conv_inplace_s8(const lowbit_mcu_conv_t *p, int8_t *xy,
                                int8_t *patch, int8_t *ring, int depthwise) {
  const int32_t rowb = p->ow * p->o, lag = p->pad_top, slots = lag + 1;
  int32_t b, i, k;
  for (b = 0; b < p->n; ++b) {
    int8_t *img = xy + b * p->oh * rowb;
    for (i = 0; i < p->oh; ++i) {
      int8_t *dst = ring + (i % slots) * rowb;
      if (depthwise)
        depthwise_row(p, xy, dst, b, i, NULL);
      else
        conv_row(p, xy, dst, b, i, patch);
      if (i - lag >= 0)
        lowbit_mcu_copy(rowb, ring + ((i - lag) % slots) * rowb,
                        img + (i - lag) * rowb);
    }
    for (k = p->oh - lag < 0 ? 0 : p->oh - lag; k < p->oh; ++k)
      lowbit_mcu_copy(rowb, ring + (k % slots) * rowb, img + k * rowb);
  }
}

LOWBIT_MCU_INLINE void store_fc(const lowbit_mcu_fc_t *p, int8_t *y, int32_t col,
                     int32_t acc) {
  y[col] = saturate32(p->out_zero_point +
                        LOWBIT_MCU_REQUANT(p, acc, p->multiplier[col], p->shift[col]),
                    p->clamp_min, p->clamp_max);
}

/* Output rows y0 (and y1 when x1 is not NULL) of a matrix product. */
static void fc_rows(const lowbit_mcu_fc_t *p, const int8_t *x0,
                    const int8_t *x1, int8_t *y0, int8_t *y1) {
  const int32_t k = p->k;
  int32_t col;
  if (x1) { /* two rows x two columns at a time */
    for (col = 0; col + 1 < p->n; col += 2) {
      int32_t acc[4];
      acc[0] = acc[2] = p->bias[col];
      acc[1] = acc[3] = p->bias[col + 1];
      dot22_s8(x0, x1, p->weight + col * k, p->weight + (col + 1) * k, k,
               acc);
      store_fc(p, y0, col, acc[0]);
      store_fc(p, y0, col + 1, acc[1]);
      store_fc(p, y1, col, acc[2]);
      store_fc(p, y1, col + 1, acc[3]);
    }
    if (col < p->n) {
      store_fc(p, y0, col, dot_s8(x0, p->weight + col * k, k, 0, p->bias[col]));
      store_fc(p, y1, col, dot_s8(x1, p->weight + col * k, k, 0, p->bias[col]));
    }
    return;
  }
  for (col = 0; col + 1 < p->n; col += 2) {
    int32_t a0 = p->bias[col], a1 = p->bias[col + 1];
    dot2_s8(x0, p->weight + col * k, p->weight + (col + 1) * k, k, &a0, &a1);
    store_fc(p, y0, col, a0);
    store_fc(p, y0, col + 1, a1);
  }
  if (col < p->n)
    store_fc(p, y0, col, dot_s8(x0, p->weight + col * k, k, 0, p->bias[col]));
}

void lowbit_mcu_fc_s8(const lowbit_mcu_fc_t *p, const int8_t *x, int8_t *y) {
  int32_t r = 0;
  for (; r + 1 < p->m; r += 2)
    fc_rows(p, x + r * p->k, x + (r + 1) * p->k, y + r * p->n,
            y + (r + 1) * p->n);
  if (r < p->m)
    fc_rows(p, x + r * p->k, NULL, y + r * p->n, NULL);
}

/* k == n: each pair of output rows goes to `tmp` (2 * n bytes), then over
   the two input rows it was computed from, which nothing reads again. */
void lowbit_mcu_fc_inplace_s8(const lowbit_mcu_fc_t *p, int8_t *xy,
                              int8_t *tmp) {
  int32_t r = 0;
  for (; r + 1 < p->m; r += 2) {
    fc_rows(p, xy + r * p->k, xy + (r + 1) * p->k, tmp, tmp + p->n);
    lowbit_mcu_copy(2 * p->n, tmp, xy + r * p->n);
  }
  if (r < p->m) {
    fc_rows(p, xy + r * p->k, NULL, tmp, NULL);
    lowbit_mcu_copy(p->n, tmp, xy + r * p->n);
  }
}

void lowbit_mcu_add_s8(const lowbit_mcu_add_t *p, const int8_t *a,
                       const int8_t *b, int8_t *y) {
  int32_t i;
  for (i = 0; i < p->count; ++i) {
    int64_t sum = (int64_t)p->lhs_multiplier * (a[i] - p->lhs_zero_point) +
                  (int64_t)p->rhs_multiplier * (b[i] - p->rhs_zero_point);
    y[i] = saturate(p->out_zero_point + requant(sum, 1, p->shift),
                    p->clamp_min, p->clamp_max);
  }
}

void lowbit_mcu_pool_s8(const lowbit_mcu_pool_t *p, const int8_t *x,
                        int8_t *y) {
  int32_t b, c, i, j, r, s;
  for (b = 0; b < p->n; ++b)
    for (i = 0; i < p->oh; ++i)
      for (j = 0; j < p->ow; ++j) {
        const int32_t r0 = i * p->stride_h - p->pad_top;
        const int32_t s0 = j * p->stride_w - p->pad_left;
        int8_t *yo = y + ((b * p->oh + i) * p->ow + j) * p->c;
        /* Elements of the window inside the input, and the padding that
           counts (inside the explicit pads) as real zeros. */
        int32_t rlo = r0 < 0 ? 0 : r0, shi = s0 + p->kw, slo = s0 < 0 ? 0 : s0;
        int32_t rhi = r0 + p->kh, cnt, padded;
        int32_t prhi = rhi < p->h + p->pad_bottom ? rhi : p->h + p->pad_bottom;
        int32_t pshi = shi < p->w + p->pad_right ? shi : p->w + p->pad_right;
        rhi = rhi < p->h ? rhi : p->h;
        shi = shi < p->w ? shi : p->w;
        cnt = (rhi - rlo) * (shi - slo);
        padded = p->count_include_pad ? (prhi - r0) * (pshi - s0) - cnt : 0;
        for (c = 0; c < p->c; ++c) {
          int32_t best = -128, sum = 0;
          for (r = rlo; r < rhi; ++r)
            for (s = slo; s < shi; ++s) {
              const int32_t v =
                  x[((b * p->h + r) * p->w + s) * p->c + c];
              best = v > best ? v : best;
              sum += v;
            }
          if (p->is_max) {
            yo[c] = saturate(best, p->clamp_min, p->clamp_max);
          } else {
            const int32_t n = cnt + padded;
            const int64_t num =
                (int64_t)p->multiplier *
                ((int64_t)sum + (int64_t)padded * p->in_zero_point -
                 (int64_t)n * p->in_zero_point);
            yo[c] = saturate(p->out_zero_point +
                                 div_round(num, (int64_t)(n > 0 ? n : 1)
                                                    << p->shift),
                             p->clamp_min, p->clamp_max);
          }
        }
      }
}

void lowbit_mcu_lut_s8(int32_t count, const int8_t *table, const int8_t *x,
                       int8_t *y) {
  int32_t i;
  for (i = 0; i < count; ++i)
    y[i] = table[(int32_t)x[i] + 128];
}

void lowbit_mcu_softmax_s8(const lowbit_mcu_softmax_t *p, const int8_t *x,
                           int8_t *y) {
  int32_t r, i;
  for (r = 0; r < p->rows; ++r) {
    const int8_t *xr = x + r * p->row;
    int8_t *yr = y + r * p->row;
    int32_t mx = -128;
    int64_t sum = 0, den;
    for (i = 0; i < p->row; ++i)
      mx = xr[i] > mx ? xr[i] : mx;
    for (i = 0; i < p->row; ++i)
      sum += p->table[mx - xr[i]];
    den = sum << p->shift;
    for (i = 0; i < p->row; ++i)
      yr[i] = saturate(p->out_zero_point +
                           div_round((int64_t)p->table[mx - xr[i]] *
                                         p->multiplier,
                                     den),
                       p->clamp_min, p->clamp_max);
  }
}

void lowbit_mcu_transpose_s8(const lowbit_mcu_transpose_t *p, const int8_t *x,
                             int8_t *y) {
  int32_t in_stride[6], out_shape[6], idx[6] = {0, 0, 0, 0, 0, 0};
  int32_t d, total = 1, k;
  for (d = p->rank - 1, k = 1; d >= 0; --d) {
    in_stride[d] = k;
    k *= p->shape[d];
  }
  for (d = 0; d < p->rank; ++d) {
    out_shape[d] = p->shape[p->perm[d]];
    total *= out_shape[d];
  }
  for (k = 0; k < total; ++k) {
    int32_t off = 0;
    for (d = 0; d < p->rank; ++d)
      off += idx[d] * in_stride[p->perm[d]];
    y[k] = x[off];
    for (d = p->rank - 1; d >= 0; --d) { /* next output index */
      if (++idx[d] < out_shape[d])
        break;
      idx[d] = 0;
    }
  }
}

void lowbit_mcu_copy(int32_t bytes, const void *x, void *y) {
  const uint8_t *s = (const uint8_t *)x;
  uint8_t *t = (uint8_t *)y;
  int32_t i;
  if (s == t)
    return;
  for (i = 0; i < bytes; ++i)
    t[i] = s[i];
}
