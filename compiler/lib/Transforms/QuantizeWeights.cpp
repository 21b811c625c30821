//===- QuantizeWeights.cpp - weight-only quantization of layers ---*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//

#include "lowbit/Transforms/Passes.h"

#include "lowbit/Dialect/Lowbit/ConstantUtils.h"
#include "lowbit/Dialect/Lowbit/LowbitOps.h"
#include "lowbit/Quant/Formats.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectResourceBlobManager.h"

#include <cmath>

namespace mlir::lowbit {
#define GEN_PASS_DEF_QUANTIZEWEIGHTSPASS
#include "lowbit/Transforms/Passes.h.inc"
} // namespace mlir::lowbit

using namespace mlir;
using namespace mlir::lowbit;

/// Squared error of quantizing `w` with `scale` (symmetric).
static double groupError(QuantFormat f, ArrayRef<float> w, double scale) {
  double err = 0;
  for (float x : w) {
    double q = decodeCode(f, encodeValue(f, x / scale)) * scale;
    err += (q - x) * (q - x);
  }
  return err;
}

/// The scale for one group: max|w| / maxValue, or the best of 20 shrunken
/// candidates when `mse` (clipping outliers trades their error for finer
/// steps everywhere else).
static double chooseScale(QuantFormat f, ArrayRef<float> w, bool mse) {
  double amax = 0;
  for (float x : w)
    amax = std::max(amax, double(std::fabs(x)));
  double maxValue = getFormatInfo(f).maxValue;
  if (amax == 0)
    return 1.0;
  double best = amax / maxValue;
  if (!mse)
    return best;
  double bestErr = groupError(f, w, best);
  for (int i = 1; i < 20; ++i) {
    double s = amax * (1.0 - 0.025 * i) / maxValue;
    double e = groupError(f, w, s);
    if (e < bestErr) {
      bestErr = e;
      best = s;
    }
  }
  return best;
}

namespace {
struct QuantizeWeightsPass
    : lowbit::impl::QuantizeWeightsPassBase<QuantizeWeightsPass> {
  using Base::Base;

  void runOnOperation() override {
    std::optional<QuantFormat> fmt = symbolizeQuantFormat(format);
    if (!fmt || (getFormatInfo(*fmt).isInteger && !getFormatInfo(*fmt).isSigned)) {
      emitError(getOperation().getLoc())
          << "lowbit-quantize-weights: format '" << format
          << "' is not a signed weight format (int2..int8, nf4, fp8_e4m3, "
             "fp8_e5m2, fp4_e2m1)";
      return signalPassFailure();
    }
    if (clip != "mse" && clip != "max") {
      emitError(getOperation().getLoc())
          << "lowbit-quantize-weights: clip must be mse or max, got '" << clip
          << "'";
      return signalPassFailure();
    }
    unsigned bits = getFormatInfo(*fmt).bits;
    OpBuilder b(&getContext());
    getOperation().walk([&](LinearOp op) {
      auto wType = op.getWeight().getType();
      std::optional<SmallVector<float>> w = readF32Constant(op.getWeight());
      if (!w || !wType.hasStaticShape() || wType.getNumElements() < minElements)
        return;
      int64_t n = wType.getDimSize(0), k = wType.getDimSize(1);
      int64_t g = groupSize > 0 ? std::min<int64_t>(groupSize, k) : k;
      int64_t groups = (k + g - 1) / g;
      SmallVector<float> scales(n * groups);
      SmallVector<uint8_t> bytes((n * k * bits + 7) / 8, 0);
      for (int64_t r = 0; r < n; ++r)
        for (int64_t gi = 0; gi < groups; ++gi) {
          int64_t k0 = gi * g, k1 = std::min(k, k0 + g);
          ArrayRef<float> grp(w->data() + r * k + k0, k1 - k0);
          double s = chooseScale(*fmt, grp, clip == "mse");
          scales[r * groups + gi] = static_cast<float>(s);
          for (int64_t kk = k0; kk < k1; ++kk)
            writePackedCode(
                bytes.data(), r * k + kk, bits,
                encodeValue(*fmt, (*w)[r * k + kk] /
                                      double(scales[r * groups + gi])));
        }
      b.setInsertionPoint(op);
      Location loc = op.getLoc();
      auto dataType = RankedTensorType::get({int64_t(bytes.size())},
                                            b.getIntegerType(8));
      Value data = arith::ConstantOp::create(
          b, loc,
          cast<TypedAttr>(DenseResourceElementsAttr::get(
              dataType, "qweight",
              HeapAsmResourceBlob::allocateAndCopyInferAlign(
                  ArrayRef<uint8_t>(bytes)))));
      bool perChannel = groups == 1;
      auto scaleType = perChannel
                           ? RankedTensorType::get({n}, b.getF32Type())
                           : RankedTensorType::get({n, groups}, b.getF32Type());
      Value scaleValue =
          makeF32Constant(b, loc, scaleType, scales, "qweight_scales");
      auto scheme = SchemeAttr::get(
          &getContext(), *fmt,
          perChannel ? Granularity::PerChannel : Granularity::Group,
          perChannel ? 0 : 1, perChannel ? 0 : g, /*symmetric=*/true,
          b.getF32Type());
      auto qw = QWeightOp::create(b, loc, wType, data, scaleValue, Value(),
                                  scheme);
      op.getWeightMutable().assign(qw.getResult());
    });
  }
};
} // namespace
