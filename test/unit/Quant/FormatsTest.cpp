//===- FormatsTest.cpp - element formats against float64 references -*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// Decoding is checked against the formats' definitions; encoding exactly
// against a brute-force float64 reference (nearest finite value over every
// code, ties to the even code) on random and adversarial values: midpoints,
// subnormals, overflow, infinities, NaN.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Quant/Formats.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

using namespace mlir::lowbit;

namespace {

const QuantFormat kAll[] = {
    QuantFormat::Int2,  QuantFormat::Int3,    QuantFormat::Int4,
    QuantFormat::Int5,  QuantFormat::Int6,    QuantFormat::Int7,
    QuantFormat::Int8,  QuantFormat::UInt2,   QuantFormat::UInt3,
    QuantFormat::UInt4, QuantFormat::UInt5,   QuantFormat::UInt6,
    QuantFormat::UInt7, QuantFormat::UInt8,   QuantFormat::NF4,
    QuantFormat::FP8E4M3, QuantFormat::FP8E5M2, QuantFormat::FP4E2M1};

/// The reference: nearest finite decoded value, ties to the even code,
/// saturating; the sign of zero follows the input for signed minifloats.
uint32_t referenceEncode(QuantFormat f, double v) {
  FormatInfo info = getFormatInfo(f);
  if (info.isInteger) {
    double r = std::nearbyint(v); // ties to even under the default mode
    r = std::fmin(std::fmax(r, double(info.qmin)), double(info.qmax));
    return uint32_t(int64_t(r)) & ((1u << info.bits) - 1);
  }
  double target = std::isinf(v) ? std::copysign(info.maxValue, v) : v;
  uint32_t best = 0;
  double bestDist = std::numeric_limits<double>::infinity();
  for (uint32_t c = 0; c < (1u << info.bits); ++c) {
    double d = decodeCode(f, c);
    if (!std::isfinite(d))
      continue;
    if (d == 0 && std::signbit(d) != std::signbit(target) &&
        f != QuantFormat::NF4)
      continue;
    double dist = std::fabs(d - target);
    if (dist < bestDist || (dist == bestDist && (c & 1) == 0 && (best & 1))) {
      best = c;
      bestDist = dist;
    }
  }
  return best;
}

} // namespace

TEST(QuantFormats, DecodeDefinitions) {
  EXPECT_EQ(decodeCode(QuantFormat::Int4, 8), -8.0);
  EXPECT_EQ(decodeCode(QuantFormat::Int4, 7), 7.0);
  EXPECT_EQ(decodeCode(QuantFormat::UInt3, 7), 7.0);
  EXPECT_EQ(decodeCode(QuantFormat::Int2, 2), -2.0);
  EXPECT_EQ(decodeCode(QuantFormat::FP8E4M3, 0x7E), 448.0);
  EXPECT_EQ(decodeCode(QuantFormat::FP8E4M3, 0x01), std::ldexp(1.0, -9));
  EXPECT_EQ(decodeCode(QuantFormat::FP8E4M3, 0x38), 1.0);
  EXPECT_TRUE(std::isnan(decodeCode(QuantFormat::FP8E4M3, 0x7F)));
  EXPECT_EQ(decodeCode(QuantFormat::FP8E4M3, 0xC0), -2.0);
  EXPECT_EQ(decodeCode(QuantFormat::FP8E5M2, 0x7B), 57344.0);
  EXPECT_TRUE(std::isinf(decodeCode(QuantFormat::FP8E5M2, 0x7C)));
  EXPECT_TRUE(std::isnan(decodeCode(QuantFormat::FP8E5M2, 0x7D)));
  EXPECT_EQ(decodeCode(QuantFormat::FP8E5M2, 0x01), std::ldexp(1.0, -16));
  const double fp4[8] = {0, 0.5, 1, 1.5, 2, 3, 4, 6};
  for (uint32_t c = 0; c < 8; ++c) {
    EXPECT_EQ(decodeCode(QuantFormat::FP4E2M1, c), fp4[c]);
    EXPECT_EQ(decodeCode(QuantFormat::FP4E2M1, c | 8), -fp4[c]);
  }
  EXPECT_EQ(decodeCode(QuantFormat::NF4, 0), -1.0);
  EXPECT_EQ(decodeCode(QuantFormat::NF4, 7), 0.0);
  EXPECT_EQ(decodeCode(QuantFormat::NF4, 15), 1.0);
}

TEST(QuantFormats, EveryCodeRoundTrips) {
  for (QuantFormat f : kAll) {
    FormatInfo info = getFormatInfo(f);
    for (uint32_t c = 0; c < (1u << info.bits); ++c) {
      double v = decodeCode(f, c);
      if (!std::isfinite(v))
        continue;
      EXPECT_EQ(encodeValue(f, v), c)
          << stringifyQuantFormat(f).str() << " code " << c << " value " << v;
    }
  }
}

TEST(QuantFormats, TiesRoundToEven) {
  EXPECT_EQ(encodeValue(QuantFormat::Int8, 2.5), 2u);
  EXPECT_EQ(encodeValue(QuantFormat::Int8, 3.5), 4u);
  EXPECT_EQ(encodeValue(QuantFormat::Int4, -2.5), 14u); // -2
  // 1.0625 lies between 1.0 (0x38) and 1.125 (0x39): even code 0x38.
  EXPECT_EQ(encodeValue(QuantFormat::FP8E4M3, 1.0625), 0x38u);
  EXPECT_EQ(encodeValue(QuantFormat::FP8E4M3, 1.1875), 0x3Au);
  // fp4: 2.5 between 2 (0x4) and 3 (0x5) -> 0x4; 5 between 4 and 6 -> 0x6.
  EXPECT_EQ(encodeValue(QuantFormat::FP4E2M1, 2.5), 0x4u);
  EXPECT_EQ(encodeValue(QuantFormat::FP4E2M1, 5.0), 0x6u);
}

TEST(QuantFormats, SaturationInfinityNaN) {
  double inf = std::numeric_limits<double>::infinity();
  double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(encodeValue(QuantFormat::FP8E4M3, 1e6), 0x7Eu);
  EXPECT_EQ(encodeValue(QuantFormat::FP8E4M3, 460.0), 0x7Eu);
  EXPECT_EQ(encodeValue(QuantFormat::FP8E4M3, inf), 0x7Eu);
  EXPECT_EQ(encodeValue(QuantFormat::FP8E4M3, -inf), 0xFEu);
  EXPECT_EQ(encodeValue(QuantFormat::FP8E5M2, inf), 0x7Bu);
  EXPECT_EQ(encodeValue(QuantFormat::FP8E4M3, nan), 0x7Fu);
  EXPECT_EQ(encodeValue(QuantFormat::FP8E5M2, nan), 0x7Fu);
  EXPECT_EQ(encodeValue(QuantFormat::FP4E2M1, -100.0), 0xFu);
  EXPECT_EQ(encodeValue(QuantFormat::Int8, 300.0), 127u);
  EXPECT_EQ(encodeValue(QuantFormat::Int8, -300.0), 0x80u);
  EXPECT_EQ(encodeValue(QuantFormat::UInt4, -3.0), 0u);
  EXPECT_EQ(encodeValue(QuantFormat::UInt8, 0.4, /*zeroPoint=*/128), 128u);
  EXPECT_EQ(encodeValue(QuantFormat::Int8, nan, /*zeroPoint=*/3), 3u);
  EXPECT_EQ(encodeValue(QuantFormat::NF4, 0.0), 7u);
  EXPECT_EQ(encodeValue(QuantFormat::NF4, -5.0), 0u);
}

TEST(QuantFormats, EncodeMatchesFloat64Reference) {
  std::mt19937_64 rng(5);
  for (QuantFormat f : kAll) {
    FormatInfo info = getFormatInfo(f);
    std::vector<double> values;
    std::uniform_real_distribution<double> wide(-1.5 * info.maxValue,
                                                1.5 * info.maxValue);
    for (int i = 0; i < 4000; ++i)
      values.push_back(wide(rng));
    // Midpoints between neighbouring codes and tiny magnitudes.
    for (uint32_t c = 0; c + 1 < (1u << info.bits); ++c) {
      double a = decodeCode(f, c), b = decodeCode(f, c + 1);
      if (std::isfinite(a) && std::isfinite(b))
        values.push_back((a + b) / 2);
    }
    for (int e = -20; e < 0; ++e)
      values.push_back(std::ldexp(1.0, e) * (e % 2 ? 1 : -1));
    for (double v : values)
      ASSERT_EQ(encodeValue(f, v), referenceEncode(f, v))
          << stringifyQuantFormat(f).str() << " value " << v;
  }
}

// The qweight packing: codes of every width round-trip at every index,
// including codes that straddle a byte boundary (3, 5, 6, 7 bits), and the
// bit layout is LSB first (two int4 codes 0x3, 0xA make the byte 0xA3).
TEST(QuantFormats, PackedCodesRoundTrip) {
  std::mt19937 rng(7);
  for (unsigned bits = 1; bits <= 8; ++bits) {
    std::vector<uint32_t> codes(37);
    for (uint32_t &c : codes)
      c = rng() & ((1u << bits) - 1);
    std::vector<uint8_t> bytes((codes.size() * bits + 7) / 8, 0);
    for (size_t i = 0; i < codes.size(); ++i)
      writePackedCode(bytes.data(), i, bits, codes[i]);
    for (size_t i = 0; i < codes.size(); ++i)
      ASSERT_EQ(readPackedCode(bytes.data(), i, bits), codes[i])
          << bits << " bits, index " << i;
  }
  uint8_t byte = 0;
  writePackedCode(&byte, 0, 4, 0x3);
  writePackedCode(&byte, 1, 4, 0xA);
  EXPECT_EQ(byte, 0xA3);
}
