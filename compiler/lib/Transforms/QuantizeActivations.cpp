//===- QuantizeActivations.cpp - the lowbit-quantize-activations pass -*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//

#include "Progress.h"
#include "lowbit/Transforms/Passes.h"
#include "lowbit/Transforms/QuantizationState.h"

#include "lowbit/Dialect/Lowbit/LowbitOps.h"
#include "lowbit/Quant/Calibration.h"
#include "lowbit/Quant/Smoothing.h"

#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"

#include <map>
#include <tuple>

namespace mlir::lowbit {
#define GEN_PASS_DEF_QUANTIZEACTIVATIONSPASS
#include "lowbit/Transforms/Passes.h.inc"
} // namespace mlir::lowbit

using namespace mlir;
using namespace mlir::lowbit;

namespace {
struct QuantizeActivationsPass
    : lowbit::impl::QuantizeActivationsPassBase<QuantizeActivationsPass> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    auto fail = [&](const Twine &message) {
      func.emitError() << "lowbit-quantize-activations: " << message;
      signalPassFailure();
    };
    RangeObserver rangeObserver = RangeObserver::Mse;
    if (observer == "minmax")
      rangeObserver = RangeObserver::MinMax;
    else if (observer == "percentile")
      rangeObserver = RangeObserver::Percentile;
    else if (observer != "mse")
      return fail("observer must be mse, percentile or minmax, got '" +
                  observer + "'");
    if (smooth < 0 || smooth > 1)
      return fail("smooth must be in (0, 1]");
    std::optional<WeightCandidate> fallback;
    if (!weights.empty() && weights != "f32" && weights != "float") {
      fallback = parseWeightCandidate(weights);
      if (!fallback || !fallback->format)
        return fail("weights '" + weights + "' is not a weight format");
      if (fallback->groupSize == 0)
        fallback->groupSize = groupSize;
    }
    Builder b(&getContext());
    logQuantFact(func, "activations", b.getStringAttr("int8"));
    if (smooth > 0)
      logQuantFact(func, "smooth_alpha", b.getF64FloatAttr(smooth));

    // The layers that will run W8A8: int8 weights, one scale per output
    // channel.
    std::vector<Operation *> w8a8;
    for (Operation *op : getQuantizableLayers(func)) {
      std::optional<WeightCandidate> c = getPlannedWeights(op, fallback);
      if (c && c->format == QuantFormat::Int8 && c->groupSize == 0)
        w8a8.push_back(op);
    }
    CalibrationData &calibration = getAnalysis<CalibrationData>();
    if (failed(ensureCalibration(func, calibration,
                                 "lowbit-quantize-activations")))
      return signalPassFailure();
    Progress progress;
    progress("activation ranges", 0, 1);
    FailureOr<llvm::DenseMap<Operation *, ActivationRange>> ranges =
        calibrateActivations(func, w8a8, calibration.batches, rangeObserver);
    if (failed(ranges))
      return signalPassFailure();
    if (smooth > 0) {
      SmallVector<Operation *> smoothed =
          smoothActivations(func, w8a8, *ranges, smooth);
      for (Operation *op : smoothed)
        op->setAttr(kSmoothedAttr, b.getUnitAttr());
      if (!smoothed.empty()) {
        ranges = calibrateActivations(func, w8a8, calibration.batches,
                                      rangeObserver);
        if (failed(ranges))
          return signalPassFailure();
      }
    }
    progress("activation ranges", 1, 1);

    // Layers reading one value (Q, K and V) share its quantization; each
    // gets its own dequantize, which the x86 target fuses into the layer.
    std::map<std::tuple<void *, double, int64_t>, Value> quantized;
    for (Operation *op : w8a8) {
      auto it = ranges->find(op);
      if (it == ranges->end())
        continue;
      double scale;
      int64_t zp;
      u8Params(it->second, scale, zp);
      Value x = op->getOperand(0);
      auto xt = cast<RankedTensorType>(x.getType());
      Value &q = quantized[{x.getAsOpaquePointer(), scale, zp}];
      if (!q) {
        OpBuilder qb(&getContext());
        if (Operation *def = x.getDefiningOp())
          qb.setInsertionPointAfter(def);
        else
          qb.setInsertionPointToStart(&func.front());
        auto qt = quant::UniformQuantizedType::get(
            /*flags=*/0, qb.getIntegerType(8), qb.getF32Type(), scale, zp, 0,
            255);
        q = QuantizeOp::create(qb, op->getLoc(),
                               RankedTensorType::get(xt.getShape(), qt), x);
      }
      OpBuilder db(op);
      op->setOperand(0, DequantizeOp::create(db, op->getLoc(), xt, q));
    }
    // The float model's outputs and Hessians stay valid: they describe the
    // model before quantization.
    markAnalysesPreserved<CalibrationData, SensitivityData>();
  }
};
} // namespace
