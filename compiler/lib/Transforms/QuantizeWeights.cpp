//===- QuantizeWeights.cpp - weight-only quantization of layers ---*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//

#include "lowbit/Transforms/Passes.h"
#include "lowbit/Transforms/QuantizationState.h"
#include "lowbit/Transforms/QuantizeWeights.h"

#include "lowbit/Dialect/Lowbit/ConstantUtils.h"
#include "lowbit/Dialect/Lowbit/LowbitOps.h"
#include "lowbit/Quant/Formats.h"
#include "lowbit/Quant/WeightQuantizer.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectResourceBlobManager.h"


namespace mlir::lowbit {
#define GEN_PASS_DEF_QUANTIZEWEIGHTSPASS
#include "lowbit/Transforms/Passes.h.inc"
} // namespace mlir::lowbit

using namespace mlir;
using namespace mlir::lowbit;

/// The attribute by which lowbit-assign-precision (or a user) chooses a
/// layer's scheme; a layer with `lowbit.weight_float` stays in f32.
static constexpr StringLiteral kSchemeAttr = "lowbit.weight_scheme";
static constexpr StringLiteral kFloatAttr = "lowbit.weight_float";

void mlir::lowbit::replaceWeightWithQWeight(Operation *layer,
                                            QuantFormat format,
                                            const QuantizedMatrix &q) {
  OpBuilder b(layer);
  OpOperand &weight = layer->getOpOperand(1);
  weight.assign(createQWeight(b, layer->getLoc(),
                              cast<RankedTensorType>(weight.get().getType()),
                              format, q));
  layer->removeAttr(kSchemeAttr);
}

FailureOr<std::optional<QuantFormat>> mlir::lowbit::parseWeightFormatOptions(
    Location loc, StringRef pass, StringRef format, StringRef scaleType,
    bool allowNone) {
  std::optional<QuantFormat> fmt;
  if (!allowNone || (!format.empty() && format != "none")) {
    fmt = symbolizeQuantFormat(format);
    if (!fmt || !isWeightFormat(*fmt))
      return emitError(loc) << pass << ": format '" << format
                            << "' is not a signed weight format (int2..int8, "
                               "nf4, fp8_e4m3, fp8_e5m2, fp4_e2m1)";
  }
  if (scaleType != "f32" && scaleType != "f16")
    return emitError(loc) << pass << ": scale-type must be f32 or f16, got '"
                          << scaleType << "'";
  return fmt;
}

namespace {
struct QuantizeWeightsPass
    : lowbit::impl::QuantizeWeightsPassBase<QuantizeWeightsPass> {
  using Base::Base;

  void runOnOperation() override {
    FailureOr<std::optional<QuantFormat>> parsed =
        parseWeightFormatOptions(getOperation().getLoc(),
                                 "lowbit-quantize-weights", format, scaleType,
                                 /*allowNone=*/true);
    if (failed(parsed))
      return signalPassFailure();
    std::optional<QuantFormat> fmt = *parsed;
    if (clip != "mse" && clip != "max") {
      emitError(getOperation().getLoc())
          << "lowbit-quantize-weights: clip must be mse or max, got '" << clip
          << "'";
      return signalPassFailure();
    }
    if (rounding != "nearest" && rounding != "gptq") {
      emitError(getOperation().getLoc())
          << "lowbit-quantize-weights: rounding must be nearest or gptq, got '"
          << rounding << "'";
      return signalPassFailure();
    }
    // Layer -> H of its input, for GPTQ (absent: round to nearest).
    llvm::DenseMap<Operation *, ArrayRef<float>> hessians;
    SensitivityResult computed;
    if (rounding == "gptq" && failed(getHessians(hessians, computed)))
      return signalPassFailure();
    Builder b(&getContext());
    logQuantFact(getOperation(), "rounding", b.getStringAttr(rounding));
    logQuantFact(getOperation(), "scale_type", b.getStringAttr(scaleType));
    WalkResult walk = getOperation().walk([&](Operation *op) {
      if (!isa<LinearOp, Conv2DOp>(op))
        return WalkResult::advance();
      OpOperand &weight = op->getOpOperand(1);
      auto wType = dyn_cast<RankedTensorType>(weight.get().getType());
      if (op->hasAttr(kFloatAttr) || !wType || !wType.hasStaticShape())
        return WalkResult::advance();
      QuantFormat f;
      int64_t g = groupSize;
      bool f16 = scaleType == "f16";
      if (auto scheme = op->getAttrOfType<SchemeAttr>(kSchemeAttr)) {
        if (!isWeightFormat(scheme.getFormat()) || !scheme.getSymmetric() ||
            scheme.getGranularity() == Granularity::PerTensor) {
          op->emitError() << "lowbit-quantize-weights: " << kSchemeAttr
                          << " must be a symmetric per-channel or group "
                             "scheme of a signed format, got "
                          << scheme;
          return WalkResult::interrupt();
        }
        f = scheme.getFormat();
        f16 = scheme.getScaleType().isF16();
        g = scheme.getGranularity() == Granularity::Group
                ? scheme.getGroupSize()
                : 0;
      } else if (fmt && wType.getNumElements() >= minElements) {
        f = *fmt;
      } else {
        return WalkResult::advance();
      }
      std::optional<SmallVector<float>> w = readF32Constant(weight.get());
      if (!w)
        return WalkResult::advance();
      // Rows are output channels; a convolution's [O, C, kh, kw] weight is
      // quantized as the [O, C * kh * kw] matrix, one scale per channel.
      int64_t n = wType.getDimSize(0), k = wType.getNumElements() / n;
      if (isa<Conv2DOp>(op))
        g = 0;
      ScaleSearch search = clip == "mse" ? ScaleSearch::Mse : ScaleSearch::Max;
      ArrayRef<float> h = hessians.lookup(op);
      QuantizedMatrix q =
          !h.empty() ? quantizeMatrixGptq(f, *w, n, k, g, h, search, f16)
                     : quantizeMatrix(f, *w, n, k, g, search, f16);
      replaceWeightWithQWeight(op, f, q);
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      return signalPassFailure();
    markAnalysesPreserved<CalibrationData, SensitivityData>();
  }

  /// The layer inputs' Hessians: those lowbit-sensitivity kept, or one
  /// calibration run (into `computed`, which owns them).
  LogicalResult getHessians(llvm::DenseMap<Operation *, ArrayRef<float>> &out,
                            SensitivityResult &computed) {
    const SensitivityResult *source = nullptr;
    if (auto cached = getCachedAnalysis<SensitivityData>();
        cached && cached->get().valid && cached->get().gptq) {
      source = &cached->get().result;
    } else {
      func::FuncOp func = getOperation();
      CalibrationData &calibration = getAnalysis<CalibrationData>();
      if (failed(ensureCalibration(func, calibration,
                                   "lowbit-quantize-weights{rounding=gptq}")))
        return failure();
      SensitivityOptions opts;
      opts.hessiansOnly = true;
      FailureOr<SensitivityResult> r =
          analyzeSensitivity(func, calibration.batches, opts);
      if (failed(r))
        return failure();
      computed = std::move(*r);
      source = &computed;
    }
    for (const LayerAnalysis &l : source->layers)
      out[l.op] = l.hessian;
    return success();
  }
};
} // namespace
