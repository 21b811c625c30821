//===- WeightQuantizerTest.cpp - RTN and GPTQ weight rounding -------------===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//

#include "lowbit/Quant/WeightQuantizer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace mlir::lowbit;

namespace {
/// tr(dW H dW^T) for the dequantized `q` against `w`.
double outputError(QuantFormat f, const QuantizedMatrix &q,
                   const std::vector<float> &w, const std::vector<float> &h) {
  std::vector<float> d = dequantizeMatrix(f, q);
  int64_t n = q.rows, k = q.cols;
  double total = 0;
  for (int64_t r = 0; r < n; ++r)
    for (int64_t i = 0; i < k; ++i)
      for (int64_t j = 0; j < k; ++j)
        total += (w[r * k + i] - d[r * k + i]) * h[i * k + j] *
                 (w[r * k + j] - d[r * k + j]);
  return total;
}

/// Correlated inputs (a random mixing of independent features) give the
/// off-diagonal H that error feedback exploits.
std::vector<float> hessianOf(int64_t k, int64_t samples, std::mt19937 &rng) {
  std::normal_distribution<float> nd;
  std::vector<float> mix(k * k), x(samples * k, 0.0f), h(k * k, 0.0f);
  for (auto &v : mix)
    v = nd(rng);
  for (int64_t s = 0; s < samples; ++s) {
    std::vector<float> z(k);
    for (auto &v : z)
      v = nd(rng);
    for (int64_t i = 0; i < k; ++i)
      for (int64_t j = 0; j < k; ++j)
        x[s * k + i] += mix[i * k + j] * z[j] / std::sqrt(float(k));
  }
  for (int64_t s = 0; s < samples; ++s)
    for (int64_t i = 0; i < k; ++i)
      for (int64_t j = 0; j < k; ++j)
        h[i * k + j] += x[s * k + i] * x[s * k + j] / samples;
  return h;
}
} // namespace

TEST(WeightQuantizer, GptqBeatsRoundToNearestOnCorrelatedInputs) {
  std::mt19937 rng(7);
  std::normal_distribution<float> nd;
  int64_t n = 24, k = 160; // K past one 128-column block
  std::vector<float> w(n * k);
  for (auto &v : w)
    v = nd(rng);
  std::vector<float> h = hessianOf(k, 512, rng);
  for (QuantFormat f : {QuantFormat::Int4, QuantFormat::Int3})
    for (int64_t g : {int64_t(0), int64_t(32)}) {
      QuantizedMatrix rtn = quantizeMatrix(f, w, n, k, g);
      QuantizedMatrix gptq = quantizeMatrixGptq(f, w, n, k, g, h);
      ASSERT_EQ(gptq.scales.size(), rtn.scales.size());
      for (float s : gptq.scales)
        EXPECT_GT(s, 0.0f);
      double eRtn = outputError(f, rtn, w, h);
      double eGptq = outputError(f, gptq, w, h);
      EXPECT_LT(eGptq, 0.8 * eRtn) << "format " << int(f) << " group " << g;
    }
}

TEST(WeightQuantizer, GptqWithDiagonalHessianIsRoundToNearest) {
  // No correlation between inputs: nothing to feed back, same codes.
  std::mt19937 rng(3);
  std::normal_distribution<float> nd;
  int64_t n = 5, k = 40;
  std::vector<float> w(n * k), h(k * k, 0.0f);
  for (auto &v : w)
    v = nd(rng);
  for (int64_t i = 0; i < k; ++i)
    h[i * k + i] = 1.0f + float(i % 3);
  QuantizedMatrix rtn = quantizeMatrix(QuantFormat::Int4, w, n, k, 8,
                                       ScaleSearch::Max);
  QuantizedMatrix gptq = quantizeMatrixGptq(QuantFormat::Int4, w, n, k, 8, h,
                                            ScaleSearch::Max);
  EXPECT_EQ(rtn.codes, gptq.codes);
  EXPECT_EQ(rtn.scales, gptq.scales);
}
