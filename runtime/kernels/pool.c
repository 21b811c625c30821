// pool.c - max and average pooling.
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
// Not built with -ffast-math (unlike nn.c): each window is summed row by
// row in double and divided once, then rounded to float, like the
// interpreter, so the result is the same bit for bit on every kernel family
// and equal to the interpreter's. That matters in int8 models, where an
// average of integer codes often lands exactly on a rounding tie of the
// QuantizeLinear that follows: a float sum in another order flips it.
#include "../src/internal.h"

#include <float.h>

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

typedef struct pool_t {
  const lowbit_pool2d_params_t *p;
  const float *x;
  float *y;
} pool_t;

LOWBIT_ISA_BODY void pool_range(void *ctx, int64_t begin, int64_t end) {
  const pool_t *t = (const pool_t *)ctx;
  const lowbit_pool2d_params_t *p = t->p;
  for (int64_t plane = begin; plane < end; ++plane) {
    const float *x = t->x + plane * p->h * p->w;
    float *y = t->y + plane * p->oh * p->ow;
    for (int64_t oy = 0; oy < p->oh; ++oy)
      for (int64_t ox = 0; ox < p->ow; ++ox) {
        float mx = -FLT_MAX;
        double acc = 0.0;
        int64_t count = 0, padded = 0;
        for (int64_t ky = 0; ky < p->kh; ++ky) {
          int64_t iy = oy * p->stride_h - p->pad_t + ky * p->dil_h;
          for (int64_t kx = 0; kx < p->kw; ++kx) {
            int64_t ix = ox * p->stride_w - p->pad_l + kx * p->dil_w;
            if (iy >= -p->pad_t && iy < p->h + p->pad_b && ix >= -p->pad_l &&
                ix < p->w + p->pad_r)
              ++padded;
            if (iy < 0 || iy >= p->h || ix < 0 || ix >= p->w)
              continue;
            float v = x[iy * p->w + ix];
            ++count;
            if (p->kind == 0) // a NaN is the maximum, as in NumPy
              mx = v > mx || v != v ? v : mx;
            else
              acc += (double)v;
          }
        }
        if (p->kind == 0)
          y[oy * p->ow + ox] = mx;
        else
          y[oy * p->ow + ox] =
              (float)(acc / (double)(p->kind == 1 ? (count ? count : 1)
                                                  : (padded ? padded : 1)));
      }
  }
}

LOWBIT_ISA_RANGE(pool_range)

void lowbit_k_pool2d(const lowbit_exec_t *exec, const lowbit_pool2d_params_t *p,
                     const float *x, float *y) {
  pool_t t = {p, x, y};
  lowbit_range_fn fn = pool_range_for(exec->cpu);
  if (p->nc * p->oh * p->ow * p->kh * p->kw > 16384)
    lowbit_parallel_for(exec->pool, p->nc, fn, &t);
  else
    fn(&t, 0, p->nc);
}

