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

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace {

std::vector<uint32_t> isas() {
  std::vector<uint32_t> out = {LOWBIT_CPU_REFERENCE};
  uint32_t cpu = lowbit_cpu_detect();
  if (cpu & LOWBIT_CPU_AVX2)
    out.push_back(LOWBIT_CPU_AVX2);
  if (cpu & LOWBIT_CPU_AVX512VNNI)
    out.push_back(cpu & (LOWBIT_CPU_AVX512 | LOWBIT_CPU_AVX512VNNI |
                         LOWBIT_CPU_AVX2));
  return out;
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
        int64_t k4 = (k + 3) / 4, panels = (n + 15) / 16;
        std::vector<int8_t> packed(panels * k4 * 64, 0);
        std::vector<int32_t> colsum(n, 0);
        for (int64_t j = 0; j < n; ++j)
          for (int64_t kk = 0; kk < k; ++kk) {
            packed[(j / 16) * k4 * 64 + (kk / 4) * 64 + (j % 16) * 4 + kk % 4] =
                w[j * k + kk];
            colsum[j] += w[j * k + kk];
          }
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
              int64_t acc = 0;
              for (int64_t kk = 0; kk < k; ++kk)
                acc += (int64_t(a[i * k + kk]) - zp) * w[j * k + kk];
              float ref = sa * scale[j] * float(acc) + bias[j];
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
