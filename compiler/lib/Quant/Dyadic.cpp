//===- Dyadic.cpp - integer-only requantization multipliers --------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//

#include "lowbit/Quant/Dyadic.h"

#include <cmath>

using namespace mlir::lowbit;

double DyadicScale::value() const {
  return std::ldexp(double(multiplier), -shift);
}

std::optional<DyadicScale> mlir::lowbit::toDyadic(double scale) {
  if (!(scale >= 0) || !std::isfinite(scale) || scale >= 2147483648.0)
    return std::nullopt;
  if (scale == 0)
    return DyadicScale{0, 0};
  int exp;
  double mant = std::frexp(scale, &exp); // scale = mant * 2^exp, mant in [0.5, 1)
  // b = round(mant * 2^31) in [2^30, 2^31]; c = 31 - exp.
  int64_t b = std::llround(std::ldexp(mant, 31));
  int64_t c = 31 - int64_t(exp);
  if (b == (int64_t(1) << 31)) { // mant rounded up to 1.0
    b >>= 1;
    --c;
  }
  if (c < 0)
    return std::nullopt;
  while (c > 62) { // tiny scales: give up precision, keep the value
    b = (b + 1) >> 1;
    --c;
  }
  return DyadicScale{int32_t(b), int32_t(c)};
}

int64_t mlir::lowbit::applyDyadic(int32_t acc, DyadicScale s) {
  // |acc * b| < 2^62: exact in int64. Round half away from zero.
  int64_t prod = int64_t(acc) * int64_t(s.multiplier);
  if (s.shift == 0)
    return prod;
  int64_t half = int64_t(1) << (s.shift - 1);
  return prod >= 0 ? (prod + half) >> s.shift : -((-prod + half) >> s.shift);
}
