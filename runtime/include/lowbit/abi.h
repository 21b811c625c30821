// lowbit/abi.h - the contract between generated code and the runtime.
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
// `lowbit compile` emits C that includes only this header. The generated
// code owns the model's control flow and its fused elementwise loops; heavy
// work goes through the kernels declared here. Any change to a struct or a
// kernel signature bumps LOWBIT_RUNTIME_ABI_VERSION.
//
// Weight layouts (the `layout` string of a package weight):
//   "f32"          dense row-major floats, as in the IR
//   "f32-panel16"  a [N, K] linear weight as ceil(N/16) panels, each K rows
//                  of 16 floats (k-major inside a panel, zero-padded in N):
//                  the B operand of lowbit_k_sgemm_packed
//   "s8-panel16x4" a [N, K] int8 weight as ceil(N/16) panels, each
//                  ceil(K/4) blocks of 16 columns x 4 consecutive k (64
//                  bytes, zero-padded): the layout VNNI's vpdpbusd reads
//   "s4-panel16"   a [N, K] int4 weight (values -8..7) as ceil(N/16) panels,
//                  each K rows of 16 nibbles (8 bytes, column j in the low
//                  nibble of byte j/2 when j is even), with f32 scales per
//                  (column, group of G consecutive k)
//   "s8-panel16"   a [N, K] int8 weight as ceil(N/16) panels, each K rows
//                  of 16 bytes, with f32 scales as for "s4-panel16"
//   "sB-panel16"   B = 2, 3, 5, 6, 7: each row of a panel holds 16 B-bit
//                  two's-complement codes in 2 * B bytes, least
//                  significant bit first (so s4 is the B = 4 case)
#ifndef LOWBIT_ABI_H_
#define LOWBIT_ABI_H_

#include "lowbit/runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

// CPU feature bits (lowbit_options_t.cpu_features, lowbit_exec_t).
#define LOWBIT_CPU_AVX2 (1u << 0)      // AVX2 + FMA
#define LOWBIT_CPU_AVX512 (1u << 1)    // AVX-512 F/BW/DQ/VL
#define LOWBIT_CPU_AVX512VNNI (1u << 2)
#define LOWBIT_CPU_AVXVNNI (1u << 3)
// Reference kernels only (tests and oracles).
#define LOWBIT_CPU_REFERENCE (1u << 31)

// The width of a packed weight panel.
#define LOWBIT_PANEL 16
// Kernels that give each thread its own scratch slice plan for this many.
#define LOWBIT_MAX_THREADS 8

typedef struct lowbit_threadpool_t lowbit_threadpool_t;

// What generated code receives for one run.
typedef struct lowbit_exec_t {
  uint8_t *arena;             // activations at compile-time offsets
  const uint8_t *weights;     // the package's weight blob (64-byte aligned)
  lowbit_threadpool_t *pool;  // NULL: run on the calling thread
  uint32_t cpu;               // LOWBIT_CPU_* bits in use
  char *error;                // NULL, or where a failing run says why
  size_t error_size;
  uint32_t adapter;           // 0: no LoRA adapter; i + 1: adapters[i]
} lowbit_exec_t;

// For generated code: records |message| as the run's error (when the
// session gave a buffer) and returns |status|.
lowbit_status_t lowbit_exec_fail(const lowbit_exec_t *exec,
                                 lowbit_status_t status, const char *message);

typedef struct lowbit_tensor_desc_t {
  const char *name;
  int32_t dtype;              // lowbit_dtype_t
  int32_t rank;
  const int64_t *shape;
} lowbit_tensor_desc_t;

// Emitted once per model as `const lowbit_model_code_t lowbit_model_<name>`.
struct lowbit_model_code_t {
  uint32_t abi_version;       // LOWBIT_RUNTIME_ABI_VERSION
  const char *name;
  uint64_t arena_size;        // bytes
  uint32_t weights_crc32;     // must equal the package's
  uint32_t num_inputs;
  uint32_t num_outputs;
  const lowbit_tensor_desc_t *inputs;
  const lowbit_tensor_desc_t *outputs;
  lowbit_status_t (*run)(const lowbit_exec_t *exec, const void *const *inputs,
                         void *const *outputs);
  // Switchable LoRA adapters kept as branches (lowbit compile --lora
  // NAME=PATH --lora-mode branch): generated code adds adapter i's branches
  // while exec->adapter == i + 1.
  uint32_t num_adapters;
  const char *const *adapters;
};

//===----------------------------------------------------------------------===//
// Kernels
//===----------------------------------------------------------------------===//

// Runs fn(ctx, begin, end) over contiguous chunks of [0, n) on the
// session's threads (the caller takes the first chunk); generated code uses
// it for large fused elementwise loops.
void lowbit_k_parallel_for(const lowbit_exec_t *exec, int64_t n,
                           void (*fn)(void *ctx, int64_t begin, int64_t end),
                           void *ctx);

// Activation fused into a GEMM epilogue.
enum { LOWBIT_ACT_NONE = 0, LOWBIT_ACT_RELU = 1 };

// For tools that time kernels outside a session (the compiler's latency
// cost model): CPU features of this machine (LOWBIT_CPU_* bits) and a
// thread pool of |num_threads| workers (0 = one per core) for
// lowbit_exec_t.pool.
uint32_t lowbit_cpu_detect(void);
lowbit_status_t lowbit_threadpool_create(int num_threads,
                                         lowbit_threadpool_t **out_pool);
void lowbit_threadpool_destroy(lowbit_threadpool_t *pool);

// Weight-only quantized operand: codes in "sB-panel16" (bits = B, 2..8),
// f32 scales laid out [ceil(N/16) panels][ceil(K/group) groups][16]; a
// weight with one scale per output channel has group = K. |lut| NULL: the
// codes are two's complement integers; else code c (unsigned) stands for
// lut[c] (2^B entries: the nf4 levels, fp4/fp8 values, or the integer
// values of an affine format), times its scale. |zero_points| (affine
// weights, with a |lut|; same layout as |scales|) makes it
// (lut[c] - zero_point) * scale.
typedef struct lowbit_qweight_t {
  const uint8_t *data;
  const float *scales;
  int64_t group;
  int32_t bits;
  const float *lut;
  const float *zero_points;
} lowbit_qweight_t;

// A high-precision low-rank branch beside a layer's weight: the layer
// computes x·Wᵀ + (x·Rᵀ)·Lᵀ without forming W + L·R. R is [rank, K] and L
// is [N, rank], each either f32 in "f32-panel16" (|right|, |left|) or
// quantized (|right_q|, |left_q|; the other pointer NULL). |xr| is scratch
// for x·Rᵀ: M * rank floats. rank <= LOWBIT_LOWRANK_MAX.
#define LOWBIT_LOWRANK_MAX 256
typedef struct lowbit_lowrank_t {
  int64_t rank;
  const float *right;
  const lowbit_qweight_t *right_q;
  const float *left;
  const lowbit_qweight_t *left_q;
  float *xr;
} lowbit_lowrank_t;

// C[m, n] = act(sum_k A[m, k] * W[n, k] + bias[n]) with W in "f32-panel16"
// layout. A is row-major with leading dimension |lda|; C element (m, n) is
// at C[m * ldc_m + n * ldc_n]. |bias| may be NULL. Parallel over the pool.
void lowbit_k_sgemm_packed(const lowbit_exec_t *exec, int64_t m, int64_t n,
                           int64_t k, const float *a, int64_t lda,
                           const float *w_packed, const float *bias, float *c,
                           int64_t ldc_m, int64_t ldc_n, int act);

// C[m, n] = act(x·Wᵀ + (x·Rᵀ)·Lᵀ + bias) for a weight W given as f32
// panels (|w_packed|) or quantized (|wq|, the other NULL) with the low-rank
// branch |lr| (see lowbit_lowrank_t; NULL or rank 0: no branch). The branch
// is added in the GEMM's epilogue, so C is written once; x·Rᵀ is one small
// GEMM before it.
void lowbit_k_sgemm_lowrank(const lowbit_exec_t *exec, int64_t m, int64_t n,
                            int64_t k, const float *a, int64_t lda,
                            const float *w_packed, const lowbit_qweight_t *wq,
                            const lowbit_lowrank_t *lr, const float *bias,
                            float *c, int64_t ldc, int act);

// Bytes of scratch lowbit_k_sgemm needs to pack a [K, N] operand.
int64_t lowbit_k_sgemm_scratch(int64_t n, int64_t k);

// Batched C[b] = A[b] · B[b] for activations: A [M, K] with row stride
// |a_rs| (unit column stride), B [K, N] with strides (b_rs, b_cs), C dense
// [M, N]. Item i starts at a + a_off[i], b + b_off[i], c + i * c_bs; a NULL
// offset table means i * a_bs (resp. i * b_bs). Strided operands let the
// compiler fold a Transpose into the product. B is packed into |scratch|
// (LOWBIT_MAX_THREADS * lowbit_k_sgemm_scratch(n, k) bytes: one slice per
// thread, as batch items run in parallel).
void lowbit_k_sgemm_batched(const lowbit_exec_t *exec, int64_t batch,
                            int64_t m, int64_t n, int64_t k, const float *a,
                            const int64_t *a_off, int64_t a_bs, int64_t a_rs,
                            const float *b, const int64_t *b_off, int64_t b_bs,
                            int64_t b_rs, int64_t b_cs, float *c, int64_t c_bs,
                            float *scratch);

// 2-D convolution, NCHW input [n, c, h, w], weight packed as "f32-panel16"
// of the [O, C/g * kh * kw] matrix per group (groups stacked), output
// [n, O, oh, ow]. |scratch| holds one group's patches:
// lowbit_k_conv2d_scratch(...) bytes.
typedef struct lowbit_conv2d_params_t {
  int64_t n, c, h, w, o, oh, ow, kh, kw;
  int64_t stride_h, stride_w, pad_t, pad_l, dil_h, dil_w, groups;
  int act;
} lowbit_conv2d_params_t;
int64_t lowbit_k_conv2d_scratch(const lowbit_conv2d_params_t *p);
void lowbit_k_conv2d(const lowbit_exec_t *exec, const lowbit_conv2d_params_t *p,
                     const float *x, const float *w_packed, const float *bias,
                     float *y, float *scratch);
// The same convolution with a quantized weight (per group, the [O/g, C/g *
// kh * kw] matrix in whole panels, groups stacked; one scale per channel).
void lowbit_k_conv2d_wq(const lowbit_exec_t *exec,
                        const lowbit_conv2d_params_t *p, const float *x,
                        const lowbit_qweight_t *w, const float *bias, float *y,
                        float *scratch);

// y[i] = saturate_u8(round_half_even(x[i] / scale) + zero_point) in f32
// (ONNX QuantizeLinear; the interpreter's lowbit.quantize); parallel over
// the pool.
void lowbit_k_quantize_u8(const lowbit_exec_t *exec, int64_t n,
                          const float *x, float scale, int32_t zero_point,
                          uint8_t *y);

// Depthwise convolution (groups == C == O, one filter per channel), direct:
// weights f32 [C][kh * kw] in |w|, or |wq| quantized in "FORMAT-rows" (one
// row of kh * kw codes per channel, see lowbit_k_gather_rows_q); the other
// is NULL. kh * kw <= LOWBIT_DEPTHWISE_MAX_TAPS. Parallel over planes.
#define LOWBIT_DEPTHWISE_MAX_TAPS 1024
void lowbit_k_depthwise2d(const lowbit_exec_t *exec,
                          const lowbit_conv2d_params_t *p, const float *x,
                          const float *w, const lowbit_qweight_t *wq,
                          const float *bias, float *y);

// The convolution with u8 activations (|zp_x|, |scale_x|: the input's
// quantization) and int8 weights: per group, the [O/g, C/g * kh * kw]
// matrix in "s8-panel16x4" (whole panels, groups stacked) with its column
// sums and per-channel scales laid out the same way. Padding is the zero
// point, so the result equals the float convolution of the dequantized
// input. |scratch|: lowbit_k_conv2d_scratch(p) bytes.
void lowbit_k_conv2d_u8s8(const lowbit_exec_t *exec,
                          const lowbit_conv2d_params_t *p, const uint8_t *x,
                          int32_t zp_x, float scale_x, const int8_t *w_packed,
                          const int32_t *w_colsum, const float *scale_w,
                          const float *bias, float *y, float *scratch);

// Int8 GEMM: C[m, n] = scale_a * scale_w[n] * sum_k (A[m, k] - zp_a) *
// W[n, k] + bias[n] (float out, row stride ldc) with u8 activations, s8
// weights in "s8-panel16x4" and |w_colsum[n]| = sum_k W[n, k] precomputed
// at compile time. Exact int32 accumulation: AVX-512 VNNI, AVX2 (widening
// to 16 bits) or reference, by exec->cpu. |a| rows are K bytes apart.
void lowbit_k_qgemm_u8s8(const lowbit_exec_t *exec, int64_t m, int64_t n,
                         int64_t k, const uint8_t *a, int32_t zp_a,
                         float scale_a, const int8_t *w_packed,
                         const int32_t *w_colsum, const float *scale_w,
                         const float *bias, float *c, int64_t ldc);

// C = act(A · Wᵀ + bias) with quantized W: each block of W is decoded to
// f32 right before the f32 micro-kernels use it (same blocking, threading
// and epilogue as lowbit_k_sgemm_packed; C has row stride |ldc|).
void lowbit_k_sgemm_wq(const lowbit_exec_t *exec, int64_t m, int64_t n,
                       int64_t k, const float *a, int64_t lda,
                       const lowbit_qweight_t *w, const float *bias, float *c,
                       int64_t ldc, int act);

// Int4 weight-only GEMM: C[m, n] = sum_k A[m, k] * W[n, k] * scale[n, k / g]
// + bias[n], f32 activations, W in "s4-panel16" with |scales| laid out
// [ceil(N/16) panels][ceil(K/g) groups][16]. Unpacks nibbles in registers.
void lowbit_k_sgemm_s4(const lowbit_exec_t *exec, int64_t m, int64_t n,
                       int64_t k, const float *a, int64_t lda,
                       const uint8_t *w_packed, const float *scales,
                       int64_t group, const float *bias, float *c,
                       int64_t ldc);

// Pooling over NCHW (kind 0 = max, 1 = average excluding padding,
// 2 = average including padding).
typedef struct lowbit_pool2d_params_t {
  int64_t nc, h, w, oh, ow, kh, kw, stride_h, stride_w, pad_t, pad_l, pad_b,
      pad_r, dil_h, dil_w;
  int kind;
} lowbit_pool2d_params_t;
void lowbit_k_pool2d(const lowbit_exec_t *exec, const lowbit_pool2d_params_t *p,
                     const float *x, float *y);

// Softmax (kind 0), log-softmax (1) over the middle axis of [outer, len,
// inner].
void lowbit_k_softmax(const lowbit_exec_t *exec, int64_t outer, int64_t len,
                      int64_t inner, const float *x, float *y, int kind);

// Layer normalization of rows of length |len|; scale/bias have |len| values
// (bias may be NULL).
void lowbit_k_layernorm(const lowbit_exec_t *exec, int64_t rows, int64_t len,
                        const float *x, const float *scale, const float *bias,
                        float epsilon, float *y);

// Row gather: y[i] = table[index[i]] for rows of |row_bytes| bytes; indices
// are int64, negative counts from the end. Returns LOWBIT_INVALID_ARGUMENT
// on an index out of range.
lowbit_status_t lowbit_k_gather_rows(int64_t rows, int64_t row_bytes,
                                     const void *table, int64_t n,
                                     const int64_t *index, void *y);

// Row gather from a quantized table [rows, cols] in "FORMAT-rows": row r's
// codes (q->bits each, least significant bit first) fill
// ceil(cols * bits / 8) bytes; scales (and zero points) are [rows][groups]
// with q->group elements per group; q->lut gives every code's value, so
// y[i, j] = (lut[code] - zero_point) * scale. Same index rules as
// lowbit_k_gather_rows.
lowbit_status_t lowbit_k_gather_rows_q(int64_t rows, int64_t cols,
                                       const lowbit_qweight_t *q, int64_t n,
                                       const int64_t *index, float *y);

#ifdef __cplusplus
} // extern "C"
#endif

#endif // LOWBIT_ABI_H_
