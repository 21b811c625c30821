//===- AnalyzeSensitivity.cpp - the lowbit-sensitivity pass -------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//

#include "Progress.h"
#include "lowbit/Transforms/Passes.h"
#include "lowbit/Transforms/QuantizationState.h"

#include "lowbit/Quant/Sensitivity.h"

#include <chrono>

namespace mlir::lowbit {
#define GEN_PASS_DEF_SENSITIVITYPASS
#include "lowbit/Transforms/Passes.h.inc"
} // namespace mlir::lowbit

using namespace mlir;
using namespace mlir::lowbit;

namespace {
struct SensitivityPass : lowbit::impl::SensitivityPassBase<SensitivityPass> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    auto fail = [&](const Twine &message) {
      func.emitError() << "lowbit-sensitivity: " << message;
      signalPassFailure();
    };
    if (clip != "mse" && clip != "max")
      return fail("clip must be mse or max, got '" + clip + "'");
    if (rounding != "nearest" && rounding != "gptq")
      return fail("rounding must be nearest or gptq, got '" + rounding + "'");
    if (scaleType != "f32" && scaleType != "f16")
      return fail("scale-type must be f32 or f16, got '" + scaleType + "'");
    SensitivityOptions opts;
    std::string error;
    FailureOr<std::vector<WeightCandidate>> list =
        parseCandidateList(formats, groupSize, /*target=*/nullptr, "", error);
    if (failed(list))
      return fail(error);
    opts.candidates = std::move(*list);
    if (opts.candidates.empty())
      return fail("formats is empty");
    CalibrationData &calibration = getAnalysis<CalibrationData>();
    if (failed(ensureCalibration(func, calibration, "lowbit-sensitivity")))
      return signalPassFailure();
    opts.search = clip == "max" ? ScaleSearch::Max : ScaleSearch::Mse;
    opts.probeBatches = probeBatches;
    opts.gptq = rounding == "gptq";
    opts.f16Scales = scaleType == "f16";
    Progress progress;
    opts.progress = [&](StringRef s, int64_t d, int64_t t) {
      progress(s, d, t);
    };
    auto t0 = std::chrono::steady_clock::now();
    FailureOr<SensitivityResult> r =
        analyzeSensitivity(func, calibration.batches, opts);
    if (failed(r))
      return signalPassFailure();
    Builder b(&getContext());
    logQuantFact(func, "sensitivity_seconds",
                 b.getF64FloatAttr(std::chrono::duration<double>(
                                       std::chrono::steady_clock::now() - t0)
                                       .count()));
    for (const LayerAnalysis &l : r->layers) {
      SmallVector<Attribute> cands;
      for (size_t k = 0; k < l.candidates.size(); ++k)
        cands.push_back(b.getDictionaryAttr(
            {b.getNamedAttr("format",
                            b.getStringAttr(l.candidates[k].label())),
             b.getNamedAttr("bits", b.getF64FloatAttr(l.bits[k])),
             b.getNamedAttr("sensitivity",
                            b.getF64FloatAttr(l.sensitivity[k])),
             b.getNamedAttr("output_error",
                            b.getF64FloatAttr(l.outputError[k]))}));
      l.op->setAttr(
          kSensitivityAttr,
          b.getDictionaryAttr(
              {b.getNamedAttr("gain", b.getF64FloatAttr(l.gain)),
               b.getNamedAttr("weight_energy",
                              b.getF64FloatAttr(l.weightEnergy)),
               b.getNamedAttr("candidates", b.getArrayAttr(cands))}));
    }
    SensitivityData &data = getAnalysis<SensitivityData>();
    data.result = std::move(*r);
    data.valid = true;
    data.search = opts.search;
    data.gptq = opts.gptq;
    data.f16Scales = opts.f16Scales;
    data.probeBatches = std::max<int64_t>(1, probeBatches);
    markAllAnalysesPreserved();
  }
};
} // namespace
