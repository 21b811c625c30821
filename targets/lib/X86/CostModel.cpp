//===- CostModel.cpp - measured kernel latency of x86 layers ------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//

#include "lowbit/Target/X86/CostModel.h"

#include "lowbit/Dialect/Lowbit/LowbitOps.h"
#include "lowbit/Quant/Formats.h"

#include "lowbit/abi.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <vector>

using namespace mlir;
using namespace mlir::lowbit;

bool mlir::lowbit::isX86WeightFormat(std::optional<QuantFormat> format) {
  if (!format)
    return true;
  FormatInfo info = getFormatInfo(*format);
  return !info.isInteger || info.isSigned; // codebook formats via a table
}

namespace {
/// 64-byte aligned zeroed storage; the kernels' timing does not depend on
/// the values, only on the shapes.
struct Buffer {
  std::unique_ptr<uint8_t, void (*)(void *)> data{nullptr, free};
  explicit Buffer(size_t bytes) {
    bytes = (std::max<size_t>(bytes, 64) + 63) / 64 * 64;
    data.reset(static_cast<uint8_t *>(aligned_alloc(64, bytes)));
    std::fill(data.get(), data.get() + bytes, uint8_t(0));
  }
  template <typename T> T *as() { return reinterpret_cast<T *>(data.get()); }
};
} // namespace

FailureOr<double> mlir::lowbit::measureX86LayerMs(
    Operation *layer, std::optional<QuantFormat> format, int64_t groupSize,
    int threads) {
  if (!isX86WeightFormat(format))
    return failure();
  auto wt = dyn_cast<RankedTensorType>(layer->getOperand(1).getType());
  auto xt = dyn_cast<RankedTensorType>(layer->getOperand(0).getType());
  if (!wt || !xt || !wt.hasStaticShape() || !xt.hasStaticShape())
    return failure();
  int bits = !format ? 32 : int(getFormatInfo(*format).bits);
  lowbit_threadpool_t *pool = nullptr;
  if (lowbit_threadpool_create(threads, &pool) != LOWBIT_OK)
    return failure();
  lowbit_exec_t ex = {nullptr, nullptr, pool, lowbit_cpu_detect()};

  std::function<void()> run;
  std::vector<std::unique_ptr<Buffer>> keep;
  auto buffer = [&](size_t bytes) {
    keep.push_back(std::make_unique<Buffer>(bytes));
    return keep.back().get();
  };
  int64_t n = wt.getDimSize(0), k = wt.getNumElements() / n;
  int64_t panels = (n + LOWBIT_PANEL - 1) / LOWBIT_PANEL;
  int64_t g = groupSize > 0 ? std::min(groupSize, k) : k;
  int64_t groups = (k + g - 1) / g;
  lowbit_qweight_t q = {};
  // Codebook formats decode through a table (zeros: timing only).
  const float *lut = format && !getFormatInfo(*format).isInteger
                         ? buffer(size_t(4) << bits)->as<float>()
                         : nullptr;
  Buffer *w = buffer(bits == 32 ? panels * k * LOWBIT_PANEL * 4
                                : panels * k * LOWBIT_PANEL * bits / 8);
  if (bits != 32)
    q = {w->as<uint8_t>(), buffer(panels * groups * LOWBIT_PANEL * 4)->as<float>(),
         g, bits, lut};
  if (auto linear = dyn_cast<LinearOp>(layer)) {
    int64_t m = xt.getNumElements() / k;
    float *a = buffer(m * k * 4)->as<float>(), *c = buffer(m * n * 4)->as<float>();
    float *wf = w->as<float>();
    run = [=, &ex, &q] {
      if (bits == 32)
        lowbit_k_sgemm_packed(&ex, m, n, k, a, k, wf, nullptr, c, n, 1, 0);
      else
        lowbit_k_sgemm_wq(&ex, m, n, k, a, k, &q, nullptr, c, n, 0);
    };
  } else if (auto conv = dyn_cast<Conv2DOp>(layer)) {
    auto yt = conv.getOutput().getType();
    ArrayRef<int64_t> s = conv.getStrides(), p = conv.getPadding(),
                      d = conv.getDilations();
    auto params = std::make_shared<lowbit_conv2d_params_t>(
        lowbit_conv2d_params_t{xt.getDimSize(0), xt.getDimSize(1),
                               xt.getDimSize(2), xt.getDimSize(3),
                               wt.getDimSize(0), yt.getDimSize(2),
                               yt.getDimSize(3), wt.getDimSize(2),
                               wt.getDimSize(3), s[0], s[1], p[0], p[1], d[0],
                               d[1], int64_t(conv.getGroups()), 0});
    // Grouped convolutions pack each group's channels into whole panels.
    int64_t convGroups = int64_t(conv.getGroups());
    int64_t og = wt.getDimSize(0) / convGroups;
    int64_t gPanels = (og + LOWBIT_PANEL - 1) / LOWBIT_PANEL * convGroups;
    w = buffer(bits == 32 ? gPanels * k * LOWBIT_PANEL * 4
                          : gPanels * k * LOWBIT_PANEL * bits / 8);
    if (bits != 32)
      q = {w->as<uint8_t>(), buffer(gPanels * LOWBIT_PANEL * 4)->as<float>(),
           k, bits, lut};
    float *x = buffer(xt.getNumElements() * 4)->as<float>();
    float *y = buffer(yt.getNumElements() * 4)->as<float>();
    float *scratch =
        buffer(lowbit_k_conv2d_scratch(params.get()) * LOWBIT_MAX_THREADS)
            ->as<float>();
    float *wf = w->as<float>();
    run = [=, &ex, &q] {
      if (bits == 32)
        lowbit_k_conv2d(&ex, params.get(), x, wf, nullptr, y, scratch);
      else
        lowbit_k_conv2d_wq(&ex, params.get(), x, &q, nullptr, y, scratch);
    };
  } else {
    lowbit_threadpool_destroy(pool);
    return failure();
  }
  run(); // warm-up: caches, page faults, thread start
  std::vector<double> times;
  double spent = 0;
  while (times.size() < 3 || (spent < 30.0 && times.size() < 1000)) {
    auto t0 = std::chrono::steady_clock::now();
    run();
    double ms = std::chrono::duration<double, std::milli>(
                    std::chrono::steady_clock::now() - t0)
                    .count();
    times.push_back(ms);
    spent += ms;
  }
  lowbit_threadpool_destroy(pool);
  std::nth_element(times.begin(), times.begin() + times.size() / 2,
                   times.end());
  return times[times.size() / 2];
}
