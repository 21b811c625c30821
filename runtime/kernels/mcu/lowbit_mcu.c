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

/* round(v * m / 2^s), ties away from zero. */
static int64_t requant(int64_t v, int32_t m, int32_t s) {
  int64_t prod = v * (int64_t)m;
  int64_t half;
  if (s == 0)
    return prod;
  half = (int64_t)1 << (s - 1);
  return prod >= 0 ? (prod + half) >> s : -((-prod + half) >> s);
}

/* round(n / d), ties away from zero; d > 0. */
static int64_t div_round(int64_t n, int64_t d) {
  return n >= 0 ? (n + d / 2) / d : -((-n + d / 2) / d);
}

static int8_t saturate(int64_t v, int32_t lo, int32_t hi) {
  return (int8_t)(v < lo ? lo : v > hi ? hi : v);
}

void lowbit_mcu_conv_s8(const lowbit_mcu_conv_t *p, const int8_t *x,
                        int8_t *y) {
  const int32_t cg = p->c / p->groups, og = p->o / p->groups;
  const int32_t plane = p->h * p->w, taps = cg * p->kh * p->kw;
  int32_t b, oc, i, j, ci, r, s;
  for (b = 0; b < p->n; ++b)
    for (oc = 0; oc < p->o; ++oc) {
      const int8_t *xg = x + ((int64_t)b * p->c + (oc / og) * cg) * plane;
      const int8_t *wo = p->weight + (int64_t)oc * taps;
      int8_t *yo = y + ((int64_t)b * p->o + oc) * p->oh * p->ow;
      for (i = 0; i < p->oh; ++i) {
        const int32_t r0 = i * p->stride_h - p->pad_top;
        /* The kernel rows inside the input: no bounds checks below. */
        int32_t p0 = 0, p1 = p->kh;
        while (p0 < p1 && r0 + p0 * p->dil_h < 0)
          ++p0;
        while (p1 > p0 && r0 + (p1 - 1) * p->dil_h >= p->h)
          --p1;
        for (j = 0; j < p->ow; ++j) {
          const int32_t s0 = j * p->stride_w - p->pad_left;
          int32_t q0 = 0, q1 = p->kw;
          int32_t acc = p->bias[oc];
          while (q0 < q1 && s0 + q0 * p->dil_w < 0)
            ++q0;
          while (q1 > q0 && s0 + (q1 - 1) * p->dil_w >= p->w)
            --q1;
          for (ci = 0; ci < cg; ++ci) {
            const int8_t *xc = xg + ci * plane;
            const int8_t *wc = wo + ci * p->kh * p->kw;
            for (r = p0; r < p1; ++r) {
              const int8_t *xr = xc + (r0 + r * p->dil_h) * p->w + s0;
              const int8_t *wr = wc + r * p->kw;
              for (s = q0; s < q1; ++s)
                acc += ((int32_t)xr[s * p->dil_w] - p->in_zero_point) *
                       (int32_t)wr[s];
            }
          }
          yo[i * p->ow + j] = saturate(
              p->out_zero_point + requant(acc, p->multiplier[oc], p->shift[oc]),
              p->clamp_min, p->clamp_max);
        }
      }
    }
}

void lowbit_mcu_fc_s8(const lowbit_mcu_fc_t *p, const int8_t *x, int8_t *y) {
  int32_t r, col, i;
  for (r = 0; r < p->m; ++r) {
    const int8_t *xr = x + (int64_t)r * p->k;
    for (col = 0; col < p->n; ++col) {
      const int8_t *wc = p->weight + (int64_t)col * p->k;
      int32_t acc = p->bias[col];
      for (i = 0; i < p->k; ++i)
        acc += ((int32_t)xr[i] - p->in_zero_point) * (int32_t)wc[i];
      y[(int64_t)r * p->n + col] = saturate(
          p->out_zero_point + requant(acc, p->multiplier[col], p->shift[col]),
          p->clamp_min, p->clamp_max);
    }
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
  int32_t c, i, j, r, s;
  for (c = 0; c < p->planes; ++c) {
    const int8_t *xc = x + (int64_t)c * p->h * p->w;
    int8_t *yc = y + (int64_t)c * p->oh * p->ow;
    for (i = 0; i < p->oh; ++i)
      for (j = 0; j < p->ow; ++j) {
        const int32_t r0 = i * p->stride_h - p->pad_top;
        const int32_t s0 = j * p->stride_w - p->pad_left;
        int32_t best = -128, sum = 0, cnt = 0;
        for (r = r0; r < r0 + p->kh; ++r)
          for (s = s0; s < s0 + p->kw; ++s) {
            int32_t v;
            if (r < 0 || r >= p->h || s < 0 || s >= p->w) {
              /* Padding inside the explicit pads counts as a real 0. */
              if (!p->is_max && p->count_include_pad &&
                  r < p->h + p->pad_bottom && s < p->w + p->pad_right) {
                sum += p->in_zero_point;
                ++cnt;
              }
              continue;
            }
            v = xc[r * p->w + s];
            best = v > best ? v : best;
            sum += v;
            ++cnt;
          }
        if (p->is_max) {
          yc[i * p->ow + j] = saturate(best, p->clamp_min, p->clamp_max);
        } else {
          int64_t num = (int64_t)p->multiplier *
                        ((int64_t)sum - (int64_t)cnt * p->in_zero_point);
          yc[i * p->ow + j] = saturate(
              p->out_zero_point +
                  div_round(num, (int64_t)(cnt > 0 ? cnt : 1) << p->shift),
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
    const int8_t *xr = x + (int64_t)r * p->row;
    int8_t *yr = y + (int64_t)r * p->row;
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
