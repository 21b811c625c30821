//===- AssignPrecision.cpp - mixed precision by integer programming -*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//

#include "Progress.h"
#include "lowbit/Transforms/Passes.h"
#include "lowbit/Transforms/QuantizationState.h"

#include "lowbit/Dialect/Lowbit/LowbitOps.h"
#include "lowbit/Pipeline/TargetBackend.h"
#include "lowbit/Quant/PrecisionIlp.h"
#include "lowbit/Quant/Sensitivity.h"

#include "llvm/Support/Format.h"

#include <chrono>
#include <map>

namespace mlir::lowbit {
#define GEN_PASS_DEF_ASSIGNPRECISIONPASS
#include "lowbit/Transforms/Passes.h.inc"
} // namespace mlir::lowbit

using namespace mlir;
using namespace mlir::lowbit;

namespace {
LogicalResult fail(MLIRContext *ctx, const Twine &message) {
  // The driver prints these as "lowbit: error: ...": they name its flags.
  emitError(UnknownLoc::get(ctx)) << message;
  return failure();
}

template <typename... Ts>
std::string formatted(const char *fmt, Ts... args) {
  std::string out;
  llvm::raw_string_ostream(out) << llvm::format(fmt, args...);
  return out;
}

struct Layer {
  Operation *op;
  int64_t numel;
  std::vector<WeightCandidate> candidates;
};

struct AssignPrecisionPass
    : lowbit::impl::AssignPrecisionPassBase<AssignPrecisionPass> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    const TargetBackend *backend = nullptr;
    if (!target.empty() && !(backend = lookupTargetBackend(target))) {
      func.emitError() << "lowbit-assign-precision: unknown target '" << target
                       << "' (registered: " << listTargetBackends() << ")";
      return signalPassFailure();
    }
    std::string error;
    FailureOr<std::vector<KeepPin>> pins =
        parseKeepPins(keep, groupSize, backend, error);
    if (failed(pins)) {
      (void)fail(&getContext(), error);
      return signalPassFailure();
    }
    std::vector<Operation *> layers = getQuantizableLayers(func);
    for (const KeepPin &k : *pins)
      if (llvm::none_of(layers, [&](Operation *op) {
            return k.matches(getNodeName(op));
          }))
        emitWarning(UnknownLoc::get(&getContext()))
            << "--keep " << k.pattern << " matches no layer";
    bool budgeted = budgetBits > 0 || budgetBytes > 0 || budgetLatency > 0 ||
                    modelBytes > 0;
    // The layers' byte limit: budget-bytes, or model-bytes less what the
    // other constants take (known once the candidates are built).
    double layerBytes = budgetBytes;
    if (!formats.empty()) {
      if (!budgeted) {
        func.emitError("lowbit-assign-precision: formats needs a budget "
                       "(budget-bits, model-bytes or budget-latency)");
        return signalPassFailure();
      }
      if (failed(buildCandidates(func, layers, *pins, backend, layerBytes)))
        return signalPassFailure();
    } else if (!budgeted && (!weights.empty() || !pins->empty())) {
      // A uniform format also applies to the bases of kept adapters.
      layers = getQuantizableLayers(func, /*withKeptBranches=*/true);
      if (failed(applyPins(func, layers, *pins)))
        return signalPassFailure();
      measureChoices(func, layers);
      markAnalysesPreserved<CalibrationData, SensitivityData>();
      return;
    }
    auto t0 = std::chrono::steady_clock::now();
    if (failed(solve(layerBytes)))
      return signalPassFailure();
    Builder b(&getContext());
    logQuantFact(
        func, "solver",
        b.getDictionaryAttr(
            {b.getNamedAttr("name", b.getStringAttr("COIN-OR CBC")),
             b.getNamedAttr(
                 "seconds",
                 b.getF64FloatAttr(std::chrono::duration<double>(
                                       std::chrono::steady_clock::now() - t0)
                                       .count()))}));
    measureChoices(func, layers);
    markAnalysesPreserved<CalibrationData, SensitivityData>();
  }

  /// Pins, and `weights` for every other layer (no budget).
  LogicalResult applyPins(func::FuncOp func, ArrayRef<Operation *> layers,
                          ArrayRef<KeepPin> pins) {
    std::optional<WeightCandidate> uniform;
    if (!weights.empty() && weights != "f32" && weights != "float") {
      uniform = parseWeightCandidate(weights);
      if (!uniform || !uniform->format)
        return fail(&getContext(),
                    "--weights '" + weights +
                        "' is not a signed weight format (int2..int8, nf4, "
                        "fp8_e4m3, fp8_e5m2, fp4_e2m1)");
      if (uniform->groupSize == 0)
        uniform->groupSize = groupSize;
      logQuantFact(func, "mode",
                   StringAttr::get(&getContext(), "uniform " + uniform->label()));
    }
    for (Operation *op : layers) {
      const KeepPin *pin = findPin(pins, op);
      // A layer another pass already pinned keeps its pin.
      if (!pin && (op->hasAttr(kWeightFloatAttr) ||
                   op->hasAttr(kWeightSchemeAttr)))
        continue;
      std::optional<WeightCandidate> c =
          pin ? std::optional(pin->candidate) : uniform;
      if (!c)
        continue;
      if (!c->format) {
        op->setAttr(kWeightFloatAttr, UnitAttr::get(&getContext()));
        continue;
      }
      op->setAttr(kWeightSchemeAttr, makeWeightScheme(op, *c->format,
                                                      c->groupSize,
                                                      scaleType == "f16"));
      setRank(op, c->rank);
    }
    return success();
  }

  /// lowbit.candidates from lowbit.sensitivity: the allowed formats (a
  /// pin, else those of `formats`), timed for a latency budget; then the
  /// budgets checked in the words of `lowbit compile`'s flags.
  LogicalResult buildCandidates(func::FuncOp func, ArrayRef<Operation *> layers,
                                ArrayRef<KeepPin> pins,
                                const TargetBackend *backend,
                                double &layerBytes) {
    MLIRContext *ctx = &getContext();
    if (budgetLatency > 0 && !backend)
      return fail(ctx, "--budget-latency needs a target's kernels to time: "
                       "use it with lowbit compile");
    std::string error;
    FailureOr<std::vector<WeightCandidate>> allowed =
        parseCandidateList(formats, groupSize, backend, "--formats: ", error);
    if (failed(allowed))
      return fail(ctx, error);
    auto sameFormat = [](Operation *op, const WeightCandidate &a,
                         StringRef label) {
      WeightCandidate c = a;
      if (isa<Conv2DOp>(op) && c.format)
        c.groupSize = 0;
      return c.label() == label;
    };
    Builder b(ctx);
    Progress progress;
    double minBits = 0, numWeights = 0, fastest = 0;
    for (auto [i, op] : llvm::enumerate(layers)) {
      auto info = op->getAttrOfType<DictionaryAttr>(kSensitivityAttr);
      auto list = info ? info.getAs<ArrayAttr>("candidates") : nullptr;
      if (!list) {
        op->emitError("lowbit-assign-precision: formats needs the layer's "
                      "lowbit.sensitivity: run lowbit-sensitivity first");
        return failure();
      }
      const KeepPin *pin = findPin(pins, op);
      SmallVector<Attribute> chosen;
      double least = -1, best = -1;
      for (Attribute a : list) {
        auto dict = cast<DictionaryAttr>(a);
        StringRef label = dict.getAs<StringAttr>("format").getValue();
        bool ok = pin ? sameFormat(op, pin->candidate, label)
                      : llvm::any_of(*allowed, [&](const WeightCandidate &c) {
                          return sameFormat(op, c, label);
                        });
        if (!ok)
          continue;
        NamedAttrList fields;
        fields.append("format", dict.get("format"));
        fields.append("bits", dict.get("bits"));
        fields.append("sensitivity", dict.get("sensitivity"));
        double bits = dict.getAs<FloatAttr>("bits").getValueAsDouble();
        least = least < 0 ? bits : std::min(least, bits);
        if (budgetLatency > 0) {
          std::optional<WeightCandidate> c = parseWeightCandidate(label);
          FailureOr<double> ms =
              backend->layerLatencyMs(op, c->format, c->groupSize);
          if (failed(ms))
            return fail(ctx, unsupportedByTarget(backend) +
                                 "cannot time layer '" + getNodeName(op) + "' in " +
                                 label);
          fields.append("latency", b.getF64FloatAttr(*ms));
          best = best < 0 ? *ms : std::min(best, *ms);
        }
        chosen.push_back(fields.getDictionary(ctx));
      }
      op->setAttr(kCandidatesAttr, b.getArrayAttr(chosen));
      if (budgetLatency > 0)
        progress("timing kernels", i + 1, layers.size());
      minBits += std::max(least, 0.0);
      fastest += std::max(best, 0.0);
      auto wt = cast<ShapedType>(op->getOperand(1).getType());
      numWeights += double(wt.getNumElements());
    }
    double fixed = otherConstantBytes(func);
    std::string formatsText = formats;
    const char *pinned = pins.empty() ? "" : " and the --keep pins";
    if (budgetBits > 0 && budgetBits * numWeights < minBits * (1 - 1e-12))
      return fail(ctx, formatted(
          "--budget-bits %g is infeasible: with formats %s%s "
          "the smallest feasible average is %.4f bits per weight",
          double(budgetBits), formatsText.c_str(), pinned,
          minBits / numWeights));
    double minBytes = std::ceil(minBits / 8) + fixed;
    if (modelBytes > 0 && modelBytes < minBytes)
      return fail(ctx, formatted(
          "--budget-size %.0f bytes is infeasible: with formats "
          "%s%s the smallest feasible model is %.0f bytes (layer weights "
          "%.0f + other constants %.0f)",
          double(modelBytes), formatsText.c_str(), pinned, minBytes,
          std::ceil(minBits / 8), fixed));
    if (budgetLatency > 0 && budgetLatency < fastest)
      return fail(ctx, formatted(
          "--budget-latency %g ms is infeasible: with "
          "formats %s%s the layers' kernels take at least %.3f ms on this "
          "machine",
          double(budgetLatency), formatsText.c_str(), pinned, fastest));
    if (modelBytes > 0)
      layerBytes = modelBytes - fixed;
    NamedAttrList budget;
    if (budgetBits > 0)
      budget.append("bits_per_weight", b.getF64FloatAttr(budgetBits));
    if (modelBytes > 0) {
      budget.append("bytes", b.getF64FloatAttr(modelBytes));
      budget.append("fixed_bytes", b.getF64FloatAttr(fixed));
    }
    if (budgetLatency > 0)
      budget.append("latency_ms", b.getF64FloatAttr(budgetLatency));
    logQuantFact(func, "budget", budget.getDictionary(ctx));
    logQuantFact(func, "mode", b.getStringAttr("mixed precision (ILP)"));
    return success();
  }

  /// lowbit.measured_error: the loss of quantizing each layer alone in its
  /// chosen format, as the sensitivity analysis rounds (needs its cache).
  void measureChoices(func::FuncOp func, ArrayRef<Operation *> layers) {
    SensitivityData *data = nullptr;
    if (!measure)
      return;
    if (auto cached = getCachedAnalysis<SensitivityData>())
      data = &cached->get();
    CalibrationData *calib = nullptr;
    if (auto cached = getCachedAnalysis<CalibrationData>())
      calib = &cached->get();
    if (!data || !data->valid || !calib || !calib->loaded)
      return;
    ArrayRef<std::vector<Tensor>> probe =
        ArrayRef(calib->batches).take_front(data->probeBatches);
    Progress progress;
    Builder b(&getContext());
    for (auto [i, op] : llvm::enumerate(layers)) {
      progress("measuring layers", i, layers.size());
      const LayerAnalysis *l = data->find(op);
      std::optional<WeightCandidate> c = getPlannedWeights(op, std::nullopt);
      if (!l || !c)
        continue;
      for (size_t k = 0; k < l->candidates.size(); ++k)
        if (l->candidates[k].label() == c->label()) {
          FailureOr<double> m =
              measureLayerLoss(func, *l, k, probe, data->result.reference,
                               data->search, data->gptq, data->f16Scales);
          if (succeeded(m))
            op->setAttr(kMeasuredErrorAttr, b.getF64FloatAttr(*m));
        }
    }
    progress("measuring layers", layers.size(), layers.size());
  }

  /// The integer program over every layer's lowbit.candidates.
  LogicalResult solve(double layerBytes) {
    std::vector<Layer> layers;
    std::vector<IlpLayer> program;
    bool latency = budgetLatency > 0;
    WalkResult walk = getOperation().walk([&](Operation *op) {
      auto list = op->getAttrOfType<ArrayAttr>("lowbit.candidates");
      if (!list)
        return WalkResult::advance();
      auto wt = dyn_cast<ShapedType>(op->getOperand(1).getType());
      if (!isa<LinearOp, Conv2DOp>(op) || !wt || !wt.hasStaticShape()) {
        op->emitError("lowbit-assign-precision: lowbit.candidates on an op "
                      "that is not a layer with a static weight");
        return WalkResult::interrupt();
      }
      Layer layer{op, wt.getNumElements(), {}};
      IlpLayer ilp;
      ilp.use.resize(3);
      for (Attribute a : list) {
        auto dict = dyn_cast<DictionaryAttr>(a);
        auto format = dict ? dict.getAs<StringAttr>("format") : nullptr;
        auto bits = dict ? dict.getAs<FloatAttr>("bits") : nullptr;
        auto sens = dict ? dict.getAs<FloatAttr>("sensitivity") : nullptr;
        auto lat = dict ? dict.getAs<FloatAttr>("latency") : nullptr;
        std::optional<WeightCandidate> cand =
            format ? parseWeightCandidate(format.getValue()) : std::nullopt;
        if (!cand || !bits || !sens || (latency && !lat)) {
          op->emitError() << "lowbit-assign-precision: a candidate needs "
                             "format (e.g. \"int4\", \"int4/g32\", \"f32\"), "
                             "bits and sensitivity"
                          << (latency ? " and latency" : "") << ", got " << a;
          return WalkResult::interrupt();
        }
        layer.candidates.push_back(*cand);
        ilp.cost.push_back(sens.getValueAsDouble());
        ilp.use[0].push_back(bits.getValueAsDouble());
        ilp.use[1].push_back(bits.getValueAsDouble() / 8);
        ilp.use[2].push_back(lat ? lat.getValueAsDouble() : 0.0);
      }
      if (layer.candidates.empty()) {
        op->emitError("lowbit-assign-precision: empty lowbit.candidates");
        return WalkResult::interrupt();
      }
      layers.push_back(std::move(layer));
      program.push_back(std::move(ilp));
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      return failure();
    if (layers.empty())
      return success();

    int64_t totalWeights = 0;
    for (const Layer &l : layers)
      totalWeights += l.numel;
    // Budgets as rows of the program; unused kinds are dropped.
    std::vector<IlpBudget> budgets;
    std::vector<IlpLayer> rows = program;
    std::vector<size_t> kinds;
    auto add = [&](size_t kind, const char *name, double limit) {
      budgets.push_back({name, limit});
      kinds.push_back(kind);
    };
    if (budgetBits > 0)
      add(0, "bits", budgetBits * double(totalWeights));
    if (layerBytes > 0)
      add(1, "bytes", layerBytes);
    if (latency)
      add(2, "latency", budgetLatency);
    for (IlpLayer &l : rows) {
      std::vector<std::vector<double>> use;
      for (size_t k : kinds)
        use.push_back(l.use[k]);
      l.use = std::move(use);
    }
    for (auto [r, b] : llvm::enumerate(budgets)) {
      double least = minimumUse(rows, r);
      if (least <= b.limit * (1 + 1e-12))
        continue;
      std::string need;
      llvm::raw_string_ostream os(need);
      if (kinds[r] == 0)
        os << llvm::format("budget-bits = %.4g is infeasible: the allowed "
                           "formats need at least %.4g bits per weight",
                           double(budgetBits), least / double(totalWeights));
      else if (kinds[r] == 1)
        os << llvm::format("budget-bytes = %.0f is infeasible: the allowed "
                           "formats need at least %.0f bytes",
                           layerBytes, std::ceil(least));
      else
        os << llvm::format("budget-latency = %.4g ms is infeasible: the "
                           "allowed formats need at least %.4g ms",
                           double(budgetLatency), least);
      getOperation().emitError() << "lowbit-assign-precision: " << need
                                 << " (" << layers.size() << " layers, "
                                 << totalWeights << " weights)";
      return failure();
    }
    std::string error;
    FailureOr<IlpSolution> sol = solvePrecisionIlp(rows, budgets, error);
    if (failed(sol)) {
      getOperation().emitError() << "lowbit-assign-precision: " << error;
      return failure();
    }
    Builder b(&getContext());
    for (auto [l, layer] : llvm::enumerate(layers)) {
      const WeightCandidate &c = layer.candidates[sol->choice[l]];
      Operation *op = layer.op;
      // The chosen kernel's time stays for the report.
      auto list = op->getAttrOfType<ArrayAttr>(kCandidatesAttr);
      if (auto dict = dyn_cast<DictionaryAttr>(list[sol->choice[l]]))
        if (auto ms = dict.getAs<FloatAttr>("latency"))
          op->setAttr(kLatencyAttr, ms);
      op->removeAttr(kCandidatesAttr);
      if (!c.format) {
        op->setAttr("lowbit.weight_float", b.getUnitAttr());
        continue;
      }
      op->setAttr(kWeightSchemeAttr, makeWeightScheme(op, *c.format,
                                                      c.groupSize,
                                                      scaleType == "f16"));
      setRank(op, c.rank);
    }
    return success();
  }

  /// A `+rN` choice on a linear layer: the EoRA branch quantize-weights
  /// builds.
  void setRank(Operation *op, int64_t rank) {
    if (rank > 0 && isa<LinearOp>(op))
      op->setAttr(kWeightLowRankAttr,
                  IntegerAttr::get(IntegerType::get(&getContext(), 64), rank));
  }
};
} // namespace
