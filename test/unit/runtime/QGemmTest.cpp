//===- QGemmTest.cpp - int8 and int4-weight GEMMs vs references ---*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// The int8 path must be exact in int32 (every ISA equals the naive sum
// bit for bit before the float epilogue); the int4 path is checked
// against a float64 product of the dequantized weights.
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

std::vector<uint32_t> isas() {
  std::vector<uint32_t> out;
  for (const lowbit_test::Isa &isa : lowbit_test::isas())
    out.push_back(isa.bits);
  return out;
}

/// W [N, K] (s8) -> "s8-panel16x4" and its column sums.
void packS8(const std::vector<int8_t> &w, int64_t n, int64_t k,
            std::vector<int8_t> &packed, std::vector<int32_t> &colsum) {
  int64_t k4 = (k + 3) / 4, panels = (n + 15) / 16;
  packed.assign(panels * k4 * 64, 0);
  colsum.assign(panels * 16, 0);
  for (int64_t j = 0; j < n; ++j)
    for (int64_t kk = 0; kk < k; ++kk) {
      packed[(j / 16) * k4 * 64 + (kk / 4) * 64 + (j % 16) * 4 + kk % 4] =
          w[j * k + kk];
      colsum[j] += w[j * k + kk];
    }
}

/// The exact u8 x s8 dot product of row i of A (zero point zp) and row j
/// of W, the oracle every ISA must equal before the float epilogue.
int64_t exactDot(const std::vector<uint8_t> &a, const std::vector<int8_t> &w,
                 int64_t k, int64_t i, int64_t j, int32_t zp) {
  int64_t acc = 0;
  for (int64_t kk = 0; kk < k; ++kk)
    acc += (int64_t(a[i * k + kk]) - zp) * w[j * k + kk];
  return acc;
}

} // namespace

TEST(RuntimeQGemm, U8S8ExactOnEdgeShapes) {
  std::mt19937 rng(3);
  // m = 300 crosses the driver's 256-row blocks; n = 40 is a panel pair
  // (the 8 x 32 tile) and a single panel.
  for (int64_t m : {1, 7, 9, 20, 300})
    for (int64_t n : {1, 16, 17, 40})
      for (int64_t k : {1, 3, 4, 5, 64, 131}) {
        if (m == 300 && (n != 40 || (k != 5 && k != 131)))
          continue;
        std::vector<uint8_t> a(m * k);
        std::vector<int8_t> w(n * k);
        for (auto &x : a)
          x = rng() % 256;
        for (auto &x : w)
          x = static_cast<int8_t>(static_cast<int>(rng() % 256) - 128);
        std::vector<int8_t> packed;
        std::vector<int32_t> colsum;
        packS8(w, n, k, packed, colsum);
        std::vector<float> scale(n), bias(n);
        for (int64_t j = 0; j < n; ++j) {
          scale[j] = 0.01f * (1 + j % 5);
          bias[j] = 0.5f * (j % 3);
        }
        int32_t zp = 117;
        float sa = 0.02f;
        for (uint32_t cpu : isas()) {
          std::vector<float> c(m * n);
          lowbit_exec_t ex = {nullptr, nullptr, nullptr, cpu};
          lowbit_k_qgemm_u8s8(&ex, m, n, k, a.data(), zp, sa, packed.data(),
                              colsum.data(), scale.data(), bias.data(),
                              c.data(), n);
          for (int64_t i = 0; i < m; ++i)
            for (int64_t j = 0; j < n; ++j) {
              float ref =
                  sa * scale[j] * float(exactDot(a, w, k, i, j, zp)) + bias[j];
              ASSERT_FLOAT_EQ(c[i * n + j], ref)
                  << "cpu=" << cpu << " m=" << m << " n=" << n << " k=" << k;
            }
        }
      }
}

// lowbit_k_sgemm_wq decodes intB (or codebook) panels per K block for the
// f32 micro-kernels: K past one block (384), several panels (the two-panel
// kernel), bias and ReLU in the epilogue; lowbit_k_sgemm_s4 is its int4
// entry point.
TEST(RuntimeQGemm, QuantizedWeightsGroupwise) {
  std::mt19937 rng(4);
  for (int bits : {2, 3, 4, 5, 8})
    for (int64_t m : {1, 8, 13, 400}) // 400: several tall M blocks
      for (int64_t n : {5, 33, 64})
        for (int64_t k : {1, 70, 700})
          for (int64_t group : {8, 32, 700}) {
            if (m == 400 && (n != 33 || group != 32))
              continue; // the tall case once per K is enough
            std::uniform_real_distribution<float> d(-1, 1);
            std::vector<float> a(m * k), bias(n);
            for (auto &x : a)
              x = d(rng);
            for (auto &x : bias)
              x = d(rng);
            int span = 1 << bits, lo = -span / 2;
            std::vector<int> w(n * k);
            for (auto &x : w)
              x = static_cast<int>(rng() % span) + lo;
            int64_t panels = (n + 15) / 16, groups = (k + group - 1) / group;
            int64_t rowBytes = 16 * bits / 8;
            std::vector<uint8_t> packed(panels * k * rowBytes, 0);
            std::vector<float> scales(panels * groups * 16, 0.0f);
            for (int64_t j = 0; j < n; ++j) {
              for (int64_t kk = 0; kk < k; ++kk) {
                // LSB-first codes of |bits| bits, 16 per row.
                uint8_t *row = &packed[((j / 16) * k + kk) * rowBytes];
                uint32_t code = uint32_t(w[j * k + kk]) & (span - 1);
                for (int b = 0; b < bits; ++b)
                  if (code >> b & 1) {
                    int at = int(j % 16) * bits + b;
                    row[at / 8] |= uint8_t(1u << (at % 8));
                  }
              }
              for (int64_t g = 0; g < groups; ++g)
                scales[(j / 16) * groups * 16 + g * 16 + j % 16] =
                    0.05f * (1 + (j + g) % 4) / float(span / 16 > 1 ? span / 16 : 1);
            }
            // Codebook formats (nf4, fp4, fp8) read the same unsigned codes
            // through a table of 2^bits values.
            std::vector<float> lut(span);
            for (auto &x : lut)
              x = d(rng) * 4;
            // Affine weights: the table minus a zero point per scale.
            std::vector<float> zeros(scales.size());
            for (auto &x : zeros)
              x = float(rng() % span);
            for (int mode : {0, 1, 2}) // integer, table, table - zero point
            for (uint32_t cpu : isas())
              for (int act : {LOWBIT_ACT_NONE, LOWBIT_ACT_RELU}) {
                const float *table = mode ? lut.data() : nullptr;
                const float *zp = mode == 2 ? zeros.data() : nullptr;
                lowbit_qweight_t q = {packed.data(), scales.data(), group,
                                      bits, table, zp};
                auto value = [&](int64_t i) {
                  int64_t j = i / k, kk = i % k;
                  double z = zp ? zp[(j / 16) * groups * 16 +
                                     (kk / group) * 16 + j % 16]
                                : 0.0;
                  return table ? double(table[uint32_t(w[i]) & (span - 1)]) - z
                               : double(w[i]);
                };
                std::vector<float> c(m * n);
                lowbit_exec_t ex = {nullptr, nullptr, nullptr, cpu};
                if (bits == 4 && act == LOWBIT_ACT_NONE && !table)
                  lowbit_k_sgemm_s4(&ex, m, n, k, a.data(), k, packed.data(),
                                    scales.data(), group, bias.data(),
                                    c.data(), n);
                else
                  lowbit_k_sgemm_wq(&ex, m, n, k, a.data(), k, &q,
                                    bias.data(), c.data(), n, act);
                for (int64_t i = 0; i < m; ++i)
                  for (int64_t j = 0; j < n; ++j) {
                    double ref = bias[j];
                    for (int64_t kk = 0; kk < k; ++kk)
                      ref += double(a[i * k + kk]) * value(j * k + kk) *
                             scales[(j / 16) * groups * 16 +
                                    (kk / group) * 16 + j % 16];
                    if (act == LOWBIT_ACT_RELU && ref < 0)
                      ref = 0;
                    ASSERT_NEAR(c[i * n + j], ref,
                                (table ? 1e-3 * (zp ? span : 1) : 2e-4) *
                                    (1 + std::sqrt(k)))
                        << "bits=" << bits << " mode=" << mode
                        << " cpu=" << cpu << " m=" << m
                        << " n=" << n << " k=" << k << " g=" << group;
                  }
              }
          }
}


// The cases where a 16-bit pair sum (vpmaddubsw) would saturate: every
// activation 255 against weights of -128 or +127 everywhere, alternating
// signs, long K (int32 sums near 2^28), and zero points at both ends of
// the u8 range. Every ISA must equal the exact int64 sum before the float
// epilogue, which is the same expression in every path.
TEST(RuntimeQGemm, U8S8ExactOnSaturatingExtremes) {
  std::mt19937 rng(11);
  struct Fill {
    const char *name;
    int a, w; // -1: random, -2: alternating 255/0 and -128/127
  };
  for (Fill f : {Fill{"255 x -128", 255, -128}, Fill{"255 x 127", 255, 127},
                 Fill{"alternating", -2, -2}, Fill{"255 x random", 255, -1},
                 Fill{"random x -128", -1, -128}})
    for (int64_t k : {2, 7, 64, 1027, 8192})
      for (int32_t zp : {0, 255, 128}) {
        const int64_t m = 9, n = 33;
        std::vector<uint8_t> a(m * k);
        std::vector<int8_t> w(n * k);
        for (int64_t i = 0; i < m * k; ++i)
          a[i] = f.a >= 0 ? uint8_t(f.a)
                 : f.a == -2 ? uint8_t(i % 2 ? 0 : 255)
                             : uint8_t(rng() % 256);
        for (int64_t i = 0; i < n * k; ++i)
          w[i] = f.w >= -128 ? int8_t(f.w)
                 : f.w == -2 ? int8_t((i / 2) % 2 ? 127 : -128)
                             : int8_t(int(rng() % 256) - 128);
        std::vector<int8_t> packed;
        std::vector<int32_t> colsum;
        packS8(w, n, k, packed, colsum);
        std::vector<float> scale(n, 1.0f / 4096.0f), bias(n, 0.25f);
        for (const lowbit_test::Isa &isa : lowbit_test::isas()) {
          std::vector<float> c(m * n);
          lowbit_exec_t ex = {nullptr, nullptr, nullptr, isa.bits};
          lowbit_k_qgemm_u8s8(&ex, m, n, k, a.data(), zp, 0.5f, packed.data(),
                              colsum.data(), scale.data(), bias.data(),
                              c.data(), n);
          for (int64_t i = 0; i < m; ++i)
            for (int64_t j = 0; j < n; ++j) {
              float ref =
                  0.5f * scale[j] *
                      float(int32_t(exactDot(a, w, k, i, j, zp))) +
                  bias[j];
              ASSERT_EQ(c[i * n + j], ref)
                  << isa.name << " " << f.name << " k=" << k << " zp=" << zp
                  << " at " << i << "," << j;
            }
        }
      }
}

// The u8 x s8 convolution (im2col padded with the zero point, then the
// integer GEMM): every ISA equals the exact integer convolution on the
// extremes, with padding and strides, groups, and zero points 0 and 255.
TEST(RuntimeQGemm, ConvU8S8ExactOnExtremes) {
  std::mt19937 rng(12);
  for (int32_t zp : {0, 255, 3})
    for (int64_t groups : {1, 2})
      for (int extreme : {0, 1}) {
        lowbit_conv2d_params_t p = {2, 6, 9, 8, 18, 0, 0, 3, 3,
                                    2, 1, 1, 1,  1, 1, groups, 0};
        p.oh = (p.h + 2 * p.pad_t - (p.kh - 1) - 1) / p.stride_h + 1;
        p.ow = (p.w + 2 * p.pad_l - (p.kw - 1) - 1) / p.stride_w + 1;
        int64_t cg = p.c / groups, og = p.o / groups, kg = cg * p.kh * p.kw;
        std::vector<uint8_t> x(p.n * p.c * p.h * p.w);
        std::vector<int8_t> w(p.o * kg);
        for (auto &v : x)
          v = extreme ? 255 : uint8_t(rng() % 256);
        for (size_t i = 0; i < w.size(); ++i)
          w[i] = extreme ? int8_t(i % 3 ? -128 : 127)
                         : int8_t(int(rng() % 256) - 128);
        std::vector<int8_t> packed;
        std::vector<int32_t> colsum;
        for (int64_t g = 0; g < groups; ++g) {
          std::vector<int8_t> wg(w.begin() + g * og * kg,
                                 w.begin() + (g + 1) * og * kg),
              pg;
          std::vector<int32_t> cs;
          packS8(wg, og, kg, pg, cs);
          packed.insert(packed.end(), pg.begin(), pg.end());
          colsum.insert(colsum.end(), cs.begin(), cs.end());
        }
        int64_t panels = (og + 15) / 16;
        std::vector<float> scale(groups * panels * 16, 0.001f),
            bias(p.o, -1.0f);
        std::vector<float> scratch(lowbit_k_conv2d_scratch(&p) / sizeof(float));
        for (const lowbit_test::Isa &isa : lowbit_test::isas()) {
          std::vector<float> y(p.n * p.o * p.oh * p.ow);
          lowbit_exec_t ex = {nullptr, nullptr, nullptr, isa.bits};
          lowbit_k_conv2d_u8s8(&ex, &p, x.data(), zp, 0.5f, packed.data(),
                               colsum.data(), scale.data(), bias.data(),
                               y.data(), scratch.data());
          for (int64_t b = 0; b < p.n; ++b)
            for (int64_t o = 0; o < p.o; ++o)
              for (int64_t oy = 0; oy < p.oh; ++oy)
                for (int64_t ox = 0; ox < p.ow; ++ox) {
                  int64_t g = o / og, acc = 0;
                  for (int64_t ci = 0; ci < cg; ++ci)
                    for (int64_t ky = 0; ky < p.kh; ++ky)
                      for (int64_t kx = 0; kx < p.kw; ++kx) {
                        int64_t iy = oy * p.stride_h - p.pad_t + ky;
                        int64_t ix = ox * p.stride_w - p.pad_l + kx;
                        // Padding holds the zero point: contributes 0.
                        if (iy < 0 || iy >= p.h || ix < 0 || ix >= p.w)
                          continue;
                        int64_t xv =
                            x[((b * p.c + g * cg + ci) * p.h + iy) * p.w + ix];
                        acc += (xv - zp) *
                               w[(o * cg + ci) * p.kh * p.kw + ky * p.kw + kx];
                      }
                  float ref = 0.5f * 0.001f * float(int32_t(acc)) + bias[o];
                  ASSERT_EQ(y[((b * p.o + o) * p.oh + oy) * p.ow + ox], ref)
                      << isa.name << " zp=" << zp << " groups=" << groups
                      << " extreme=" << extreme;
                }
        }
      }
}

// Activation quantization (ONNX QuantizeLinear in f32: round half to even,
// saturate) gives the same codes on every ISA, ties and both ends included.
TEST(RuntimeQGemm, QuantizeU8SameOnEveryIsa) {
  std::vector<float> x;
  for (int i = -600; i <= 600; ++i)
    x.push_back(0.25f * float(i)); // exact ties at scale 0.5
  x.push_back(1e30f);
  x.push_back(-1e30f);
  std::vector<uint8_t> ref(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    float v = std::nearbyint(x[i] / 0.5f) + 7.0f;
    ref[i] = uint8_t(v < 0 ? 0 : v > 255 ? 255 : v);
  }
  for (const lowbit_test::Isa &isa : lowbit_test::isas()) {
    std::vector<uint8_t> y(x.size());
    lowbit_exec_t ex = {nullptr, nullptr, nullptr, isa.bits};
    lowbit_k_quantize_u8(&ex, int64_t(x.size()), x.data(), 0.5f, 7, y.data());
    for (size_t i = 0; i < x.size(); ++i)
      ASSERT_EQ(int(y[i]), int(ref[i])) << isa.name << " x=" << x[i];
  }
}

namespace {
/// W [rows, k] f32 -> "f32-panel16".
std::vector<float> packF32(const std::vector<float> &w, int64_t rows,
                           int64_t k) {
  int64_t panels = (rows + 15) / 16;
  std::vector<float> out(panels * k * 16, 0.0f);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t kk = 0; kk < k; ++kk)
      out[((r / 16) * k + kk) * 16 + r % 16] = w[r * k + kk];
  return out;
}

/// W [rows, k] int8 codes -> "s8-panel16" with one scale per row.
void packS8Rows(const std::vector<int8_t> &w, const std::vector<float> &s,
                int64_t rows, int64_t k, std::vector<uint8_t> &packed,
                std::vector<float> &scales) {
  int64_t panels = (rows + 15) / 16;
  packed.assign(panels * k * 16, 0);
  scales.assign(panels * 16, 0.0f);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t kk = 0; kk < k; ++kk)
      packed[((r / 16) * k + kk) * 16 + r % 16] = uint8_t(w[r * k + kk]);
    scales[(r / 16) * 16 + r % 16] = s[r];
  }
}
} // namespace

// lowbit_k_sgemm_lowrank: x·Wᵀ + (x·Rᵀ)·Lᵀ + bias with W f32 or int4, the
// factors f32 or int8, against a float64 sum; K past one block, both
// panel kernels, ranks 1..64, ReLU after the branch.
TEST(RuntimeQGemm, LowRankBranch) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> d(-1, 1);
  for (int64_t m : {1, 7, 300})
    for (int64_t n : {16, 37})
      for (int64_t k : {24, 500})
        for (int64_t rank : {1, 16, 64}) {
          std::vector<float> a(m * k), bias(n), w(n * k), l(n * rank),
              r(rank * k);
          for (auto *v : {&a, &bias, &w, &l, &r})
            for (auto &x : *v)
              x = d(rng);
          // int8 copies of the factors (per-row scales) and an int4 W.
          auto toS8 = [&](const std::vector<float> &f, int64_t rows,
                          int64_t cols, std::vector<int8_t> &codes,
                          std::vector<float> &sc) {
            codes.resize(rows * cols);
            sc.resize(rows);
            for (int64_t i = 0; i < rows; ++i) {
              sc[i] = 1.0f / 127;
              for (int64_t j = 0; j < cols; ++j)
                codes[i * cols + j] =
                    int8_t(std::lround(f[i * cols + j] * 127));
            }
          };
          std::vector<int8_t> lc, rc;
          std::vector<float> ls, rs;
          toS8(l, n, rank, lc, ls);
          toS8(r, rank, k, rc, rs);
          std::vector<uint8_t> lq, rq;
          std::vector<float> lqs, rqs;
          packS8Rows(lc, ls, n, rank, lq, lqs);
          packS8Rows(rc, rs, rank, k, rq, rqs);
          lowbit_qweight_t lw = {lq.data(), lqs.data(), rank, 8, nullptr,
                                 nullptr};
          lowbit_qweight_t rw = {rq.data(), rqs.data(), k, 8, nullptr,
                                 nullptr};
          std::vector<float> wp = packF32(w, n, k), lp = packF32(l, n, rank),
                             rp = packF32(r, rank, k);
          // int4 W: codes w4 in [-8, 7], one scale 0.1 per row.
          std::vector<int> w4(n * k);
          int64_t panels = (n + 15) / 16;
          std::vector<uint8_t> w4p(panels * k * 8, 0);
          std::vector<float> w4s(panels * 16, 0.1f);
          for (int64_t j = 0; j < n; ++j)
            for (int64_t kk = 0; kk < k; ++kk) {
              w4[j * k + kk] = int(rng() % 16) - 8;
              uint8_t code = uint8_t(w4[j * k + kk]) & 15;
              w4p[((j / 16) * k + kk) * 8 + (j % 16) / 2] |=
                  uint8_t(code << (4 * (j % 2)));
            }
          lowbit_qweight_t wq = {w4p.data(), w4s.data(), k, 4, nullptr,
                                 nullptr};
          for (int quant : {0, 1})
            for (uint32_t cpu : isas())
              for (int act : {LOWBIT_ACT_NONE, LOWBIT_ACT_RELU}) {
                std::vector<float> xr(m * rank), c(m * n);
                lowbit_lowrank_t lr = {rank,
                                       quant ? nullptr : rp.data(),
                                       quant ? &rw : nullptr,
                                       quant ? nullptr : lp.data(),
                                       quant ? &lw : nullptr,
                                       xr.data()};
                lowbit_exec_t ex = {nullptr, nullptr, nullptr, cpu};
                lowbit_k_sgemm_lowrank(&ex, m, n, k, a.data(), k,
                                       quant ? nullptr : wp.data(),
                                       quant ? &wq : nullptr, &lr,
                                       bias.data(), c.data(), n, act);
                auto lv = [&](int64_t i) {
                  return quant ? lc[i] / 127.0 : double(l[i]);
                };
                auto rv = [&](int64_t i) {
                  return quant ? rc[i] / 127.0 : double(r[i]);
                };
                for (int64_t i = 0; i < m; ++i) {
                  std::vector<double> xrRef(rank, 0.0);
                  for (int64_t t = 0; t < rank; ++t)
                    for (int64_t kk = 0; kk < k; ++kk)
                      xrRef[t] += double(a[i * k + kk]) * rv(t * k + kk);
                  for (int64_t j = 0; j < n; ++j) {
                    double ref = bias[j];
                    for (int64_t kk = 0; kk < k; ++kk)
                      ref += double(a[i * k + kk]) *
                             (quant ? 0.1 * w4[j * k + kk] : w[j * k + kk]);
                    for (int64_t t = 0; t < rank; ++t)
                      ref += xrRef[t] * lv(j * rank + t);
                    if (act == LOWBIT_ACT_RELU && ref < 0)
                      ref = 0;
                    ASSERT_NEAR(c[i * n + j], ref,
                                2e-4 * (1 + std::sqrt(double(k * rank))))
                        << "quant=" << quant << " cpu=" << cpu << " m=" << m
                        << " n=" << n << " k=" << k << " rank=" << rank;
                  }
                }
              }
        }
}
