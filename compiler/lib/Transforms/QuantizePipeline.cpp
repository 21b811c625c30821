//===- QuantizePipeline.cpp - the quantization stage as passes ----*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// Options are checked together here, before any pass runs, so that a bad
// flag combination fails in milliseconds rather than after calibration.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Transforms/QuantizePipeline.h"

#include "lowbit/Pipeline/TargetBackend.h"
#include "lowbit/Transforms/Passes.h"
#include "lowbit/Transforms/QuantizationState.h"

#include "mlir/Pass/PassRegistry.h"
#include "llvm/ADT/StringExtras.h"

using namespace mlir;
using namespace mlir::lowbit;

LogicalResult mlir::lowbit::buildQuantizePipeline(
    OpPassManager &pm, const QuantizeOptions &o,
    function_ref<LogicalResult(const Twine &)> usage) {
  const TargetBackend *target = nullptr;
  if (!o.target.empty() && !(target = lookupTargetBackend(o.target)))
    return usage("unknown target '" + o.target +
                 "' (registered: " + listTargetBackends() + ")");
  if (o.budgetBits < 0)
    return usage("--budget-bits must be positive");
  if (o.budgetBytes < 0)
    return usage("--budget-size must be positive");
  if (o.budgetLatency < 0)
    return usage("--budget-latency must be positive");
  if (o.budgetLatency > 0 && !target)
    return usage("--budget-latency needs a target's kernels to time: use it "
                 "with lowbit compile");
  bool budgeted = o.budgetBits > 0 || o.budgetBytes > 0 || o.budgetLatency > 0;
  if (budgeted && !o.weights.empty())
    return usage("--weights sets one format for every layer; a budget lets "
                 "lowbit choose per layer. Give one or the other");
  if (budgeted && o.calib.empty())
    return usage("a budget needs calibration data: add --calib FILE.npz");
  if (o.clip != "mse" && o.clip != "max")
    return usage("--clip must be mse or max");
  if (o.scaleType != "f32" && o.scaleType != "f16")
    return usage("--scale-type must be f32 or f16, got '" + o.scaleType + "'");
  bool gptq = o.rounding == "gptq";
  if (!gptq && o.rounding != "nearest")
    return usage("--rounding must be nearest or gptq, got '" + o.rounding +
                 "'");
  if (gptq && o.calib.empty())
    return usage("--rounding gptq needs calibration data: add --calib "
                 "FILE.npz");
  bool a8 = o.activations == "int8" || o.activations == "uint8";
  if (!a8 && !o.activations.empty() && o.activations != "float" &&
      o.activations != "f32")
    return usage("--activations must be int8 or float, got '" +
                 o.activations + "'");
  if (a8 && o.calib.empty())
    return usage("--activations int8 needs calibration data: add --calib "
                 "FILE.npz");
  if (o.smooth < 0 || o.smooth > 1)
    return usage("--smooth must be in (0, 1]");
  if (o.smooth > 0 && !a8)
    return usage("--smooth evens out activation ranges for int8 "
                 "activations: use it with --activations int8");
  if (o.smooth > 0 && gptq)
    return usage("--smooth with --rounding gptq is not supported yet (the "
                 "calibration Hessian would need the smoothing too)");
  if (o.lowrank < 0 || o.lowrank > 256)
    return usage("--lowrank must be a rank in [0, 256], got " +
                 std::to_string(o.lowrank));
  if (o.lowrankMethod != "svd" && o.lowrankMethod != "eora" &&
      o.lowrankMethod != "svdquant")
    return usage("--lowrank-method must be svd, eora or svdquant, got '" +
                 o.lowrankMethod + "'");
  if (o.lowrankBits != 0 && o.lowrankBits != 8 && o.lowrankBits != 32)
    return usage("--lowrank-bits must be 8, 32 or 0 (auto), got " +
                 std::to_string(o.lowrankBits));
  bool eora = o.lowrank > 0 && o.lowrankMethod == "eora";
  if (eora && o.calib.empty())
    return usage("--lowrank-method eora weights the branch by the "
                 "calibration inputs: add --calib FILE.npz");
  if (o.lowrank > 0 && o.weights.empty() && !budgeted && !a8)
    return usage("--lowrank compensates quantization error: give --weights "
                 "FORMAT or a budget");
  if (o.observer != "mse" && o.observer != "minmax" &&
      o.observer != "percentile")
    return usage("--observer must be mse, percentile or minmax");
  std::string weights = a8 && o.weights.empty() && !o.budgetBits &&
                                !o.budgetBytes
                            ? "int8"
                            : o.weights;
  if (weights == "float")
    weights = "f32";
  std::string error;
  FailureOr<std::vector<KeepPin>> pins =
      parseKeepPins(o.keep, o.groupSize, target, error);
  if (failed(pins))
    return usage(error);

  // The candidates a budget chooses among, or the uniform format.
  std::vector<WeightCandidate> candidates;
  std::string formats = o.formats.empty() ? "int4,int8,f32" : o.formats;
  if (budgeted) {
    FailureOr<std::vector<WeightCandidate>> list = parseCandidateList(
        formats, o.groupSize, target, "--formats: ", error);
    if (failed(list))
      return usage(error);
    candidates = std::move(*list);
  } else if (!weights.empty() && weights != "f32") {
    std::optional<WeightCandidate> c = parseWeightCandidate(weights);
    if (!c || !c->format)
      return usage("--weights '" + weights +
                   "' is not a signed weight format (int2..int8, nf4, "
                   "fp8_e4m3, fp8_e5m2, fp4_e2m1)");
    if (c->groupSize == 0)
      c->groupSize = o.groupSize;
    candidates.push_back(*c);
  }
  std::optional<WeightCandidate> embeddings;
  if (!o.embeddings.empty() && o.embeddings != "f32" &&
      o.embeddings != "float") {
    embeddings = parseWeightCandidate(o.embeddings);
    if (!embeddings || !embeddings->format)
      return usage("--embeddings '" + o.embeddings +
                   "' is not a signed weight format (int2..int8, nf4, "
                   "fp8_e4m3, fp8_e5m2, fp4_e2m1, optionally /gSIZE)");
    if (!runsNatively(*embeddings, target))
      return usage(unsupportedByTarget(target) + "--embeddings " +
                   o.embeddings + " (natively: " + nativeFormatList(target) +
                   ")");
  }

  // Embedding tables first, so that the layer search measures the model as
  // it will run and size budgets count the quantized tables.
  if (embeddings) {
    QuantizeEmbeddingsPassOptions e;
    e.format = stringifyQuantFormat(*embeddings->format).str();
    e.groupSize = embeddings->groupSize;
    e.scaleType = o.scaleType;
    pm.addPass(createQuantizeEmbeddingsPass(e));
  }
  // Pinned formats are analyzed too, so the report can show their cost.
  std::vector<WeightCandidate> analyzed = candidates;
  for (const KeepPin &k : *pins)
    if (llvm::none_of(analyzed, [&](const WeightCandidate &c) {
          return c.label() == k.candidate.label();
        }))
      analyzed.push_back(k.candidate);
  bool analyze = !analyzed.empty() && (budgeted || gptq || o.report);
  if (!o.calib.empty() && (analyze || a8 || eora)) {
    CalibratePassOptions c;
    c.calib = o.calib;
    c.maxSamples = o.calibSamples;
    pm.addPass(createCalibratePass(c));
  }
  if (!o.calib.empty() && analyze) {
    SensitivityPassOptions s;
    s.formats = llvm::join(llvm::map_range(analyzed,
                                           [](const WeightCandidate &c) {
                                             return c.label();
                                           }),
                           ",");
    s.clip = o.clip;
    s.rounding = o.rounding;
    s.scaleType = o.scaleType;
    s.probeBatches = o.probeBatches;
    pm.addPass(createSensitivityPass(s));
  }
  AssignPrecisionPassOptions a;
  a.target = o.target;
  a.keep.assign(o.keep.begin(), o.keep.end());
  a.groupSize = o.groupSize;
  a.scaleType = o.scaleType;
  a.measure = o.report && analyze;
  if (budgeted) {
    a.formats = formats;
    a.budgetBits = o.budgetBits;
    a.modelBytes = o.budgetBytes;
    a.budgetLatency = o.budgetLatency;
  } else {
    a.weights = weights;
  }
  if (budgeted || !o.keep.empty() || !candidates.empty())
    pm.addPass(createAssignPrecisionPass(a));
  if (a8) {
    QuantizeActivationsPassOptions q;
    q.observer = o.observer;
    q.smooth = o.smooth;
    pm.addPass(createQuantizeActivationsPass(q));
  }
  QuantizeWeightsPassOptions w;
  w.format = "none"; // lowbit-assign-precision chose per layer
  w.clip = o.clip;
  w.scaleType = o.scaleType;
  w.rounding = o.rounding;
  w.lowrankRank = o.lowrank;
  w.lowrankMethod = o.lowrankMethod;
  w.lowrankBits = o.lowrankBits;
  pm.addPass(createQuantizeWeightsPass(w));
  QuantReportPassOptions r;
  r.emit = o.report;
  pm.addPass(createQuantReportPass(r));
  return success();
}

namespace {
/// The `lowbit-quantize` pipeline's options: QuantizeOptions, spelled as
/// the flags of `lowbit compile` without the dashes.
struct QuantizePipelineOptions
    : public PassPipelineOptions<QuantizePipelineOptions> {
  Option<std::string> target{*this, "target",
                             llvm::cl::desc("Registered backend whose formats "
                                            "and cost model to use (empty: "
                                            "any format)")};
  Option<std::string> weights{*this, "weights",
                              llvm::cl::desc("One format for every layer")};
  Option<int64_t> groupSize{*this, "group-size",
                            llvm::cl::desc("Weights per scale along K"),
                            llvm::cl::init(0)};
  Option<std::string> calib{*this, "calib",
                            llvm::cl::desc("Calibration .npz or folder")};
  Option<int64_t> calibSamples{*this, "calib-samples",
                               llvm::cl::desc("At most this many samples"),
                               llvm::cl::init(0)};
  Option<std::string> formats{
      *this, "formats",
      llvm::cl::desc("Mixed-precision candidates (default int4,int8,f32)")};
  Option<double> budgetBits{*this, "budget-bits",
                            llvm::cl::desc("Average bits per layer weight"),
                            llvm::cl::init(0)};
  Option<double> budgetBytes{*this, "budget-bytes",
                             llvm::cl::desc("Total model bytes"),
                             llvm::cl::init(0)};
  Option<double> budgetLatency{*this, "budget-latency",
                               llvm::cl::desc("Summed layer latency in ms"),
                               llvm::cl::init(0)};
  ListOption<std::string> keep{*this, "keep",
                               llvm::cl::desc("Pins NAME_OR_REGEX=FORMAT")};
  Option<std::string> rounding{*this, "rounding",
                               llvm::cl::desc("nearest or gptq"),
                               llvm::cl::init("nearest")};
  Option<std::string> clip{*this, "clip", llvm::cl::desc("mse or max"),
                           llvm::cl::init("mse")};
  Option<std::string> scaleType{*this, "scale-type",
                                llvm::cl::desc("f32 or f16"),
                                llvm::cl::init("f32")};
  Option<std::string> activations{*this, "activations",
                                  llvm::cl::desc("int8: W8A8")};
  Option<std::string> observer{*this, "observer",
                               llvm::cl::desc("mse, percentile or minmax"),
                               llvm::cl::init("mse")};
  Option<double> smooth{*this, "smooth",
                        llvm::cl::desc("SmoothQuant strength (0: off)"),
                        llvm::cl::init(0)};
  Option<std::string> embeddings{*this, "embeddings",
                                 llvm::cl::desc("Embedding tables' format")};
  Option<int64_t> probeBatches{*this, "probe-batches",
                               llvm::cl::desc("Batches for the probes"),
                               llvm::cl::init(1)};
  Option<bool> report{*this, "report",
                      llvm::cl::desc("Record lowbit.quant_report"),
                      llvm::cl::init(false)};
  Option<int64_t> lowrank{*this, "lowrank",
                          llvm::cl::desc("Rank of the error-compensation "
                                         "branch of each linear (0: none)"),
                          llvm::cl::init(0)};
  Option<std::string> lowrankMethod{*this, "lowrank-method",
                                    llvm::cl::desc("svd, eora or svdquant"),
                                    llvm::cl::init("svd")};
  Option<int64_t> lowrankBits{*this, "lowrank-bits",
                              llvm::cl::desc("Branch storage: 8, 32 or 0 "
                                             "(auto)"),
                              llvm::cl::init(0)};

  QuantizeOptions get() const {
    QuantizeOptions o;
    o.target = target;
    o.weights = weights;
    o.groupSize = groupSize;
    o.calib = calib;
    o.calibSamples = calibSamples;
    o.formats = formats;
    o.budgetBits = budgetBits;
    o.budgetBytes = budgetBytes;
    o.budgetLatency = budgetLatency;
    o.keep.assign(keep.begin(), keep.end());
    o.rounding = rounding;
    o.clip = clip;
    o.scaleType = scaleType;
    o.activations = activations;
    o.observer = observer;
    o.smooth = smooth;
    o.embeddings = embeddings;
    o.probeBatches = probeBatches;
    o.report = report;
    o.lowrank = lowrank;
    o.lowrankMethod = lowrankMethod;
    o.lowrankBits = lowrankBits;
    return o;
  }
};
} // namespace

void mlir::lowbit::registerQuantizePipeline() {
  registerPassPipeline(
      "lowbit-quantize",
      "The quantization stage (on func.func): embeddings, calibrate, "
      "sensitivity, assign-precision, quantize-activations, quantize-weights "
      "and the report, from lowbit compile's flags.",
      [](OpPassManager &pm, StringRef text,
         function_ref<LogicalResult(const Twine &)> errorHandler) {
        QuantizePipelineOptions o;
        if (failed(o.parseFromString(text)))
          return failure();
        return buildQuantizePipeline(pm, o.get(), errorHandler);
      },
      [](function_ref<void(const mlir::detail::PassOptions &)> handler) {
        handler(QuantizePipelineOptions());
      });
}
