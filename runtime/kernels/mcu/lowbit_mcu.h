/*===- lowbit_mcu.h - integer kernels for microcontrollers ----------------===*
 *
 * SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
 *
 *===----------------------------------------------------------------------===*
 *
 * Plain C99 for any 32-bit MCU: no heap, no libm, no floating point, no OS.
 * Every kernel computes exactly the formula of its lowbit op
 * (dialects/include/lowbit/Dialect/Lowbit/LowbitOps.td, "Integer-only
 * layers"); the interpreter is the oracle and the tests compare bit for
 * bit. 4-D activations are int8 codes in NHWC order (channels innermost, so
 * every dot product runs over contiguous bytes); weights are int8
 * (symmetric): OHWI for convolutions, HWO for depthwise, [O][C] for
 * pointwise and fully connected layers; the bias is int32 and the
 * requantization one (multiplier, shift) per channel:
 * y = clamp(zy + round(acc * m / 2^s)), ties away from zero.
 *
 * On cores with the DSP extension (__ARM_FEATURE_DSP: Cortex-M4/M7/M33/M55)
 * the dot products take four bytes at a time and run two multiply-adds per
 * SMLAD on sign-extended halfword pairs (SXTB16 / SXTAB16, the latter adding
 * the input offset); elsewhere, or with LOWBIT_MCU_PORTABLE, plain C.
 *
 * `lowbit compile --target mcu` copies this file and lowbit_mcu.c into its
 * output folder, so the generated model builds with nothing else.
 *
 *===----------------------------------------------------------------------===*/

#ifndef LOWBIT_MCU_H
#define LOWBIT_MCU_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Convolution, NHWC in and out. groups == 1: weight OHWI; groups == c
 * (depthwise, o = c * multiplier): weight HWO. */
typedef struct {
  int32_t n, c, h, w;        /* input */
  int32_t o, kh, kw;         /* weight: o x kh x kw x (c / groups) */
  int32_t oh, ow;            /* output */
  int32_t stride_h, stride_w, pad_top, pad_left, dil_h, dil_w, groups;
  int32_t in_zero_point, out_zero_point, clamp_min, clamp_max;
  const int8_t *weight;
  const int32_t *bias, *multiplier, *shift;
  /* 0: round(acc * m / 2^s) half away from zero; 1: TFLite's doubling
     high multiply then rounding shift (equal to TensorFlow Lite Micro). */
  int32_t tflite_rounding;
} lowbit_mcu_conv_t;

/* Fully connected and 1x1 convolution (NHWC pixels are rows):
 * y[m][n] = requant(bias[n] + sum_k x[m][k] * w[n][k]). The input's zero
 * point is folded into `bias` at compile time (bias - zx * sum_k w[n][k]). */
typedef struct {
  int32_t m, k, n; /* [m, k] x [n, k] */
  int32_t out_zero_point, clamp_min, clamp_max;
  const int8_t *weight;
  const int32_t *bias, *multiplier, *shift;
  int32_t tflite_rounding; /* as in lowbit_mcu_conv_t */
} lowbit_mcu_fc_t;

typedef struct {
  int32_t count;
  int32_t lhs_zero_point, rhs_zero_point, out_zero_point;
  int32_t lhs_multiplier, rhs_multiplier, shift, clamp_min, clamp_max;
} lowbit_mcu_add_t;

/* Pooling, NHWC in and out. */
typedef struct {
  int32_t n, c, h, w, oh, ow;
  int32_t kh, kw, stride_h, stride_w, pad_top, pad_left, pad_bottom,
      pad_right;
  int32_t is_max, count_include_pad;
  int32_t in_zero_point, out_zero_point, multiplier, shift, clamp_min,
      clamp_max;
} lowbit_mcu_pool_t;

typedef struct {
  int32_t rows, row;  /* rows of `row` codes, softmax along each */
  int32_t out_zero_point, multiplier, shift, clamp_min, clamp_max;
  const int32_t *table; /* 256: round(2^20 * exp(-beta * sx * d)) */
} lowbit_mcu_softmax_t;

typedef struct {
  int32_t rank;
  int32_t shape[6]; /* input shape */
  int32_t perm[6];  /* output dim i = input dim perm[i] */
} lowbit_mcu_transpose_t;

/* With `patch` (groups == 1; kh * kw * c bytes of scratch) the window is
 * gathered once per output pixel and `bias` must hold the input zero point
 * folded in (bias - zx * sum of the channel's weights); without it
 * (grouped convolutions) `bias` is the layer's own. */
void lowbit_mcu_conv_s8(const lowbit_mcu_conv_t *p, const int8_t *x,
                        int8_t *y, int8_t *patch);
void lowbit_mcu_depthwise_s8(const lowbit_mcu_conv_t *p, const int8_t *x,
                             int8_t *y);
/* A stride-1 convolution (depthwise != 0: the depthwise kernel) whose
 * output has the input's shape, computed over its input: `ring` holds
 * (pad_top + 1) output rows (ow * o bytes each) until the input rows they
 * replace are no longer read. Saves the whole output buffer. */
void lowbit_mcu_conv_inplace_s8(const lowbit_mcu_conv_t *p, int8_t *xy,
                                int8_t *patch, int8_t *ring, int depthwise);
void lowbit_mcu_fc_s8(const lowbit_mcu_fc_t *p, const int8_t *x, int8_t *y);
/* The same with k == n over its input (a 1x1 convolution keeping the
 * channel count); `tmp` holds 2 * n bytes. */
void lowbit_mcu_fc_inplace_s8(const lowbit_mcu_fc_t *p, int8_t *xy,
                              int8_t *tmp);
/* y may be a or b (each element is read before it is written). */
void lowbit_mcu_add_s8(const lowbit_mcu_add_t *p, const int8_t *a,
                       const int8_t *b, int8_t *y);
void lowbit_mcu_pool_s8(const lowbit_mcu_pool_t *p, const int8_t *x,
                        int8_t *y);
/* y[i] = table[x[i] + 128]; in place when y == x. */
void lowbit_mcu_lut_s8(int32_t count, const int8_t *table, const int8_t *x,
                       int8_t *y);
void lowbit_mcu_softmax_s8(const lowbit_mcu_softmax_t *p, const int8_t *x,
                           int8_t *y);
void lowbit_mcu_transpose_s8(const lowbit_mcu_transpose_t *p, const int8_t *x,
                             int8_t *y);
void lowbit_mcu_copy(int32_t bytes, const void *x, void *y);

#ifdef __cplusplus
}
#endif

#endif /* LOWBIT_MCU_H */
