//===- Formats.h - element formats: encode and decode -------------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// The arithmetic of every #lowbit.scheme format: the value each code
// stands for and the code a real value rounds to. Packers, the reference
// interpreter and the error models of the precision search all go through
// here, so a format has exactly one definition.
//
// Rounding is to nearest, ties to the even code (the code whose least
// significant bit is 0; for integers, the even integer). Conversions
// saturate: finite values past the range and infinities become the largest
// finite code of that sign (NVIDIA's "satfinite"). NaN becomes the NaN code
// where the format has one (fp8), else code 0 (integers: the zero point).
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_QUANT_FORMATS_H
#define LOWBIT_QUANT_FORMATS_H

#include "lowbit/Dialect/Lowbit/LowbitAttrs.h"

#include <cstdint>

namespace mlir::lowbit {

struct FormatInfo {
  unsigned bits;
  bool isInteger;
  bool isSigned;
  /// Integer code range (integer formats).
  int64_t qmin, qmax;
  /// Largest finite magnitude a code represents before scaling.
  double maxValue;
};

FormatInfo getFormatInfo(QuantFormat format);

/// Signed formats (codes around zero): what symmetric weights use.
inline bool isWeightFormat(QuantFormat format) {
  FormatInfo info = getFormatInfo(format);
  return !info.isInteger || info.isSigned;
}

/// The value `code` (its low `bits` bits) stands for, before scaling:
/// integers as two's complement or unsigned, nf4 from its codebook,
/// minifloats by their fields. NaN for fp8 NaN codes.
double decodeCode(QuantFormat format, uint32_t code);

/// The code whose value is nearest to `value` (already divided by the
/// scale; integers: the zero point is added after rounding).
uint32_t encodeValue(QuantFormat format, double value, int64_t zeroPoint = 0);

/// The 16 NormalFloat-4 levels (QLoRA), ascending; code i is level i.
const double *nf4Levels();

/// lowbit.qweight's packed layout: element i's `bits`-bit code starts at bit
/// i * bits of the byte array, least significant bit first. The pass that
/// writes it and every consumer that reads it go through these two.
uint32_t readPackedCode(const uint8_t *bytes, int64_t index, unsigned bits);
/// ORs the code into zero-initialized `bytes`.
void writePackedCode(uint8_t *bytes, int64_t index, unsigned bits,
                     uint32_t code);

} // namespace mlir::lowbit

#endif // LOWBIT_QUANT_FORMATS_H
