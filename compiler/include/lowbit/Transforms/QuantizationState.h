//===- QuantizationState.h - what the quantization passes share -*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// The quantization passes (lowbit-calibrate, -sensitivity, -assign-precision,
// -quantize-activations, -quantize-weights, -quant-report) talk through the
// IR: decisions are attributes on the layers and the function. What is too
// big for attributes (calibration batches, the float model's outputs,
// Hessians) is cached in two analyses that those passes preserve; both can
// be rebuilt from the IR (`lowbit.calibration` names the data), so a
// pipeline split across lowbit-opt runs gives the same result.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_TRANSFORMS_QUANTIZATIONSTATE_H
#define LOWBIT_TRANSFORMS_QUANTIZATIONSTATE_H

#include "lowbit/Dialect/Lowbit/LowbitOps.h"
#include "lowbit/Interpreter/Tensor.h"
#include "lowbit/Quant/Sensitivity.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/AnalysisManager.h"

#include "llvm/Support/Regex.h"

#include <string>
#include <vector>

namespace mlir::lowbit {

class TargetBackend;

/// Function attributes written by the quantization passes.
inline constexpr StringLiteral kCalibrationAttr = "lowbit.calibration";
inline constexpr StringLiteral kQuantLogAttr = "lowbit.quant_log";
inline constexpr StringLiteral kQuantReportAttr = "lowbit.quant_report";
/// Layer attributes.
inline constexpr StringLiteral kSensitivityAttr = "lowbit.sensitivity";
inline constexpr StringLiteral kCandidatesAttr = "lowbit.candidates";
inline constexpr StringLiteral kMeasuredErrorAttr = "lowbit.measured_error";
inline constexpr StringLiteral kLatencyAttr = "lowbit.latency_ms";
inline constexpr StringLiteral kSmoothedAttr = "lowbit.smoothed";
inline constexpr StringLiteral kWeightSchemeAttr = "lowbit.weight_scheme";
inline constexpr StringLiteral kWeightFloatAttr = "lowbit.weight_float";
/// Rank of the EoRA branch lowbit-assign-precision chose for a linear layer
/// (a `+rN` candidate); lowbit-quantize-weights builds it.
inline constexpr StringLiteral kWeightLowRankAttr = "lowbit.weight_lowrank";
/// The function's LoRA adapter names in --lora order (lowbit-apply-lora):
/// switchable branches are numbered by it.
inline constexpr StringLiteral kAdaptersAttr = "lowbit.adapters";

/// Below a chain of lowbit.lowrank branches: the weight they all add to.
inline Value lowRankBase(Value w) {
  while (auto lr = w.getDefiningOp<LowRankOp>())
    w = lr.getWeight();
  return w;
}

/// The calibration batches of one function (lowbit-calibrate).
struct CalibrationData {
  explicit CalibrationData(Operation *) {}
  bool loaded = false;
  std::vector<std::vector<Tensor>> batches;
  /// Distinct samples in `batches` (fewer than their rows when a small set
  /// was repeated to fill the compiled batch).
  int64_t samples = 0;
};

/// The sensitivity analysis of one function (lowbit-sensitivity): per layer
/// the candidates' errors and Hessians, and the float model's outputs.
struct SensitivityData {
  explicit SensitivityData(Operation *) {}
  bool valid = false;
  SensitivityResult result;
  /// How the analysis rounded (measurements repeat it).
  ScaleSearch search = ScaleSearch::Mse;
  bool gptq = false, f16Scales = false;
  int64_t probeBatches = 1;
  const LayerAnalysis *find(Operation *layer) const {
    for (const LayerAnalysis &l : result.layers)
      if (l.op == layer)
        return &l;
    return nullptr;
  }
};

/// Loads the batches named by `lowbit.calibration` into `data` unless they
/// are cached. `pass` names the caller in the error.
LogicalResult ensureCalibration(func::FuncOp func, CalibrationData &data,
                                StringRef pass);

/// Adds `key = value` to the function's `lowbit.quant_log` dictionary.
void logQuantFact(func::FuncOp func, StringRef key, Attribute value);

/// The layers quantization acts on: lowbit.linear / conv2d with a constant
/// f32 weight, in program order; with `withKeptBranches`, also the linear
/// layers whose weight is a kept adapter (lowbit.lowrank over a constant f32
/// base: --lora-mode branch), which take a uniform format but are not part
/// of the sensitivity search.
std::vector<Operation *> getQuantizableLayers(func::FuncOp func,
                                              bool withKeptBranches = false);

/// The scheme lowbit-quantize-weights will give `layer` in `format` (conv
/// weights are per output channel whatever the group size).
Attribute makeWeightScheme(Operation *layer, QuantFormat format,
                           int64_t groupSize, bool f16Scales);

/// The weight candidate a layer will be packed in: its lowbit.weight_scheme,
/// nothing with lowbit.weight_float, else `fallback` (the uniform format).
std::optional<WeightCandidate>
getPlannedWeights(Operation *layer,
                  const std::optional<WeightCandidate> &fallback);

/// Bytes of the constants that are not layer weights (nor a packed
/// weight's codes and scales): embedding tables, biases, norms, shapes;
/// what a size budget cannot shrink.
double otherConstantBytes(func::FuncOp func);

/// A `keep` pin: layers whose ONNX name is `pattern` or matches it as a
/// whole regex get `candidate`.
struct KeepPin {
  std::string pattern;
  llvm::Regex regex;
  WeightCandidate candidate;
  bool matches(StringRef name) const;
};

/// Parses NAME_OR_REGEX=FORMAT pins; a format without a group size gets
/// `groupSize`. Formats `target` (if any) does not run are errors.
FailureOr<std::vector<KeepPin>> parseKeepPins(ArrayRef<std::string> keep,
                                              int64_t groupSize,
                                              const TargetBackend *target,
                                              std::string &error);

/// Parses a comma-separated candidate list ("int4,int8/g32,f32"); a format
/// without a group size gets `groupSize`. A format `target` (if any) does
/// not run is an error; an unknown one is "<prefix>'X' is not a weight
/// format".
FailureOr<std::vector<WeightCandidate>>
parseCandidateList(StringRef list, int64_t groupSize,
                   const TargetBackend *target, StringRef prefix,
                   std::string &error);

/// The first pin that matches the layer's ONNX name, or null.
const KeepPin *findPin(ArrayRef<KeepPin> pins, Operation *layer);

/// Whether `target` (null: the interpreter, which simulates every format)
/// runs the candidate natively, and the words for when it does not.
bool runsNatively(const WeightCandidate &c, const TargetBackend *target);
std::string nativeFormatList(const TargetBackend *target);
std::string unsupportedByTarget(const TargetBackend *target);

} // namespace mlir::lowbit

#endif // LOWBIT_TRANSFORMS_QUANTIZATIONSTATE_H
