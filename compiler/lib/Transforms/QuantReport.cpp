//===- QuantReport.cpp - the lowbit-quant-report pass -------------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// The report is read back from the IR the other quantization passes left,
// so it describes what will be compiled, not what a pass meant to do.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Transforms/Passes.h"
#include "lowbit/Transforms/QuantizationState.h"

#include "lowbit/Dialect/Lowbit/LowbitOps.h"
#include "lowbit/Interpreter/Interpreter.h"
#include "lowbit/Quant/WeightQuantizer.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "llvm/Support/Format.h"

#include <nlohmann/json.hpp>

#include <cmath>

namespace mlir::lowbit {
#define GEN_PASS_DEF_QUANTREPORTPASS
#include "lowbit/Transforms/Passes.h.inc"
} // namespace mlir::lowbit

using namespace mlir;
using namespace mlir::lowbit;
using json = nlohmann::json;

namespace {
json toJson(Attribute a) {
  if (auto s = dyn_cast<StringAttr>(a))
    return s.str();
  if (auto f = dyn_cast<FloatAttr>(a))
    return f.getValueAsDouble();
  if (auto i = dyn_cast<IntegerAttr>(a))
    return i.getInt();
  if (auto b = dyn_cast<BoolAttr>(a))
    return b.getValue();
  if (auto d = dyn_cast<DictionaryAttr>(a)) {
    json out = json::object();
    for (NamedAttribute n : d)
      out[n.getName().str()] = toJson(n.getValue());
    return out;
  }
  if (auto l = dyn_cast<ArrayAttr>(a)) {
    json out = json::array();
    for (Attribute e : l)
      out.push_back(toJson(e));
    return out;
  }
  return nullptr;
}

double getF64(DictionaryAttr d, StringRef key) {
  auto f = d ? d.getAs<FloatAttr>(key) : nullptr;
  return f ? f.getValueAsDouble() : 0.0;
}

/// A layer's packed weight as a candidate (format, group) and its scale
/// width; f32 when it is not packed.
/// The weight a layer reads, below any lowbit.lowrank branch.
Value baseWeight(Operation *layer) { return lowRankBase(layer->getOperand(1)); }

/// Bits of a stored f32 constant or lowbit.qweight (codes + scales).
double storedBits(Value v) {
  auto t = cast<ShapedType>(v.getType());
  if (auto qw = v.getDefiningOp<QWeightOp>()) {
    SchemeAttr s = qw.getScheme();
    return quantizedBits(s.getFormat(), t.getDimSize(0),
                         t.getNumElements() / t.getDimSize(0),
                         s.getGranularity() == Granularity::Group
                             ? s.getGroupSize()
                             : 0,
                         s.getScaleType().getIntOrFloatBitWidth());
  }
  return 32.0 * t.getNumElements();
}

std::pair<WeightCandidate, unsigned> packedAs(Operation *layer) {
  auto qw = baseWeight(layer).getDefiningOp<QWeightOp>();
  if (!qw)
    return {WeightCandidate{}, 32};
  SchemeAttr s = qw.getScheme();
  WeightCandidate c{s.getFormat(), s.getGranularity() == Granularity::Group
                                       ? s.getGroupSize()
                                       : 0};
  if (auto lr = layer->getOperand(1).getDefiningOp<LowRankOp>())
    c.rank = cast<ShapedType>(lr.getLeft().getType()).getDimSize(1);
  return {c, s.getScaleType().getIntOrFloatBitWidth()};
}

struct QuantReportPass : lowbit::impl::QuantReportPassBase<QuantReportPass> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    json report = buildReport(func);
    if (report.is_null())
      return signalPassFailure();
    if (emit)
      func->setAttr(kQuantReportAttr,
                    StringAttr::get(&getContext(), report.dump()));
    // What was only for the report; backends see the quantized IR.
    func.walk([](Operation *op) {
      for (StringRef a : {kSensitivityAttr, kCandidatesAttr,
                          kMeasuredErrorAttr, kSmoothedAttr, kLatencyAttr})
        op->removeAttr(a);
    });
    func->removeAttr(kQuantLogAttr);
    func->removeAttr(kCalibrationAttr);
  }

  json buildReport(func::FuncOp func) {
    auto log = func->getAttrOfType<DictionaryAttr>(kQuantLogAttr);
    json report = json::object();
    auto fact = [&](StringRef key) { return log ? log.get(key) : nullptr; };
    report["rounding"] = fact("rounding") ? toJson(fact("rounding")) : "nearest";
    report["scale_type"] =
        fact("scale_type") ? toJson(fact("scale_type")) : "f32";
    if (Attribute a = fact("smooth_alpha"))
      report["smooth_alpha"] = toJson(a);
    std::string mode = fact("mode") ? cast<StringAttr>(fact("mode")).str()
                                    : std::string("float");
    bool mixed = fact("solver") && fact("budget");
    report["mode"] = mode + (fact("activations") ? ", int8 activations" : "");
    for (StringRef key : {"sensitivity_seconds", "solver", "budget"})
      if (Attribute a = fact(key))
        report[key.str()] = toJson(a);
    if (auto c = func->getAttrOfType<DictionaryAttr>(kCalibrationAttr))
      report["calibration"] = {{"source", toJson(c.get("source"))},
                               {"samples", toJson(c.get("samples"))},
                               {"batches", toJson(c.get("batches"))}};

    // Embedding tables: packed constants read by a Gather.
    json embeddings = json::array();
    llvm::DenseSet<Value> layerWeights;
    func.walk([&](Operation *op) {
      if (isa<LinearOp, Conv2DOp>(op))
        layerWeights.insert(op->getOperand(1));
    });
    func.walk([&](QWeightOp qw) {
      if (layerWeights.contains(qw.getOutput()) ||
          llvm::none_of(qw->getUsers(), [](Operation *u) {
            auto n = dyn_cast<OnnxNodeOp>(u);
            return n && n.getOpType() == "Gather";
          }))
        return;
      auto t = qw.getOutput().getType();
      SchemeAttr s = qw.getScheme();
      WeightCandidate c{s.getFormat(), s.getGranularity() == Granularity::Group
                                           ? s.getGroupSize()
                                           : 0};
      double bytes = double(qw.getData().getType().getNumElements()) +
                     double(qw.getScales().getType().getNumElements()) *
                         s.getScaleType().getIntOrFloatBitWidth() / 8;
      embeddings.push_back({{"name", getNodeName(qw)},
                            {"shape", {t.getDimSize(0), t.getDimSize(1)}},
                            {"format", c.label()},
                            {"bytes", bytes},
                            {"float_bytes", 4.0 * t.getNumElements()}});
    });
    report["embeddings"] = embeddings;

    // The layer table.
    double totalBits = 0, totalWeights = 0, predicted = 0, totalMs = 0;
    bool anyLatency = false;
    json rows = json::array();
    int64_t numLayers = 0;
    func.walk([&](Operation *op) {
      if (!isa<LinearOp, Conv2DOp>(op))
        return;
      Value w = baseWeight(op);
      if (!w.getDefiningOp<arith::ConstantOp>() && !w.getDefiningOp<QWeightOp>())
        return;
      auto branch = op->getOperand(1).getDefiningOp<LowRankOp>();
      double branchBits = 0;
      for (auto b = branch; b; b = b.getWeight().getDefiningOp<LowRankOp>())
        branchBits += storedBits(b.getLeft()) + storedBits(b.getRight());
      auto wt = cast<ShapedType>(w.getType());
      int64_t r = wt.getDimSize(0), k = wt.getNumElements() / r;
      auto [c, scaleBits] = packedAs(op);
      double bits = c.format ? quantizedBits(*c.format, r, k, c.groupSize,
                                             scaleBits)
                             : 32.0 * r * k;
      bits += branchBits;
      double n = double(r) * k;
      totalBits += bits;
      totalWeights += n;
      ++numLayers;
      json row = {{"name", getNodeName(op)},
                  {"op", op->getName().stripDialect().str()},
                  {"shape", {r, k}},
                  {"weights", n},
                  {"format", c.label()},
                  {"bits", bits},
                  {"bits_per_weight", bits / n},
                  {"bytes", std::ceil(bits / 8)}};
      if (branch) {
        row["lowrank_rank"] =
            cast<ShapedType>(branch.getLeft().getType()).getDimSize(1);
        row["lowrank_bytes"] = std::ceil(branchBits / 8);
      }
      if (auto sens = op->getAttrOfType<DictionaryAttr>(kSensitivityAttr)) {
        double energy = getF64(sens, "weight_energy");
        row["gain"] = getF64(sens, "gain");
        json cands = json::array();
        for (Attribute a : sens.getAs<ArrayAttr>("candidates")) {
          auto d = cast<DictionaryAttr>(a);
          std::string label = d.getAs<StringAttr>("format").str();
          double relative =
              energy > 0 ? std::sqrt(getF64(d, "output_error") / energy) : 0.0;
          cands.push_back({{"format", label},
                           {"bits_per_weight", getF64(d, "bits") / n},
                           {"sensitivity", getF64(d, "sensitivity")},
                           {"relative_output_error", relative}});
          if (label == c.label()) {
            row["sensitivity"] = getF64(d, "sensitivity");
            row["estimated_error"] = getF64(d, "sensitivity");
            row["relative_output_error"] = relative;
            predicted += getF64(d, "sensitivity");
          }
        }
        row["candidates"] = cands;
      }
      if (auto m = op->getAttrOfType<FloatAttr>(kMeasuredErrorAttr))
        row["measured_error"] = m.getValueAsDouble();
      if (auto ms = op->getAttrOfType<FloatAttr>(kLatencyAttr)) {
        row["latency_ms"] = ms.getValueAsDouble();
        totalMs += ms.getValueAsDouble();
        anyLatency = true;
      }
      row["activations"] = {{"format", "f32"}};
      if (auto dq = op->getOperand(0).getDefiningOp<DequantizeOp>())
        if (auto qt = dyn_cast<quant::UniformQuantizedType>(
                cast<ShapedType>(dq->getOperand(0).getType())
                    .getElementType()))
          row["activations"] = {{"format", "uint8"},
                                {"scale", qt.getScale()},
                                {"zero_point", qt.getZeroPoint()},
                                {"smoothed", op->hasAttr(kSmoothedAttr)}};
      rows.push_back(row);
    });
    report["layers"] = rows;
    if (anyLatency)
      report["layer_latency_ms"] = totalMs;
    double fixed = otherConstantBytes(func);
    report["layer_weights"] = totalWeights;
    report["layer_weight_bytes"] = std::ceil(totalBits / 8);
    report["average_weight_bits"] =
        totalWeights > 0 ? totalBits / totalWeights : 0;
    report["other_constant_bytes"] = fixed;
    report["model_bytes"] = std::ceil(totalBits / 8) + fixed;

    // The whole quantized model against the float one.
    auto sens = getCachedAnalysis<SensitivityData>();
    auto calib = getCachedAnalysis<CalibrationData>();
    if (sens && sens->get().valid && calib && calib->get().loaded) {
      const SensitivityData &data = sens->get();
      report["estimated_error"] = predicted;
      std::vector<std::vector<Tensor>> outs;
      for (const auto &in :
           ArrayRef(calib->get().batches).take_front(data.probeBatches)) {
        FailureOr<std::vector<Tensor>> o = interpret(func, in);
        if (failed(o))
          return nullptr;
        outs.push_back(std::move(*o));
      }
      report["measured_error"] = outputDistortion(
          outs, ArrayRef(data.result.reference).take_front(outs.size()));
      report["error_definition"] =
          "sum of squared output differences / sum of squared float outputs, "
          "on the calibration probe batches";
    }
    if (mixed)
      llvm::errs() << llvm::format(
          "lowbit: mixed precision: %lld layers, %.3f bits per weight on "
          "average, predicted error %.3g, measured %.3g\n",
          (long long)numLayers, report["average_weight_bits"].get<double>(),
          predicted, report.value("measured_error", 0.0));
    return report;
  }

};
} // namespace
