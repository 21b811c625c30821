//===- SafetensorsTest.cpp - the checked .safetensors reader ------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// Valid files of every float dtype read back exactly; every malformed
// header is an error naming the tensor and the reason, never a crash or a
// huge allocation.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Adapters/Safetensors.h"
#include "lowbit/Quant/LowRank.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

using namespace mlir::lowbit;

namespace {
std::string file(const std::string &header, const std::string &data) {
  std::string out(8, '\0');
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i)
    out[i] = char((n >> (8 * i)) & 0xff);
  return out + header + data;
}

std::string bytesOf(const std::vector<float> &v) {
  return std::string(reinterpret_cast<const char *>(v.data()), 4 * v.size());
}

std::string parseError(const std::string &bytes) {
  std::string error;
  EXPECT_TRUE(mlir::failed(parseSafetensors(bytes, error)));
  return error;
}
} // namespace

TEST(Safetensors, ReadsEveryFloatDtype) {
  // F32 [2, 2]; F16 1.0, -2.0; BF16 0.5; F64 3.25.
  std::string data = bytesOf({1.5f, -2.0f, 0.25f, 8.0f});
  data += std::string("\x00\x3c\x00\xc0", 4);      // f16 1.0, -2.0
  data += std::string("\x00\x3f", 2);              // bf16 0.5
  double d = 3.25;
  data += std::string(reinterpret_cast<const char *>(&d), 8);
  std::string header =
      R"({"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},)"
      R"("h":{"dtype":"F16","shape":[2],"data_offsets":[16,20]},)"
      R"("b":{"dtype":"BF16","shape":[1],"data_offsets":[20,22]},)"
      R"("d":{"dtype":"F64","shape":[],"data_offsets":[22,30]},)"
      R"("__metadata__":{"format":"pt"}})";
  std::string error;
  auto t = parseSafetensors(file(header, data), error);
  ASSERT_TRUE(mlir::succeeded(t)) << error;
  EXPECT_EQ((*t)["a"].shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ((*t)["a"].data, (std::vector<float>{1.5f, -2.0f, 0.25f, 8.0f}));
  EXPECT_EQ((*t)["h"].data, (std::vector<float>{1.0f, -2.0f}));
  EXPECT_EQ((*t)["b"].data, (std::vector<float>{0.5f}));
  EXPECT_EQ((*t)["d"].data, (std::vector<float>{3.25f}));
  EXPECT_EQ(t->size(), 4u);
}

TEST(Safetensors, MalformedFilesAreErrors) {
  EXPECT_EQ(parseError("abc"), "too short for a safetensors file (3 bytes)");
  std::string huge(8, '\xff');
  EXPECT_EQ(parseError(huge),
            "header length 18446744073709551615 exceeds the file (8 bytes) "
            "or the 100 MB limit");
  EXPECT_EQ(parseError(file("[1,2]", "")), "the header is not a JSON object");
  EXPECT_EQ(parseError(file("{not json", "")),
            "the header is not a JSON object");
  EXPECT_EQ(parseError(file(R"({"x":{"dtype":"I8","shape":[1],)"
                            R"("data_offsets":[0,1]}})",
                            "a")),
            "tensor 'x': dtype I8 is not a float type (F32, F16, BF16, F64)");
  EXPECT_EQ(parseError(file(R"({"x":{"dtype":"F32","shape":[2]}})", "")),
            "tensor 'x': needs dtype, shape and data_offsets [begin, end]");
  EXPECT_EQ(parseError(file(R"({"x":{"dtype":"F32","shape":[1],)"
                            R"("data_offsets":[0,8]}})",
                            "abcd")),
            "tensor 'x': data_offsets [0, 8] fall outside the 4 data bytes");
  EXPECT_EQ(parseError(file(R"({"x":{"dtype":"F32","shape":[2],)"
                            R"("data_offsets":[0,4]}})",
                            "abcd")),
            "tensor 'x': holds 4 bytes but its shape and dtype need 8");
  // 2^62 x 4 elements would overflow: refused before any allocation.
  EXPECT_EQ(parseError(file(R"({"x":{"dtype":"F32","shape":)"
                            R"([4611686018427387904,4],)"
                            R"("data_offsets":[0,4]}})",
                            "abcd")),
            "tensor 'x': shape needs more elements than the file holds");
  EXPECT_EQ(parseError(file(R"({"x":{"dtype":"F32","shape":[-1],)"
                            R"("data_offsets":[0,4]}})",
                            "abcd")),
            "tensor 'x': a dimension is not a non-negative integer");
}

// The factorizations: a rank-r matrix is recovered exactly by truncatedSvd
// at rank r; the weighted (EoRA) factors minimize the H-weighted error, so
// they are never worse than plain SVD's in that norm.
TEST(LowRank, SvdAndWeightedSvd) {
  std::mt19937 rng(3);
  std::normal_distribution<float> d;
  int64_t n = 24, k = 32, r = 3;
  std::vector<float> u(n * r), v(r * k), m(n * k, 0.0f);
  for (auto &x : u)
    x = d(rng);
  for (auto &x : v)
    x = d(rng);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < k; ++j)
      for (int64_t t = 0; t < r; ++t)
        m[i * k + j] += u[i * r + t] * v[t * k + j];
  LowRankFactors f = truncatedSvd(m, n, k, r);
  std::vector<float> rest = subtractLowRank(m, f);
  double norm = 0, left = 0;
  for (int64_t i = 0; i < n * k; ++i) {
    norm += double(m[i]) * m[i];
    left += double(rest[i]) * rest[i];
  }
  EXPECT_LT(left, 1e-10 * norm);

  // A full-rank error and inputs with very uneven channel energies.
  std::vector<float> e(n * k), x(200 * k), h(k * k, 0.0f);
  for (auto &a : e)
    a = d(rng);
  for (int64_t s = 0; s < 200; ++s)
    for (int64_t j = 0; j < k; ++j)
      x[s * k + j] = d(rng) * (j < 4 ? 10.0f : 0.1f);
  for (int64_t s = 0; s < 200; ++s)
    for (int64_t a = 0; a < k; ++a)
      for (int64_t b = 0; b < k; ++b)
        h[a * k + b] += x[s * k + a] * x[s * k + b];
  std::vector<float> zero(n * k, 0.0f);
  LowRankFactors plain = truncatedSvd(e, n, k, 4);
  LowRankFactors eora = weightedSvd(e, n, k, 4, h, /*damp=*/0.0);
  auto lr = [&](const LowRankFactors &g) {
    std::vector<float> neg = subtractLowRank(zero, g); // -L·R
    std::vector<float> out(n * k);
    for (int64_t i = 0; i < n * k; ++i)
      out[i] = -neg[i];
    return out;
  };
  double ePlain = weightedError(e, lr(plain), n, k, h);
  double eEora = weightedError(e, lr(eora), n, k, h);
  double eNone = weightedError(e, zero, n, k, h);
  EXPECT_LT(eEora, ePlain);
  EXPECT_LT(eEora, 0.2 * eNone); // 4 heavy channels: rank 4 takes most
}
