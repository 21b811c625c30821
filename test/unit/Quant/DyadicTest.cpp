//===- DyadicTest.cpp - integer-only requantization -----------------------===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//

#include "lowbit/Quant/Dyadic.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace mlir::lowbit;

TEST(Dyadic, MultiplierIsNormalizedAndClose) {
  std::mt19937 rng(1);
  std::uniform_real_distribution<double> logScale(-30, 10);
  for (int i = 0; i < 100000; ++i) {
    double s = std::exp2(logScale(rng));
    std::optional<DyadicScale> d = toDyadic(s);
    ASSERT_TRUE(d);
    EXPECT_GE(d->multiplier, 1 << 30);
    EXPECT_GE(d->shift, 0);
    EXPECT_LE(d->shift, 62);
    // Round to nearest of a 31-bit mantissa: relative error <= 2^-31.
    EXPECT_LE(std::fabs(d->value() - s) / s, std::ldexp(1.0, -31)) << s;
  }
}

TEST(Dyadic, EdgeCases) {
  EXPECT_EQ(toDyadic(0.0)->multiplier, 0);
  EXPECT_FALSE(toDyadic(-1.0));
  EXPECT_FALSE(toDyadic(NAN));
  EXPECT_FALSE(toDyadic(INFINITY));
  EXPECT_FALSE(toDyadic(4294967296.0));
  // Exact powers of two and a mantissa that rounds up to the next one.
  DyadicScale half = *toDyadic(0.5);
  EXPECT_EQ(half.multiplier, 1 << 30);
  EXPECT_EQ(half.shift, 31);
  DyadicScale up = *toDyadic(std::nextafter(1.0, 0.0));
  EXPECT_EQ(up.value(), 1.0);
}

TEST(Dyadic, ApplyMatchesFloat64Rounding) {
  // round(acc * b / 2^c) with ties away from zero, against float64 where
  // float64 is exact (|acc * b| < 2^53 after scaling is checked exactly
  // through long double below).
  std::mt19937 rng(2);
  std::uniform_int_distribution<int32_t> accs(-(1 << 30), 1 << 30);
  std::uniform_real_distribution<double> logScale(-20, 0);
  for (int i = 0; i < 100000; ++i) {
    int32_t acc = accs(rng);
    DyadicScale d = *toDyadic(std::exp2(logScale(rng)));
    long double exact =
        std::ldexp((long double)acc * (long double)d.multiplier, -d.shift);
    long double want = std::round(exact); // halves away from zero
    ASSERT_EQ(applyDyadic(acc, d), (int64_t)want)
        << acc << " * " << d.multiplier << " >> " << d.shift;
  }
  // Ties.
  DyadicScale half = *toDyadic(0.5);
  EXPECT_EQ(applyDyadic(3, half), 2);
  EXPECT_EQ(applyDyadic(-3, half), -2);
  EXPECT_EQ(applyDyadic(5, half), 3);
  EXPECT_EQ(applyDyadic(-5, half), -3);
}
