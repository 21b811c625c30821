//===- RowKernelsTest.cpp - softmax, layer norm, pooling per ISA --*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// The row kernels are built once per ISA and chosen from exec->cpu; each
// build is checked against a float64 reference within a relative 1e-5
// (they run under -ffast-math: reductions are reassociated, so builds may
// differ from each other in the last bits, never by more than that).
//
//===----------------------------------------------------------------------===//

#include "Isas.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <random>
#include <vector>

using lowbit_test::Isa;
using lowbit_test::isas;

TEST(RuntimeRowKernels, SoftmaxEveryIsa) {
  std::mt19937 rng(21);
  std::uniform_real_distribution<float> d(-30.0f, 30.0f);
  // Contiguous rows (inner 1, lengths around the vector widths) and the
  // strided form (inner 3).
  for (int64_t len : {1, 7, 8, 16, 17, 384})
    for (int64_t inner : {1, 3})
      for (int kind : {0, 1}) {
        const int64_t outer = 5;
        std::vector<float> x(outer * len * inner);
        for (float &v : x)
          v = d(rng);
        for (const Isa &isa : isas()) {
          std::vector<float> y(x.size());
          lowbit_exec_t ex = {nullptr, nullptr, nullptr, isa.bits};
          lowbit_k_softmax(&ex, outer, len, inner, x.data(), y.data(), kind);
          for (int64_t o = 0; o < outer; ++o)
            for (int64_t i = 0; i < inner; ++i) {
              double mx = -DBL_MAX, sum = 0;
              for (int64_t k = 0; k < len; ++k)
                mx = std::max(mx, double(x[(o * len + k) * inner + i]));
              for (int64_t k = 0; k < len; ++k)
                sum += std::exp(double(x[(o * len + k) * inner + i]) - mx);
              for (int64_t k = 0; k < len; ++k) {
                double v = double(x[(o * len + k) * inner + i]) - mx;
                double ref = kind == 0 ? std::exp(v) / sum : v - std::log(sum);
                ASSERT_NEAR(y[(o * len + k) * inner + i], ref,
                            1e-5 * std::max(1.0, std::fabs(ref)))
                    << isa.name << " len=" << len << " inner=" << inner
                    << " kind=" << kind;
              }
            }
        }
      }
}

TEST(RuntimeRowKernels, LayerNormEveryIsa) {
  std::mt19937 rng(22);
  std::uniform_real_distribution<float> d(-4.0f, 4.0f);
  for (int64_t len : {1, 15, 16, 384, 1000})
    for (bool withBias : {false, true}) {
      const int64_t rows = 7;
      std::vector<float> x(rows * len), scale(len), bias(len);
      for (float &v : x)
        v = d(rng) + 3.0f; // an offset mean, as residual streams have
      for (float &v : scale)
        v = d(rng);
      for (float &v : bias)
        v = d(rng);
      for (const Isa &isa : isas()) {
        std::vector<float> y(x.size());
        lowbit_exec_t ex = {nullptr, nullptr, nullptr, isa.bits};
        lowbit_k_layernorm(&ex, rows, len, x.data(), scale.data(),
                           withBias ? bias.data() : nullptr, 1e-5f, y.data());
        for (int64_t r = 0; r < rows; ++r) {
          double mean = 0, var = 0;
          for (int64_t k = 0; k < len; ++k)
            mean += x[r * len + k];
          mean /= double(len);
          for (int64_t k = 0; k < len; ++k)
            var += (x[r * len + k] - mean) * (x[r * len + k] - mean);
          var /= double(len);
          for (int64_t k = 0; k < len; ++k) {
            double ref = (x[r * len + k] - mean) / std::sqrt(var + 1e-5) *
                             scale[k] +
                         (withBias ? bias[k] : 0.0);
            ASSERT_NEAR(y[r * len + k], ref,
                        1e-5 * std::max(1.0, std::fabs(ref)))
                << isa.name << " len=" << len;
          }
        }
      }
    }
}

TEST(RuntimeRowKernels, PoolingEveryIsa) {
  std::mt19937 rng(23);
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  // kind 0 max, 1 average without padding, 2 average counting the padding.
  for (int kind : {0, 1, 2}) {
    lowbit_pool2d_params_t p = {6, 11, 9, 0, 0, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1,
                                kind};
    p.oh = (p.h + p.pad_t + p.pad_b - p.kh) / p.stride_h + 1;
    p.ow = (p.w + p.pad_l + p.pad_r - p.kw) / p.stride_w + 1;
    std::vector<float> x(p.nc * p.h * p.w);
    for (float &v : x)
      v = d(rng);
    for (const Isa &isa : isas()) {
      std::vector<float> y(p.nc * p.oh * p.ow);
      lowbit_exec_t ex = {nullptr, nullptr, nullptr, isa.bits};
      lowbit_k_pool2d(&ex, &p, x.data(), y.data());
      for (int64_t c = 0; c < p.nc; ++c)
        for (int64_t oy = 0; oy < p.oh; ++oy)
          for (int64_t ox = 0; ox < p.ow; ++ox) {
            double acc = kind == 0 ? -DBL_MAX : 0.0;
            int64_t count = 0;
            for (int64_t ky = 0; ky < p.kh; ++ky)
              for (int64_t kx = 0; kx < p.kw; ++kx) {
                int64_t iy = oy * p.stride_h - p.pad_t + ky;
                int64_t ix = ox * p.stride_w - p.pad_l + kx;
                if (iy < 0 || iy >= p.h || ix < 0 || ix >= p.w)
                  continue;
                double v = x[(c * p.h + iy) * p.w + ix];
                acc = kind == 0 ? std::max(acc, v) : acc + v;
                ++count;
              }
            if (kind == 1)
              acc /= double(count);
            else if (kind == 2)
              acc /= double(p.kh * p.kw);
            ASSERT_NEAR(y[(c * p.oh + oy) * p.ow + ox], acc, 1e-6)
                << isa.name << " kind=" << kind;
          }
    }
  }
}
