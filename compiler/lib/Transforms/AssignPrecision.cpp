//===- AssignPrecision.cpp - mixed precision by integer programming -*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//

#include "lowbit/Transforms/Passes.h"

#include "lowbit/Dialect/Lowbit/LowbitOps.h"
#include "lowbit/Quant/PrecisionIlp.h"
#include "lowbit/Quant/Sensitivity.h"

#include "llvm/Support/Format.h"

namespace mlir::lowbit {
#define GEN_PASS_DEF_ASSIGNPRECISIONPASS
#include "lowbit/Transforms/Passes.h.inc"
} // namespace mlir::lowbit

using namespace mlir;
using namespace mlir::lowbit;

namespace {
struct Layer {
  Operation *op;
  int64_t numel;
  std::vector<WeightCandidate> candidates;
};

struct AssignPrecisionPass
    : lowbit::impl::AssignPrecisionPassBase<AssignPrecisionPass> {
  using Base::Base;

  void runOnOperation() override {
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
      return signalPassFailure();
    if (layers.empty())
      return;

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
    if (budgetBytes > 0)
      add(1, "bytes", budgetBytes);
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
                           double(budgetBytes), std::ceil(least));
      else
        os << llvm::format("budget-latency = %.4g ms is infeasible: the "
                           "allowed formats need at least %.4g ms",
                           double(budgetLatency), least);
      getOperation().emitError() << "lowbit-assign-precision: " << need
                                 << " (" << layers.size() << " layers, "
                                 << totalWeights << " weights)";
      return signalPassFailure();
    }
    std::string error;
    FailureOr<IlpSolution> sol = solvePrecisionIlp(rows, budgets, error);
    if (failed(sol)) {
      getOperation().emitError() << "lowbit-assign-precision: " << error;
      return signalPassFailure();
    }
    Builder b(&getContext());
    for (auto [l, layer] : llvm::enumerate(layers)) {
      const WeightCandidate &c = layer.candidates[sol->choice[l]];
      Operation *op = layer.op;
      op->removeAttr("lowbit.candidates");
      if (!c.format) {
        op->setAttr("lowbit.weight_float", b.getUnitAttr());
        continue;
      }
      bool group = c.groupSize > 0 && !isa<Conv2DOp>(op);
      op->setAttr("lowbit.weight_scheme",
                  SchemeAttr::get(&getContext(), *c.format,
                                  group ? Granularity::Group
                                        : Granularity::PerChannel,
                                  group ? 1 : 0, group ? c.groupSize : 0,
                                  /*symmetric=*/true,
                                  scaleType == "f16"
                                      ? FloatType(b.getF16Type())
                                      : FloatType(b.getF32Type())));
    }
  }
};
} // namespace
