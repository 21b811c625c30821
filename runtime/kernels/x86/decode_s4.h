// decode_s4.h - the 16 int4 codes of one "s4-panel16" row as int8 (SSE2),
// shared by the AVX2 and AVX-512 decoders (each built for its own ISA).
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
#ifndef LOWBIT_KERNELS_X86_DECODE_S4_H_
#define LOWBIT_KERNELS_X86_DECODE_S4_H_

#include <immintrin.h>
#include <stdint.h>

/// Column 2j is byte j's low nibble, 2j + 1 its high one; (c ^ 8) - 8
/// sign-extends the 4-bit two's complement code.
static inline __m128i lowbit_s4_row_codes(const uint8_t *row) {
  const __m128i mask = _mm_set1_epi8(0x0f), eight = _mm_set1_epi8(8);
  __m128i b = _mm_loadl_epi64((const __m128i *)row);
  __m128i lo = _mm_and_si128(b, mask);
  __m128i hi = _mm_and_si128(_mm_srli_epi16(b, 4), mask);
  return _mm_sub_epi8(_mm_xor_si128(_mm_unpacklo_epi8(lo, hi), eight), eight);
}

#endif // LOWBIT_KERNELS_X86_DECODE_S4_H_
