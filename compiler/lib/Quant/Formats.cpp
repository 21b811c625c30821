//===- Formats.cpp - element formats: encode and decode -----------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//

#include "lowbit/Quant/Formats.h"

#include <algorithm>
#include <array>
#include <utility>
#include <cmath>
#include <limits>
#include <vector>

using namespace mlir;
using namespace mlir::lowbit;

const double *mlir::lowbit::nf4Levels() {
  // Quantiles of N(0, 1) normalized to [-1, 1] with an exact zero, as
  // defined for QLoRA's NF4 data type.
  static const double levels[16] = {
      -1.0,
      -0.6961928009986877,
      -0.5250730514526367,
      -0.39491748809814453,
      -0.28444138169288635,
      -0.18477343022823334,
      -0.09105003625154495,
      0.0,
      0.07958029955625534,
      0.16093020141124725,
      0.24611230194568634,
      0.33791524171829224,
      0.44070982933044434,
      0.5626170039176941,
      0.7229568362236023,
      1.0};
  return levels;
}

namespace {
/// A small binary float: sign, `e` exponent bits, `m` mantissa bits.
struct Minifloat {
  int e, m, bias;
  bool ieeeSpecials; // all-ones exponent = Inf/NaN (e5m2)
  bool fnNaN;        // all-ones exponent and mantissa = NaN (e4m3fn)
};

Minifloat minifloatOf(QuantFormat f) {
  switch (f) {
  case QuantFormat::FP8E4M3:
    return {4, 3, 7, false, true};
  case QuantFormat::FP8E5M2:
    return {5, 2, 15, true, false};
  default: // FP4E2M1
    return {2, 1, 1, false, false};
  }
}

double decodeMinifloat(const Minifloat &mf, uint32_t code) {
  uint32_t man = code & ((1u << mf.m) - 1);
  uint32_t exp = (code >> mf.m) & ((1u << mf.e) - 1);
  bool neg = (code >> (mf.e + mf.m)) & 1;
  uint32_t expMax = (1u << mf.e) - 1;
  double v;
  if (mf.ieeeSpecials && exp == expMax)
    v = man ? std::numeric_limits<double>::quiet_NaN()
            : std::numeric_limits<double>::infinity();
  else if (mf.fnNaN && exp == expMax && man == (1u << mf.m) - 1)
    v = std::numeric_limits<double>::quiet_NaN();
  else if (exp == 0)
    v = std::ldexp(double(man) / (1 << mf.m), 1 - mf.bias);
  else
    v = std::ldexp(1.0 + double(man) / (1 << mf.m), int(exp) - mf.bias);
  return neg ? -v : v;
}

/// Finite non-negative values of a non-integer format with their codes,
/// ascending by value.
struct Table {
  std::vector<double> values;
  std::vector<uint32_t> codes;
};

Table buildTable(QuantFormat f) {
  Table t;
  unsigned bits = getFormatInfo(f).bits;
  std::vector<std::pair<double, uint32_t>> entries;
  for (uint32_t c = 0; c < (1u << bits); ++c) {
    double v = decodeCode(f, c);
    if (std::isfinite(v) && v >= 0 && !std::signbit(v))
      entries.push_back({v, c});
  }
  std::sort(entries.begin(), entries.end());
  for (auto &[v, c] : entries) {
    t.values.push_back(v);
    t.codes.push_back(c);
  }
  return t;
}

/// Built once, thread-safely (function-local static).
const Table &positiveTable(QuantFormat f) {
  static const std::array<Table, 3> tables = {
      buildTable(QuantFormat::FP8E4M3), buildTable(QuantFormat::FP8E5M2),
      buildTable(QuantFormat::FP4E2M1)};
  return tables[f == QuantFormat::FP8E4M3 ? 0
                : f == QuantFormat::FP8E5M2 ? 1
                                            : 2];
}
} // namespace

FormatInfo mlir::lowbit::getFormatInfo(QuantFormat f) {
  switch (f) {
  case QuantFormat::NF4:
    return {4, false, true, 0, 15, 1.0};
  case QuantFormat::FP8E4M3:
    return {8, false, true, 0, 255, 448.0};
  case QuantFormat::FP8E5M2:
    return {8, false, true, 0, 255, 57344.0};
  case QuantFormat::FP4E2M1:
    return {4, false, true, 0, 15, 6.0};
  default:
    break;
  }
  bool isSigned = f <= QuantFormat::Int8;
  unsigned bits = isSigned ? 2 + static_cast<unsigned>(f)
                           : 2 + static_cast<unsigned>(f) -
                                 static_cast<unsigned>(QuantFormat::UInt2);
  int64_t qmin = isSigned ? -(int64_t(1) << (bits - 1)) : 0;
  int64_t qmax = isSigned ? (int64_t(1) << (bits - 1)) - 1
                          : (int64_t(1) << bits) - 1;
  return {bits, true, isSigned, qmin, qmax, double(qmax)};
}

double mlir::lowbit::decodeCode(QuantFormat f, uint32_t code) {
  FormatInfo info = getFormatInfo(f);
  code &= (1u << info.bits) - 1;
  if (info.isInteger) {
    if (info.isSigned && (code >> (info.bits - 1)))
      return double(int64_t(code) - (int64_t(1) << info.bits));
    return double(code);
  }
  if (f == QuantFormat::NF4)
    return nf4Levels()[code];
  return decodeMinifloat(minifloatOf(f), code);
}

uint32_t mlir::lowbit::encodeValue(QuantFormat f, double v,
                                   int64_t zeroPoint) {
  FormatInfo info = getFormatInfo(f);
  uint32_t mask = (1u << info.bits) - 1;
  if (info.isInteger) {
    if (std::isnan(v))
      return uint32_t(std::clamp(zeroPoint, info.qmin, info.qmax)) & mask;
    double q = std::nearbyint(std::clamp(v, -1e18, 1e18)) + double(zeroPoint);
    int64_t c = int64_t(std::clamp(q, double(info.qmin), double(info.qmax)));
    return uint32_t(c) & mask;
  }
  if (std::isnan(v)) {
    if (f == QuantFormat::FP8E4M3 || f == QuantFormat::FP8E5M2)
      return 0x7F; // the canonical NaN of both fp8 formats
    return 0;
  }
  uint32_t signBit = f == QuantFormat::NF4 ? 0 : 1u << (info.bits - 1);
  if (f == QuantFormat::NF4) {
    // Nearest level; ties to the even code.
    const double *levels = nf4Levels();
    uint32_t best = 0;
    for (uint32_t c = 1; c < 16; ++c) {
      double d = std::fabs(levels[c] - v), bd = std::fabs(levels[best] - v);
      if (d < bd || (d == bd && (c % 2 == 0) && (best % 2 != 0)))
        best = c;
    }
    return best;
  }
  bool neg = std::signbit(v);
  double a = std::fabs(v);
  const Table &t = positiveTable(f);
  uint32_t code;
  if (a >= t.values.back()) {
    code = t.codes.back(); // saturate (Inf included)
  } else {
    size_t hi = std::upper_bound(t.values.begin(), t.values.end(), a) -
                t.values.begin();
    size_t lo = hi - 1;
    double dlo = a - t.values[lo], dhi = t.values[hi] - a;
    if (dlo < dhi)
      code = t.codes[lo];
    else if (dhi < dlo)
      code = t.codes[hi];
    else
      code = (t.codes[lo] & 1) == 0 ? t.codes[lo] : t.codes[hi];
  }
  return neg ? (code | signBit) : code;
}

uint32_t mlir::lowbit::readPackedCode(const uint8_t *bytes, int64_t index,
                                      unsigned bits) {
  uint32_t code = 0;
  uint64_t bit = uint64_t(index) * bits;
  for (unsigned b = 0; b < bits; ++b, ++bit)
    code |= uint32_t((bytes[bit / 8] >> (bit % 8)) & 1) << b;
  return code;
}

void mlir::lowbit::writePackedCode(uint8_t *bytes, int64_t index,
                                   unsigned bits, uint32_t code) {
  uint64_t bit = uint64_t(index) * bits;
  for (unsigned b = 0; b < bits; ++b, ++bit)
    if ((code >> b) & 1)
      bytes[bit / 8] |= uint8_t(1u << (bit % 8));
}
