//===- Dyadic.h - integer-only requantization multipliers ----------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// Integer-only inference (microcontrollers without an FPU, HAWQ-V3's
// "dyadic" arithmetic) replaces each real requantization scale s by
// b / 2^c with an integer b, so that rescaling an int32 accumulator is one
// integer multiply and one rounding shift:
//
//   requantize(acc) = round(acc * b / 2^c)   (ties away from zero)
//
// b is normalized into [2^30, 2^31) (31 significant bits), so the relative
// error of the multiplier is below 2^-31, and the product acc * b is
// computed in 64 bits.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_QUANT_DYADIC_H
#define LOWBIT_QUANT_DYADIC_H

#include <cstdint>
#include <optional>

namespace mlir::lowbit {

struct DyadicScale {
  int32_t multiplier; ///< b, in [2^30, 2^31) (or 0 for a zero scale)
  int32_t shift;      ///< c, in [0, 62]
  double value() const;
};

/// The dyadic number nearest to `scale` (0 <= scale < 2^31) with a 31-bit
/// multiplier; nullopt for negative, NaN, infinite or too-large scales or
/// scales so small the shift would exceed 62 (they round to 0: returned as
/// multiplier 0).
std::optional<DyadicScale> toDyadic(double scale);

/// round(acc * b / 2^c), ties away from zero, exact in 64-bit arithmetic
/// (|acc| < 2^31).
int64_t applyDyadic(int32_t acc, DyadicScale s);

} // namespace mlir::lowbit

#endif // LOWBIT_QUANT_DYADIC_H
