//===- Calibrate.cpp - the lowbit-calibrate pass ------------------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//

#include "lowbit/Transforms/Passes.h"
#include "lowbit/Transforms/QuantizationState.h"

#include "lowbit/Quant/Calibration.h"

namespace mlir::lowbit {
#define GEN_PASS_DEF_CALIBRATEPASS
#include "lowbit/Transforms/Passes.h.inc"
} // namespace mlir::lowbit

using namespace mlir;
using namespace mlir::lowbit;

namespace {
struct CalibratePass : lowbit::impl::CalibratePassBase<CalibratePass> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (calib.empty()) {
      func.emitError("lowbit-calibrate: calib (a .npz file or a folder of "
                     "NAME.npy) is required");
      return signalPassFailure();
    }
    Builder b(&getContext());
    func->setAttr(kCalibrationAttr,
                  b.getDictionaryAttr(
                      {b.getNamedAttr("source", b.getStringAttr(calib)),
                       b.getNamedAttr("max_samples",
                                      b.getI64IntegerAttr(maxSamples))}));
    CalibrationData &data = getAnalysis<CalibrationData>();
    data.loaded = false;
    if (failed(ensureCalibration(func, data, "lowbit-calibrate")))
      return signalPassFailure();
    func->setAttr(
        kCalibrationAttr,
        b.getDictionaryAttr(
            {b.getNamedAttr("source", b.getStringAttr(calib)),
             b.getNamedAttr("max_samples", b.getI64IntegerAttr(maxSamples)),
             b.getNamedAttr("samples", b.getI64IntegerAttr(data.samples)),
             b.getNamedAttr("batches",
                            b.getI64IntegerAttr(data.batches.size()))}));
    markAllAnalysesPreserved();
  }
};
} // namespace
