//===- GemmTest.cpp - runtime GEMM and conv kernels vs references --*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// Every ISA's micro-kernel and the threaded driver against a float64 naive
// product, on shapes that hit every edge: partial MR tiles, partial and odd
// panel counts, K = 0 / 1 / across K blocks, strided (transposed) output.
//
//===----------------------------------------------------------------------===//

#include "lowbit/abi.h"

extern "C" {
#include "../../../runtime/src/internal.h"
}

#include "Isas.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace {

std::vector<float> randomVec(size_t n, std::mt19937 &rng) {
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float &x : v)
    x = d(rng);
  return v;
}

/// W [N, K] -> "f32-panel16".
std::vector<float> pack(const std::vector<float> &w, int64_t n, int64_t k) {
  int64_t panels = (n + LOWBIT_PANEL - 1) / LOWBIT_PANEL;
  std::vector<float> out(panels * std::max<int64_t>(k, 1) * LOWBIT_PANEL, 0.0f);
  for (int64_t r = 0; r < n; ++r)
    for (int64_t kk = 0; kk < k; ++kk)
      out[((r / LOWBIT_PANEL) * k + kk) * LOWBIT_PANEL + r % LOWBIT_PANEL] =
          w[r * k + kk];
  return out;
}

using lowbit_test::Isa;
using lowbit_test::isas;

void checkGemm(int64_t m, int64_t n, int64_t k, bool transposedOut,
               bool relu, int threads) {
  std::mt19937 rng(static_cast<unsigned>(m * 131 + n * 17 + k));
  std::vector<float> a = randomVec(m * k, rng), w = randomVec(n * k, rng),
                     bias = randomVec(n, rng);
  std::vector<float> packed = pack(w, n, k);
  lowbit_threadpool_t *pool = nullptr;
  ASSERT_EQ(lowbit_threadpool_create(threads, &pool), LOWBIT_OK);
  for (const Isa &isa : isas()) {
    std::vector<float> c(m * n, 7.0f);
    lowbit_exec_t ex = {nullptr, nullptr, pool, isa.bits};
    int64_t ldm = transposedOut ? 1 : n, ldn = transposedOut ? m : 1;
    lowbit_k_sgemm_packed(&ex, m, n, k, a.data(), k, packed.data(),
                          bias.data(), c.data(), ldm, ldn,
                          relu ? LOWBIT_ACT_RELU : LOWBIT_ACT_NONE);
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double ref = bias[j];
        for (int64_t kk = 0; kk < k; ++kk)
          ref += double(a[i * k + kk]) * double(w[j * k + kk]);
        if (relu && ref < 0)
          ref = 0;
        float got = c[i * ldm + j * ldn];
        ASSERT_NEAR(got, ref, 1e-4 * (1.0 + std::sqrt(double(k))))
            << isa.name << " m=" << m << " n=" << n << " k=" << k
            << " at (" << i << ", " << j << ")";
      }
  }
  lowbit_threadpool_destroy(pool);
}

} // namespace

TEST(RuntimeGemm, EdgeShapesEveryIsa) {
  for (int64_t m : {1, 5, 12, 13, 25})
    for (int64_t n : {1, 15, 16, 17, 33, 48})
      for (int64_t k : {0, 1, 7, 64, 385})
        checkGemm(m, n, k, /*transposedOut=*/false, /*relu=*/false, 1);
}

/// Many panels and M blocks: the AVX-512 path packs A blocks k-major.
TEST(RuntimeGemm, WideProductsPackA) {
  for (int64_t m : {37, 300})
    for (int64_t n : {200, 129})
      for (int64_t k : {50, 400})
        checkGemm(m, n, k, /*transposedOut=*/false, /*relu=*/false, 1);
  checkGemm(300, 200, 400, /*transposedOut=*/false, /*relu=*/true, 2);
}

TEST(RuntimeGemm, TransposedOutputReluThreaded) {
  for (int64_t m : {3, 64, 100})
    for (int64_t n : {16, 40})
      checkGemm(m, n, 300, /*transposedOut=*/true, /*relu=*/true, 2);
}

TEST(RuntimeGemm, BatchedActivationsMatchNaive) {
  std::mt19937 rng(1);
  int64_t batch = 5, m = 7, n = 19, k = 33;
  std::vector<float> a = randomVec(batch * m * k, rng),
                     b = randomVec(batch * k * n, rng);
  std::vector<float> scratch(LOWBIT_MAX_THREADS *
                             lowbit_k_sgemm_scratch(n, k) / sizeof(float));
  lowbit_threadpool_t *pool = nullptr;
  ASSERT_EQ(lowbit_threadpool_create(2, &pool), LOWBIT_OK);
  for (const Isa &isa : isas()) {
    std::vector<float> c(batch * m * n, 0.0f);
    lowbit_exec_t ex = {nullptr, nullptr, pool, isa.bits};
    // B given transposed (stride n in k is 1, in n is k): exercises packing.
    std::vector<float> bt(batch * n * k);
    for (int64_t i = 0; i < batch; ++i)
      for (int64_t kk = 0; kk < k; ++kk)
        for (int64_t j = 0; j < n; ++j)
          bt[i * n * k + j * k + kk] = b[i * k * n + kk * n + j];
    lowbit_k_sgemm_batched(&ex, batch, m, n, k, a.data(), nullptr, m * k, k,
                           bt.data(), nullptr, n * k, 1, k, c.data(), m * n,
                           scratch.data());
    for (int64_t i = 0; i < batch; ++i)
      for (int64_t r = 0; r < m; ++r)
        for (int64_t j = 0; j < n; ++j) {
          double ref = 0;
          for (int64_t kk = 0; kk < k; ++kk)
            ref += double(a[i * m * k + r * k + kk]) *
                   double(b[i * k * n + kk * n + j]);
          ASSERT_NEAR(c[i * m * n + r * n + j], ref, 1e-4) << isa.name;
        }
  }
  lowbit_threadpool_destroy(pool);
}

/// Output (b, o, oy, ox) of the grouped convolution in float64, before
/// the activation; w is ONNX's [O, C/g, kh, kw].
double directConv(const lowbit_conv2d_params_t &p, const std::vector<float> &x,
                  const std::vector<float> &w, const std::vector<float> &bias,
                  int64_t b, int64_t o, int64_t oy, int64_t ox) {
  int64_t cg = p.c / p.groups, og = p.o / p.groups, g = o / og;
  double ref = bias[o];
  for (int64_t ci = 0; ci < cg; ++ci)
    for (int64_t ky = 0; ky < p.kh; ++ky)
      for (int64_t kx = 0; kx < p.kw; ++kx) {
        int64_t iy = oy * p.stride_h - p.pad_t + ky * p.dil_h;
        int64_t ix = ox * p.stride_w - p.pad_l + kx * p.dil_w;
        if (iy < 0 || iy >= p.h || ix < 0 || ix >= p.w)
          continue;
        ref += double(x[((b * p.c + g * cg + ci) * p.h + iy) * p.w + ix]) *
               double(w[(o * cg + ci) * p.kh * p.kw + ky * p.kw + kx]);
      }
  return ref;
}

TEST(RuntimeConv, MatchesDirectConvolution) {
  std::mt19937 rng(2);
  lowbit_conv2d_params_t p = {2, 4, 7, 6, 6, 0, 0, 3, 2, 2, 1, 1, 0, 1, 2, 2, 0};
  p.oh = (p.h + 2 * p.pad_t - p.dil_h * (p.kh - 1) - 1) / p.stride_h + 1;
  p.ow = (p.w + 2 * p.pad_l - p.dil_w * (p.kw - 1) - 1) / p.stride_w + 1;
  int64_t cg = p.c / p.groups, og = p.o / p.groups, kg = cg * p.kh * p.kw;
  std::vector<float> x = randomVec(p.n * p.c * p.h * p.w, rng),
                     w = randomVec(p.o * kg, rng), bias = randomVec(p.o, rng);
  std::vector<float> packed;
  for (int64_t g = 0; g < p.groups; ++g) {
    std::vector<float> wg(w.begin() + g * og * kg, w.begin() + (g + 1) * og * kg);
    std::vector<float> pg = pack(wg, og, kg);
    packed.insert(packed.end(), pg.begin(), pg.end());
  }
  std::vector<float> scratch(lowbit_k_conv2d_scratch(&p) / sizeof(float));
  for (const Isa &isa : isas()) {
    std::vector<float> y(p.n * p.o * p.oh * p.ow);
    lowbit_exec_t ex = {nullptr, nullptr, nullptr, isa.bits};
    lowbit_k_conv2d(&ex, &p, x.data(), packed.data(), bias.data(), y.data(),
                    scratch.data());
    for (int64_t b = 0; b < p.n; ++b)
      for (int64_t o = 0; o < p.o; ++o)
        for (int64_t oy = 0; oy < p.oh; ++oy)
          for (int64_t ox = 0; ox < p.ow; ++ox) {
            double ref = directConv(p, x, w, bias, b, o, oy, ox);
            ASSERT_NEAR(y[((b * p.o + o) * p.oh + oy) * p.ow + ox], ref, 1e-4)
                << isa.name;
          }
  }
}

// The direct depthwise kernel against a float64 reference: strides,
// dilations, padding on one side only (oh/ow from a larger bottom/right
// pad), odd row counts (the two-row step), ReLU, a plane too large to stage,
// f32 filters and int4 filters in "int4-rows" with a table.
TEST(RuntimeConv, DepthwiseMatchesDirectConvolution) {
  std::mt19937 rng(5);
  struct Case {
    int64_t h, w, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw;
    int act;
  };
  for (Case k : {Case{7, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0},
                 Case{9, 11, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1},
                 Case{10, 4, 10, 4, 2, 2, 4, 1, 5, 1, 1, 1, 0},
                 Case{8, 9, 3, 2, 1, 3, 0, 2, 2, 0, 2, 2, 1},
                 // Larger than the staged plane: the bounds-checked path.
                 Case{140, 131, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1}})
    for (bool quantized : {false, true}) {
      lowbit_conv2d_params_t p = {2,    5,    k.h,  k.w,  5,    0,   0,
                                  k.kh, k.kw, k.sh, k.sw, k.pt, k.pl, k.dh,
                                  k.dw, 5,    k.act};
      p.oh = (k.h + k.pt + k.pb - k.dh * (k.kh - 1) - 1) / k.sh + 1;
      p.ow = (k.w + k.pl + k.pr - k.dw * (k.kw - 1) - 1) / k.sw + 1;
      int64_t taps = k.kh * k.kw;
      std::vector<float> x = randomVec(p.n * p.c * p.h * p.w, rng),
                         w = randomVec(p.c * taps, rng),
                         bias = randomVec(p.c, rng);
      // int4 codes, one scale per channel, values from a table.
      std::vector<float> lut(16), scales(p.c);
      std::vector<uint8_t> rows(p.c * ((taps * 4 + 7) / 8), 0);
      for (int i = 0; i < 16; ++i)
        lut[i] = float(i) - 8.0f;
      for (int64_t c = 0; c < p.c; ++c) {
        scales[c] = 0.05f * float(c + 1);
        for (int64_t j = 0; j < taps; ++j) {
          uint32_t code = rng() % 16;
          rows[c * ((taps * 4 + 7) / 8) + j / 2] |= uint8_t(code << (4 * (j % 2)));
          if (quantized)
            w[c * taps + j] = lut[code] * scales[c];
        }
      }
      lowbit_qweight_t q = {rows.data(), scales.data(), taps, 4, lut.data(),
                            nullptr};
      for (const Isa &isa : isas()) {
      std::vector<float> y(p.n * p.o * p.oh * p.ow);
      lowbit_exec_t ex = {nullptr, nullptr, nullptr, isa.bits};
      lowbit_k_depthwise2d(&ex, &p, x.data(), quantized ? nullptr : w.data(),
                           quantized ? &q : nullptr, bias.data(), y.data());
      for (int64_t b = 0; b < p.n; ++b)
        for (int64_t c = 0; c < p.c; ++c)
          for (int64_t oy = 0; oy < p.oh; ++oy)
            for (int64_t ox = 0; ox < p.ow; ++ox) {
              double ref = directConv(p, x, w, bias, b, c, oy, ox);
              if (k.act == LOWBIT_ACT_RELU && ref < 0)
                ref = 0;
              ASSERT_NEAR(y[((b * p.c + c) * p.oh + oy) * p.ow + ox], ref,
                          1e-4)
                  << isa.name << " h=" << k.h << " kh=" << k.kh
                  << " sw=" << k.sw << " quantized=" << quantized;
            }
      }
    }
}
