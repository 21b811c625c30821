//===- QuantizeModel.cpp - the lowbit-quantize pass ---------------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// The quantization stage of the compile pipeline: uniform formats, or
// calibration + sensitivity + the integer program; GPTQ rounding, W8A8
// activations with SmoothQuant, embedding tables; and the report. Formats
// and latencies come from the target backend named by the `target` option.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Dialect/Lowbit/ConstantUtils.h"
#include "lowbit/Dialect/Lowbit/LowbitOps.h"
#include "lowbit/Interpreter/Interpreter.h"
#include "lowbit/Pipeline/TargetBackend.h"
#include "lowbit/Quant/Calibration.h"
#include "lowbit/Quant/Sensitivity.h"
#include "lowbit/Quant/Smoothing.h"
#include "lowbit/Transforms/Passes.h"
#include "lowbit/Transforms/QuantizeWeights.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/Regex.h"
#include "llvm/Support/raw_ostream.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <map>
#include <tuple>

namespace mlir::lowbit {
#define GEN_PASS_DEF_QUANTIZEMODELPASS
#include "lowbit/Transforms/Passes.h.inc"
} // namespace mlir::lowbit

using namespace mlir;
using namespace mlir::lowbit;
using json = nlohmann::json;

namespace {
using QuantArgs = QuantizeModelPassOptions;

/// Errors name the flag of `lowbit compile` that sets the option; the
/// driver prints them as "lowbit: error: ...".
LogicalResult fail(MLIRContext *ctx, const Twine &message) {
  emitError(UnknownLoc::get(ctx)) << message;
  return failure();
}

template <typename... Ts>
std::string formatted(const char *fmt, Ts... args) {
  std::string out;
  llvm::raw_string_ostream(out) << llvm::format(fmt, args...);
  return out;
}

/// One line per stage on a pipe; a redrawn bar on a terminal.
class Progress {
public:
  void operator()(StringRef stage, int64_t done, int64_t total) {
    bool tty = llvm::sys::Process::StandardErrIsDisplayed();
    if (stage != current) {
      if (!current.empty() && tty)
        llvm::errs() << "\n";
      current = stage.str();
      start = std::chrono::steady_clock::now();
      lastTenth = -1;
    }
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                             start)
                   .count();
    int width = 30, filled = total ? int(width * done / total) : width;
    if (tty) {
      llvm::errs() << "\rlowbit: " << llvm::format("%-18s", stage.str().c_str())
                   << " [" << std::string(filled, '#')
                   << std::string(width - filled, ' ') << "] " << done << "/"
                   << total << llvm::format(" %.1f s", s);
      if (done == total)
        llvm::errs() << "\n";
      current = done == total ? "" : current;
      return;
    }
    // Not a terminal (CI logs): print at each tenth.
    int tenth = total ? int(10 * done / total) : 10;
    if (tenth != lastTenth && (tenth % 5 == 0 || done == total)) {
      llvm::errs() << "lowbit: " << stage << ": " << done << "/" << total
                   << llvm::format(" (%.1f s)\n", s);
      lastTenth = tenth;
    }
  }

private:
  std::string current;
  std::chrono::steady_clock::time_point start;
  int lastTenth = -1;
};

struct Keep {
  std::string pattern;
  llvm::Regex regex;
  WeightCandidate candidate;
  bool matches(StringRef name) const {
    if (name == pattern)
      return true;
    SmallVector<StringRef> groups;
    return regex.match(name, &groups) && groups[0] == name;
  }
};

/// Whether `target` (null: the interpreter, which simulates everything)
/// runs the candidate's format natively.
bool nativeOk(const WeightCandidate &c, const TargetBackend *target) {
  return !target || !c.format || target->supportsWeightFormat(*c.format);
}

std::string nativeList(const TargetBackend *target) {
  std::string out;
  for (QuantFormat f : target->getWeightFormats())
    out += stringifyQuantFormat(f).str() + ", ";
  return out + "f32";
}

std::string unsupportedBy(const TargetBackend *target) {
  return "unsupported by the " + target->getName().str() + " target: ";
}

/// Bytes of the constants that are not quantizable layer weights: what a
/// size budget cannot shrink.
double fixedBytes(func::FuncOp func,
                  const llvm::DenseSet<Value> &layerWeights) {
  double bytes = 0;
  func.walk([&](arith::ConstantOp cst) {
    if (layerWeights.contains(cst.getResult()) || cst->use_empty())
      return;
    auto t = dyn_cast<ShapedType>(cst.getType());
    if (t && t.hasStaticShape() && t.getElementType().isIntOrFloat())
      bytes += double(t.getNumElements()) *
               std::max<unsigned>(8, t.getElementTypeBitWidth()) / 8;
  });
  return bytes;
}

LogicalResult runPass(func::FuncOp func, std::unique_ptr<Pass> pass) {
  PassManager pm(func.getContext(), func::FuncOp::getOperationName());
  pm.addPass(std::move(pass));
  return pm.run(func);
}
} // namespace

/// --embeddings: runs lowbit-quantize-embeddings and lists the tables it
/// quantized in `out` (the report's "embeddings"). Returns an exit code.
static LogicalResult quantizeEmbeddings(func::FuncOp func,
                                        const QuantArgs &args,
                                        const TargetBackend *target,
                                        json &out) {
  MLIRContext *ctx = func.getContext();
  if (args.embeddings.empty() || args.embeddings == "f32" ||
      args.embeddings == "float")
    return success();
  std::optional<WeightCandidate> c = parseWeightCandidate(args.embeddings);
  if (!c || !c->format)
    return fail(ctx, "--embeddings '" + args.embeddings +
                         "' is not a signed weight format (int2..int8, nf4, "
                         "fp8_e4m3, fp8_e5m2, fp4_e2m1, optionally /gSIZE)");
  if (!nativeOk(*c, target))
    return fail(ctx, unsupportedBy(target) + "--embeddings " +
                         args.embeddings + " (natively: " + nativeList(target) +
                         ")");
  QuantizeEmbeddingsPassOptions opts;
  opts.format = stringifyQuantFormat(*c->format).str();
  opts.groupSize = c->groupSize;
  opts.scaleType = args.scaleType;
  if (failed(runPass(func, createQuantizeEmbeddingsPass(opts))))
    return failure();
  int scaleBytes = args.scaleType == "f16" ? 2 : 4;
  func.walk([&](QWeightOp qw) {
    if (llvm::none_of(qw->getUsers(), [](Operation *u) {
          auto n = dyn_cast<OnnxNodeOp>(u);
          return n && n.getOpType() == "Gather";
        }))
      return;
    auto t = qw.getOutput().getType();
    double bytes = double(qw.getData().getType().getNumElements()) +
                   double(qw.getScales().getType().getNumElements()) *
                       scaleBytes;
    out.push_back({{"name", getNodeName(qw)},
                   {"shape", {t.getDimSize(0), t.getDimSize(1)}},
                   {"format", c->label()},
                   {"bytes", bytes},
                   {"float_bytes", 4.0 * t.getNumElements()}});
  });
  if (out.empty())
    emitWarning(UnknownLoc::get(ctx))
        << "--embeddings: the model has no constant table read by a Gather "
           "along axis 0";
  return success();
}

/// --smooth: SmoothQuant on the layers that will run W8A8 (int8 weights,
/// one scale per output channel: a layer's own scheme, or the uniform
/// candidate), then their new inputs' ranges. Returns false on failure.
static bool
smoothW8A8Layers(func::FuncOp func, ArrayRef<Operation *> layers,
                 const std::vector<WeightCandidate> &candidates, bool budgeted,
                 double alpha, ArrayRef<std::vector<Tensor>> batches,
                 RangeObserver observer,
                 llvm::DenseMap<Operation *, ActivationRange> &ranges,
                 llvm::DenseSet<Value> &layerWeights,
                 llvm::DenseSet<Operation *> &smoothedLayers) {
  std::vector<Operation *> w8a8;
  for (Operation *op : layers) {
    std::optional<WeightCandidate> c;
    if (auto scheme = op->getAttrOfType<SchemeAttr>("lowbit.weight_scheme"))
      c = WeightCandidate{scheme.getFormat(),
                          scheme.getGranularity() == Granularity::Group
                              ? scheme.getGroupSize()
                              : 0};
    else if (!budgeted && !op->hasAttr("lowbit.weight_float") &&
             !candidates.empty())
      c = candidates[0];
    if (c && c->format == QuantFormat::Int8 &&
        (c->groupSize == 0 || isa<Conv2DOp>(op)))
      w8a8.push_back(op);
  }
  SmallVector<Operation *> smoothed =
      smoothActivations(func, w8a8, ranges, alpha);
  for (Operation *op : smoothed) {
    layerWeights.insert(op->getOperand(1));
    smoothedLayers.insert(op);
  }
  if (smoothed.empty())
    return true;
  FailureOr<llvm::DenseMap<Operation *, ActivationRange>> r =
      calibrateActivations(func, layers, batches, observer);
  if (failed(r))
    return false;
  ranges = std::move(*r);
  return true;
}

/// The whole stage; `report` receives the summary when args.report.
static LogicalResult quantizeModel(func::FuncOp func, const QuantArgs &args,
                                   const TargetBackend *target, json &report) {
  MLIRContext *ctx = func.getContext();
  auto usage = [&](const std::string &msg) { return fail(ctx, msg); };
  // Budgets.
  double budgetBits = args.budgetBits, budgetBytes = args.budgetBytes;
  if (args.budgetBits < 0)
    return usage("--budget-bits must be positive");
  if (budgetBytes < 0)
    return usage("--budget-size must be positive");
  double budgetLatency = args.budgetLatency;
  if (budgetLatency < 0)
    return usage("--budget-latency must be positive");
  if (budgetLatency > 0 && !target)
    return usage("--budget-latency needs a target's kernels to time: use it "
                 "with lowbit compile");
  bool budgeted = budgetBits > 0 || budgetBytes > 0 || budgetLatency > 0;
  if (budgeted && !args.weights.empty())
    return usage("--weights sets one format for every layer; a budget lets "
                 "lowbit choose per layer. Give one or the other");
  if (budgeted && args.calib.empty())
    return usage("a budget needs calibration data: add --calib FILE.npz");
  if (args.clip != "mse" && args.clip != "max")
    return usage("--clip must be mse or max");
  if (args.scaleType != "f32" && args.scaleType != "f16")
    return usage("--scale-type must be f32 or f16, got '" + args.scaleType +
                 "'");
  bool f16 = args.scaleType == "f16";
  bool gptq = args.rounding == "gptq";
  if (!gptq && args.rounding != "nearest")
    return usage("--rounding must be nearest or gptq, got '" + args.rounding +
                 "'");
  if (gptq && args.calib.empty())
    return usage("--rounding gptq needs calibration data: add --calib "
                 "FILE.npz");
  bool a8 = args.activations == "int8" || args.activations == "uint8";
  if (!a8 && !args.activations.empty() && args.activations != "float" &&
      args.activations != "f32")
    return usage("--activations must be int8 or float, got '" +
                 args.activations + "'");
  if (a8 && args.calib.empty())
    return usage("--activations int8 needs calibration data: add --calib "
                 "FILE.npz");
  if (args.smooth < 0 || args.smooth > 1)
    return usage("--smooth must be in (0, 1]");
  if (args.smooth > 0 && !a8)
    return usage("--smooth evens out activation ranges for int8 "
                 "activations: use it with --activations int8");
  if (args.smooth > 0 && gptq)
    return usage("--smooth with --rounding gptq is not supported yet (the "
                 "calibration Hessian would need the smoothing too)");
  RangeObserver observer = RangeObserver::Mse;
  if (args.observer == "minmax")
    observer = RangeObserver::MinMax;
  else if (args.observer == "percentile")
    observer = RangeObserver::Percentile;
  else if (args.observer != "mse")
    return usage("--observer must be mse, percentile or minmax");
  std::string weightsFlag =
      a8 && args.weights.empty() && !budgetBits && !budgetBytes ? "int8"
                                                                : args.weights;

  // Pins.
  std::vector<Keep> keeps;
  for (const std::string &k : args.keep) {
    size_t eq = k.rfind('=');
    std::string fmt = eq == std::string::npos ? "" : k.substr(eq + 1);
    if (fmt == "fp16" || fmt == "f16" || fmt == "float")
      fmt = "f32";
    std::optional<WeightCandidate> c = parseWeightCandidate(fmt);
    if (eq == std::string::npos || eq == 0 || !c)
      return usage("--keep '" + k +
                   "' must look like NAME_OR_REGEX=FORMAT with FORMAT one of "
                   "f32, int2..int8, nf4, fp8_e4m3, fp8_e5m2, fp4_e2m1 "
                   "(optionally /gSIZE)");
    if (!nativeOk(*c, target))
      return fail(ctx, unsupportedBy(target) + "--keep " + k +
                           " (natively: " + nativeList(target) + ")");
    if (c->format && c->groupSize == 0)
      c->groupSize = args.groupSize;
    std::string error;
    Keep keep{k.substr(0, eq), llvm::Regex(k.substr(0, eq)), *c};
    if (!keep.regex.isValid(error))
      return usage("--keep '" + k + "': bad regex: " + error);
    keeps.push_back(std::move(keep));
  }

  // The layers that can be quantized.
  std::vector<Operation *> layers;
  llvm::DenseSet<Value> layerWeights;
  func.walk([&](Operation *op) {
    if (isa<LinearOp, Conv2DOp>(op) &&
        op->getOperand(1).getDefiningOp<arith::ConstantOp>()) {
      layers.push_back(op);
      layerWeights.insert(op->getOperand(1));
    }
  });
  auto keepFor = [&](Operation *op) -> const Keep * {
    std::string name = getNodeName(op);
    for (const Keep &k : keeps)
      if (k.matches(name))
        return &k;
    return nullptr;
  };
  for (const Keep &k : keeps)
    if (llvm::none_of(layers, [&](Operation *op) { return k.matches(getNodeName(op)); }))
      emitWarning(UnknownLoc::get(ctx))
          << "--keep " << k.pattern << " matches no layer";
  auto pin = [&](Operation *op, const WeightCandidate &c) {
    Builder b(op->getContext());
    if (!c.format) {
      op->setAttr("lowbit.weight_float", b.getUnitAttr());
      return;
    }
    bool group = c.groupSize > 0 && isa<LinearOp>(op);
    op->setAttr("lowbit.weight_scheme",
                SchemeAttr::get(op->getContext(), *c.format,
                                group ? Granularity::Group
                                      : Granularity::PerChannel,
                                group ? 1 : 0, group ? c.groupSize : 0, true,
                                args.scaleType == "f16"
                                    ? FloatType(b.getF16Type())
                                    : FloatType(b.getF32Type())));
  };

  // Candidates.
  std::vector<WeightCandidate> candidates;
  if (budgeted) {
    std::string list = args.formats.empty() ? "int4,int8,f32" : args.formats;
    SmallVector<StringRef> parts;
    StringRef(list).split(parts, ',', -1, false);
    for (StringRef p : parts) {
      std::optional<WeightCandidate> c = parseWeightCandidate(p);
      if (!c)
        return usage("--formats: '" + p.str() + "' is not a weight format");
      if (!nativeOk(*c, target))
        return fail(ctx, unsupportedBy(target) + p + " weights (natively: " +
                             nativeList(target) +
                             "); use lowbit run to simulate other formats");
      if (c->format && c->groupSize == 0)
        c->groupSize = args.groupSize;
      candidates.push_back(*c);
    }
  } else if (!weightsFlag.empty() && weightsFlag != "f32" &&
             weightsFlag != "float") {
    std::optional<WeightCandidate> c = parseWeightCandidate(weightsFlag);
    if (!c)
      return usage("--weights '" + weightsFlag +
                   "' is not a signed weight format (int2..int8, nf4, "
                   "fp8_e4m3, fp8_e5m2, fp4_e2m1)");
    if (c->groupSize == 0)
      c->groupSize = args.groupSize;
    candidates.push_back(*c);
  }
  // Pinned formats are analyzed too, so the report can show their cost.
  std::vector<WeightCandidate> analyzed = candidates;
  for (const Keep &k : keeps)
    if (llvm::none_of(analyzed, [&](const WeightCandidate &c) {
          return c.label() == k.candidate.label();
        }))
      analyzed.push_back(k.candidate);

  report["rounding"] = args.rounding;
  report["scale_type"] = args.scaleType;
  if (args.smooth > 0)
    report["smooth_alpha"] = args.smooth;
  report["mode"] = std::string(budgeted            ? "mixed precision (ILP)"
                               : candidates.empty() ? "float"
                                                    : "uniform " +
                                                          candidates[0].label()) +
                   (a8 ? ", int8 activations" : "");
  // Embedding tables first, so that the layer search measures the model as
  // it will run and size budgets count the quantized tables.
  json embeddings = json::array();
  if (failed(quantizeEmbeddings(func, args, target, embeddings)))
    return failure();
  report["embeddings"] = embeddings;
  Progress progress;
  std::optional<SensitivityResult> analysis;
  std::vector<std::vector<Tensor>> batches;
  bool analyze =
      !analyzed.empty() && (budgeted || gptq || args.report);
  if (!args.calib.empty() && (analyze || a8)) {
    std::string error;
    FailureOr<CalibrationSet> set = loadCalibrationSet(args.calib, error);
    if (failed(set))
      return fail(ctx, error);
    FailureOr<std::vector<std::vector<Tensor>>> made =
        makeCalibrationBatches(func, *set, args.calibSamples, error);
    if (failed(made))
      return fail(ctx, error);
    batches = std::move(*made);
    int64_t used = 0;
    for (auto &b : batches)
      used += b.empty() ? 0 : b[0].dim(0);
    report["calibration"] = {{"source", args.calib},
                             {"samples", used},
                             {"batches", batches.size()}};
  }
  if (!batches.empty() && analyze) {
    SensitivityOptions opts;
    opts.candidates = analyzed;
    opts.search = args.clip == "max" ? ScaleSearch::Max : ScaleSearch::Mse;
    opts.probeBatches = args.probeBatches;
    opts.gptq = gptq;
    opts.f16Scales = f16;
    opts.progress = [&](StringRef s, int64_t d, int64_t t) { progress(s, d, t); };
    auto t0 = std::chrono::steady_clock::now();
    FailureOr<SensitivityResult> r = analyzeSensitivity(func, batches, opts);
    if (failed(r))
      return failure();
    analysis = std::move(*r);
    report["sensitivity_seconds"] =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
            .count();
  }
  llvm::DenseMap<Operation *, const LayerAnalysis *> byOp;
  if (analysis)
    for (const LayerAnalysis &l : analysis->layers)
      byOp[l.op] = &l;

  std::map<std::pair<Operation *, std::string>, double> latency;
  if (budgeted) {
    // lowbit.candidates per layer: the pinned one, or every --formats one.
    Builder b(func.getContext());
    for (const LayerAnalysis &l : analysis->layers) {
      const Keep *k = keepFor(l.op);
      SmallVector<Attribute> list;
      for (size_t c = 0; c < l.candidates.size(); ++c) {
        bool allowed = k ? l.candidates[c].label() ==
                               (isa<Conv2DOp>(l.op) && k->candidate.format
                                    ? WeightCandidate{k->candidate.format, 0}
                                    : k->candidate)
                                   .label()
                         : c < candidates.size();
        if (!allowed)
          continue;
        SmallVector<NamedAttribute> fields = {
            b.getNamedAttr("format", b.getStringAttr(l.candidates[c].label())),
            b.getNamedAttr("bits", b.getF64FloatAttr(l.bits[c])),
            b.getNamedAttr("sensitivity", b.getF64FloatAttr(l.sensitivity[c]))};
        if (budgetLatency > 0) {
          FailureOr<double> ms = target->layerLatencyMs(
              l.op, l.candidates[c].format, l.candidates[c].groupSize);
          if (failed(ms))
            return fail(ctx, unsupportedBy(target) + "cannot time layer '" +
                                 l.name + "' in " + l.candidates[c].label());
          latency[{l.op, l.candidates[c].label()}] = *ms;
          fields.push_back(b.getNamedAttr("latency", b.getF64FloatAttr(*ms)));
        }
        list.push_back(b.getDictionaryAttr(fields));
      }
      l.op->setAttr("lowbit.candidates", b.getArrayAttr(list));
      if (budgetLatency > 0)
        progress("timing kernels", &l - analysis->layers.data() + 1,
                 analysis->layers.size());
    }
    // Say what is feasible in the user's own terms before solving.
    double minBits = 0, numWeights = 0;
    for (const LayerAnalysis &l : analysis->layers) {
      auto list = l.op->getAttrOfType<ArrayAttr>("lowbit.candidates");
      double least = 0;
      for (auto [i, a] : llvm::enumerate(list)) {
        double bits =
            cast<DictionaryAttr>(a).getAs<FloatAttr>("bits").getValueAsDouble();
        least = i == 0 ? bits : std::min(least, bits);
      }
      minBits += least;
      numWeights += double(l.rows) * l.cols;
    }
    double fixed = fixedBytes(func, layerWeights);
    std::string allowed = args.formats.empty() ? "int4,int8,f32" : args.formats;
    if (budgetBits > 0 && budgetBits * numWeights < minBits * (1 - 1e-12)) {
      return fail(ctx, formatted(
          "--budget-bits %g is infeasible: with formats %s%s "
          "the smallest feasible average is %.4f bits per weight",
          budgetBits, allowed.c_str(), keeps.empty() ? "" : " and the --keep pins",
          minBits / numWeights));
    }
    double minBytes = std::ceil(minBits / 8) + fixed;
    if (budgetBytes > 0 && budgetBytes < minBytes) {
      return fail(ctx, formatted(
          "--budget-size %.0f bytes is infeasible: with formats "
          "%s%s the smallest feasible model is %.0f bytes (layer weights "
          "%.0f + other constants %.0f)",
          budgetBytes, allowed.c_str(),
          keeps.empty() ? "" : " and the --keep pins", minBytes,
          std::ceil(minBits / 8), fixed));
    }
    if (budgetLatency > 0) {
      double fastest = 0;
      for (const LayerAnalysis &l : analysis->layers) {
        double best = -1;
        for (Attribute a : l.op->getAttrOfType<ArrayAttr>("lowbit.candidates")) {
          double ms = cast<DictionaryAttr>(a)
                          .getAs<FloatAttr>("latency")
                          .getValueAsDouble();
          best = best < 0 ? ms : std::min(best, ms);
        }
        fastest += best;
      }
      if (budgetLatency < fastest) {
        return fail(ctx, formatted(
            "--budget-latency %g ms is infeasible: with "
            "formats %s%s the layers' kernels take at least %.3f ms on this "
            "machine",
            budgetLatency, allowed.c_str(),
            keeps.empty() ? "" : " and the --keep pins", fastest));
      }
    }
    AssignPrecisionPassOptions opts;
    opts.budgetBits = budgetBits;
    opts.budgetLatency = budgetLatency;
    opts.scaleType = args.scaleType;
    if (budgetBytes > 0)
      opts.budgetBytes = budgetBytes - fixed;
    auto t0 = std::chrono::steady_clock::now();
    if (failed(runPass(func, createAssignPrecisionPass(opts))))
      return failure();
    report["solver"] = {
        {"name", "COIN-OR CBC"},
        {"seconds", std::chrono::duration<double>(
                        std::chrono::steady_clock::now() - t0)
                        .count()}};
    json budget;
    if (budgetBits > 0)
      budget["bits_per_weight"] = budgetBits;
    if (budgetBytes > 0) {
      budget["bytes"] = budgetBytes;
      budget["fixed_bytes"] = fixed;
    }
    if (budgetLatency > 0)
      budget["latency_ms"] = budgetLatency;
    report["budget"] = budget;
  } else {
    for (Operation *op : layers)
      if (const Keep *k = keepFor(op))
        pin(op, k->candidate);
  }

  // The per-layer choices, before packing (measurement needs f32 weights).
  struct Choice {
    Operation *op;
    WeightCandidate candidate;
    int64_t rows, cols;
  };
  std::vector<Choice> choices;
  for (Operation *op : layers) {
    auto wt = cast<ShapedType>(op->getOperand(1).getType());
    Choice c{op, {}, wt.getDimSize(0), wt.getNumElements() / wt.getDimSize(0)};
    if (auto s = op->getAttrOfType<SchemeAttr>("lowbit.weight_scheme")) {
      c.candidate.format = s.getFormat();
      c.candidate.groupSize =
          s.getGranularity() == Granularity::Group ? s.getGroupSize() : 0;
    } else if (!op->hasAttr("lowbit.weight_float") && !candidates.empty()) {
      c.candidate = candidates[0]; // uniform
      if (isa<Conv2DOp>(op))
        c.candidate.groupSize = 0;
    }
    choices.push_back(c);
  }
  // Measured per layer: the loss of quantizing that layer alone.
  std::vector<std::optional<double>> measured(choices.size());
  if (analysis && args.report) {
    ArrayRef<std::vector<Tensor>> probe = ArrayRef(batches).take_front(
        std::max<int64_t>(1, args.probeBatches));
    for (auto [i, c] : llvm::enumerate(choices)) {
      progress("measuring layers", i, choices.size());
      const LayerAnalysis *l = byOp.lookup(c.op);
      if (!l || !c.candidate.format)
        continue;
      for (size_t k = 0; k < l->candidates.size(); ++k)
        if (l->candidates[k].label() == c.candidate.label()) {
          FailureOr<double> m = measureLayerLoss(
              func, *l, k, probe, analysis->reference,
              args.clip == "max" ? ScaleSearch::Max : ScaleSearch::Mse, gptq,
              f16);
          if (succeeded(m))
            measured[i] = *m;
        }
    }
    progress("measuring layers", choices.size(), choices.size());
  }

  // Activation ranges, on the float model.
  llvm::DenseMap<Operation *, ActivationRange> ranges;
  llvm::DenseSet<Operation *> smoothedLayers;
  if (a8) {
    progress("activation ranges", 0, 1);
    FailureOr<llvm::DenseMap<Operation *, ActivationRange>> r =
        calibrateActivations(func, layers, batches, observer);
    if (failed(r))
      return failure();
    ranges = std::move(*r);
    if (args.smooth > 0 &&
        !smoothW8A8Layers(func, layers, candidates, budgeted, args.smooth,
                          batches, observer, ranges, layerWeights,
                          smoothedLayers))
      return failure();
    progress("activation ranges", 1, 1);
  }

  // Pack. GPTQ layers are rounded here (the pass has no Hessian); the
  // pass packs the rest.
  double fixed = fixedBytes(func, layerWeights);
  if (gptq)
    for (const Choice &c : choices) {
      const LayerAnalysis *l = byOp.lookup(c.op);
      std::optional<SmallVector<float>> w =
          readF32Constant(c.op->getOperand(1));
      if (!c.candidate.format || !l || !w)
        continue;
      QuantizedMatrix q = quantizeMatrixGptq(
          *c.candidate.format, *w, c.rows, c.cols, c.candidate.groupSize,
          l->hessian,
          args.clip == "max" ? ScaleSearch::Max : ScaleSearch::Mse, f16);
      replaceWeightWithQWeight(c.op, *c.candidate.format, q);
    }
  QuantizeWeightsPassOptions qopts;
  qopts.format = (!budgeted && !candidates.empty())
                     ? stringifyQuantFormat(*candidates[0].format).str()
                     : "none";
  qopts.groupSize = candidates.empty() ? 0 : candidates[0].groupSize;
  qopts.clip = args.clip;
  qopts.scaleType = args.scaleType;
  if (failed(runPass(func, createQuantizeWeightsPass(qopts))))
    return failure();

  // W8A8: u8 activations into layers with int8 per-channel weights. Layers
  // reading one value (Q, K and V) share its quantization; each gets its
  // own dequantize, which the x86 target fuses into the layer.
  llvm::DenseMap<Operation *, std::pair<double, int64_t>> actParams;
  std::map<std::tuple<void *, double, int64_t>, Value> quantized;
  for (auto &[op, range] : ranges) {
    auto qw = op->getOperand(1).getDefiningOp<QWeightOp>();
    if (!qw || qw.getScheme().getFormat() != QuantFormat::Int8 ||
        qw.getScheme().getGranularity() != Granularity::PerChannel)
      continue;
    double scale;
    int64_t zp;
    u8Params(range, scale, zp);
    Value x = op->getOperand(0);
    auto xt = cast<RankedTensorType>(x.getType());
    Value &q = quantized[{x.getAsOpaquePointer(), scale, zp}];
    if (!q) {
      OpBuilder qb(func.getContext());
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
    OpBuilder b(op);
    Value d = DequantizeOp::create(b, op->getLoc(), xt, q);
    op->setOperand(0, d);
    actParams[op] = {scale, zp};
  }
  // Totals and the layer table.
  double totalBits = 0, totalWeights = 0, predicted = 0, totalMs = 0;
  json rows = json::array();
  for (auto [i, c] : llvm::enumerate(choices)) {
    double bits = c.candidate.format
                      ? quantizedBits(*c.candidate.format, c.rows, c.cols,
                                      c.candidate.groupSize, f16 ? 16 : 32)
                      : 32.0 * c.rows * c.cols;
    double n = double(c.rows) * c.cols;
    totalBits += bits;
    totalWeights += n;
    json row = {{"name", getNodeName(c.op)},
                {"op", c.op->getName().stripDialect().str()},
                {"shape", {c.rows, c.cols}},
                {"weights", n},
                {"format", c.candidate.label()},
                {"bits", bits},
                {"bits_per_weight", bits / n},
                {"bytes", std::ceil(bits / 8)}};
    if (const LayerAnalysis *l = byOp.lookup(c.op)) {
      row["gain"] = l->gain;
      json cands = json::array();
      for (size_t k = 0; k < l->candidates.size(); ++k) {
        cands.push_back({{"format", l->candidates[k].label()},
                         {"bits_per_weight", l->bits[k] / n},
                         {"sensitivity", l->sensitivity[k]},
                         {"relative_output_error",
                          l->weightEnergy > 0
                              ? std::sqrt(l->outputError[k] / l->weightEnergy)
                              : 0.0}});
        if (l->candidates[k].label() == c.candidate.label()) {
          row["sensitivity"] = l->sensitivity[k];
          row["estimated_error"] = l->sensitivity[k];
          row["relative_output_error"] =
              l->weightEnergy > 0
                  ? std::sqrt(l->outputError[k] / l->weightEnergy)
                  : 0.0;
          predicted += l->sensitivity[k];
        }
      }
      row["candidates"] = cands;
    }
    if (measured[i])
      row["measured_error"] = *measured[i];
    if (auto it = latency.find({c.op, c.candidate.label()});
        it != latency.end()) {
      row["latency_ms"] = it->second;
      totalMs += it->second;
    }
    if (auto it = actParams.find(c.op); it != actParams.end())
      row["activations"] = {{"format", "uint8"},
                            {"scale", it->second.first},
                            {"zero_point", it->second.second},
                            {"smoothed", smoothedLayers.contains(c.op)}};
    else
      row["activations"] = {{"format", "f32"}};
    rows.push_back(row);
  }
  report["layers"] = rows;
  if (!latency.empty())
    report["layer_latency_ms"] = totalMs;
  report["layer_weights"] = totalWeights;
  report["layer_weight_bytes"] = std::ceil(totalBits / 8);
  report["average_weight_bits"] = totalWeights > 0 ? totalBits / totalWeights : 0;
  report["other_constant_bytes"] = fixed;
  report["model_bytes"] = std::ceil(totalBits / 8) + fixed;
  if (analysis) {
    report["estimated_error"] = predicted;
    // The whole quantized model against the float one, on the probe batches.
    std::vector<std::vector<Tensor>> outs;
    ArrayRef<std::vector<Tensor>> probe = ArrayRef(batches).take_front(
        std::max<int64_t>(1, args.probeBatches));
    for (const auto &in : probe) {
      FailureOr<std::vector<Tensor>> o = interpret(func, in);
      if (failed(o))
        return failure();
      outs.push_back(std::move(*o));
    }
    report["measured_error"] =
        outputDistortion(outs, ArrayRef(analysis->reference).take_front(outs.size()));
    report["error_definition"] =
        "sum of squared output differences / sum of squared float outputs, "
        "on the calibration probe batches";
  }
  if (budgeted)
    llvm::errs() << llvm::format(
        "lowbit: mixed precision: %zu layers, %.3f bits per weight on "
        "average, predicted error %.3g, measured %.3g\n",
        choices.size(), report["average_weight_bits"].get<double>(), predicted,
        report.value("measured_error", 0.0));
  return success();
}

namespace {
struct QuantizeModelPass
    : public mlir::lowbit::impl::QuantizeModelPassBase<QuantizeModelPass> {
  using Base::Base;
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    const TargetBackend *backend = nullptr;
    if (!target.empty() && !(backend = lookupTargetBackend(target))) {
      emitError(func.getLoc()) << "unknown target '" << target
                               << "' (registered: " << listTargetBackends()
                               << ")";
      return signalPassFailure();
    }
    json summary;
    if (failed(quantizeModel(func, getOptions(), backend, summary)))
      return signalPassFailure();
    if (report)
      func->setAttr("lowbit.quant_report",
                    StringAttr::get(func.getContext(), summary.dump()));
  }
  QuantizeModelPassOptions getOptions() const {
    QuantizeModelPassOptions o;
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
    return o;
  }
};
} // namespace
