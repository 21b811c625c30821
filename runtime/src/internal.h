// internal.h - runtime internals shared by the sources (not installed).
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
#ifndef LOWBIT_RUNTIME_INTERNAL_H_
#define LOWBIT_RUNTIME_INTERNAL_H_

#include "lowbit/abi.h"

#include <stdint.h>

typedef void (*lowbit_range_fn)(void *ctx, int64_t begin, int64_t end);

// Loops built for AVX-512, AVX2 and baseline x86-64; the loader picks one
// per CPU (GCC function multiversioning). Only for loops whose result does
// not depend on the ISA (elementwise, no reassociation, no FMA contraction
// that changes a rounding): --cpu cannot reach them.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define LOWBIT_MULTIVERSION                                                    \
  __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define LOWBIT_MULTIVERSION
#endif

// The kernel family exec->cpu selects: what --cpu avx512|avx2|reference
// means for every dispatched kernel.
typedef enum lowbit_isa_t {
  LOWBIT_ISA_REFERENCE = 0,
  LOWBIT_ISA_AVX2 = 1,
  LOWBIT_ISA_AVX512 = 2,
} lowbit_isa_t;
static inline lowbit_isa_t lowbit_isa(uint32_t cpu) {
  if (cpu & LOWBIT_CPU_REFERENCE)
    return LOWBIT_ISA_REFERENCE;
  if (cpu & LOWBIT_CPU_AVX512)
    return LOWBIT_ISA_AVX512;
  if (cpu & LOWBIT_CPU_AVX2)
    return LOWBIT_ISA_AVX2;
  return LOWBIT_ISA_REFERENCE;
}

// Range loops whose floating-point result depends on the vector width
// (reductions, FMA contraction) are built once per ISA and chosen from
// exec->cpu, so that `--cpu reference` really runs baseline code and an
// AVX-512 machine also runs (and tests) the AVX2 build. Write the body as
//   LOWBIT_ISA_BODY void foo(void *ctx, int64_t begin, int64_t end)
// then LOWBIT_ISA_RANGE(foo) defines foo_for(cpu) -> lowbit_range_fn.
#define LOWBIT_ISA_BODY static inline __attribute__((always_inline))
#if defined(__x86_64__) && defined(__GNUC__)
#define LOWBIT_ISA_RANGE(name)                                                 \
  __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")))      \
  static void name##_avx512(void *c, int64_t b, int64_t e) { name(c, b, e); } \
  __attribute__((target("avx2,fma"))) static void name##_avx2(               \
      void *c, int64_t b, int64_t e) {                                         \
    name(c, b, e);                                                             \
  }                                                                            \
  static void name##_ref(void *c, int64_t b, int64_t e) { name(c, b, e); }    \
  static lowbit_range_fn name##_for(uint32_t cpu) {                            \
    switch (lowbit_isa(cpu)) {                                                 \
    case LOWBIT_ISA_AVX512: return name##_avx512;                              \
    case LOWBIT_ISA_AVX2: return name##_avx2;                                  \
    default: return name##_ref;                                                \
    }                                                                          \
  }
#else
#define LOWBIT_ISA_RANGE(name)                                                 \
  static void name##_ref(void *c, int64_t b, int64_t e) { name(c, b, e); }    \
  static lowbit_range_fn name##_for(uint32_t cpu) {                            \
    (void)cpu;                                                                 \
    return name##_ref;                                                         \
  }
#endif

// Splits [0, n) into one contiguous chunk per thread and calls
// fn(ctx, begin, end) for each, the calling thread taking the first chunk.
// Returns when every chunk is done. |pool| may be NULL (runs inline).
void lowbit_parallel_for(lowbit_threadpool_t *pool, int64_t n,
                         lowbit_range_fn fn, void *ctx);
int lowbit_threadpool_size(const lowbit_threadpool_t *pool);

// CRC-32 (IEEE 802.3, reflected, init/xorout 0xFFFFFFFF).
uint32_t lowbit_crc32(const void *data, size_t size);

// The verified parts of a package the session needs.
typedef struct lowbit_package_view_t {
  const uint8_t *weights;
  uint64_t weights_size;
  uint64_t arena_size;
} lowbit_package_view_t;
lowbit_status_t lowbit_package_open(const lowbit_model_code_t *code,
                                    const void *data, size_t size,
                                    lowbit_package_view_t *out, char *message,
                                    size_t message_size);

// Micro-kernels: acc[MR][16] (row-major, only mr rows used) =
// sum_k a[r * lda + k] * panel[k * 16 + j] for k in [0, kc).
typedef void (*lowbit_ukernel_fn)(int64_t mr, int64_t kc, const float *a,
                                  int64_t lda, const float *panel, float *acc);
void lowbit_ukernel_ref(int64_t mr, int64_t kc, const float *a, int64_t lda,
                        const float *panel, float *acc);
void lowbit_ukernel_avx2(int64_t mr, int64_t kc, const float *a, int64_t lda,
                         const float *panel, float *acc);
void lowbit_ukernel_avx512(int64_t mr, int64_t kc, const float *a,
                           int64_t lda, const float *panel, float *acc);
// Two panels at once: acc0/acc1 for |panel0| and the next panel |panel1|.
typedef void (*lowbit_ukernel2_fn)(int64_t mr, int64_t kc, const float *a,
                                   int64_t lda, const float *panel0,
                                   const float *panel1, float *acc0,
                                   float *acc1);
void lowbit_ukernel2_avx512(int64_t mr, int64_t kc, const float *a,
                            int64_t lda, const float *panel0,
                            const float *panel1, float *acc0, float *acc1);
// Same with A packed k-major in tiles of LOWBIT_MR_AVX512 rows.
void lowbit_ukernel2p_avx512(int64_t mr, int64_t kc, const float *ap,
                             const float *panel0, const float *panel1,
                             float *acc0, float *acc1);
// Decoders of one quantized panel's rows [k0, k0 + kc) to f32 (16 floats a
// row, times the scale of each row's group): |w| points at row k0 of the
// panel ("s4-panel16": 8 bytes a row; "s8-panel16": 16), |scales| at the
// panel's [groups][16] scales.
void lowbit_decode_s4_avx2(const uint8_t *w, const float *scales,
                           int64_t group, int64_t k0, int64_t kc, float *out);
void lowbit_decode_s8_avx2(const int8_t *w, const float *scales,
                           int64_t group, int64_t k0, int64_t kc, float *out);
void lowbit_decode_s4_avx512(const uint8_t *w, const float *scales,
                             int64_t group, int64_t k0, int64_t kc,
                             float *out);
void lowbit_decode_s8_avx512(const int8_t *w, const float *scales,
                             int64_t group, int64_t k0, int64_t kc,
                             float *out);
#define LOWBIT_MR_REF 8
#define LOWBIT_MR_AVX2 6
#define LOWBIT_MR_AVX512 12
#define LOWBIT_MR_MAX 12

#endif // LOWBIT_RUNTIME_INTERNAL_H_
