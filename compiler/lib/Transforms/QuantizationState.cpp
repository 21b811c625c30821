//===- QuantizationState.cpp - what the quantization passes share -*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//

#include "lowbit/Transforms/QuantizationState.h"

#include "lowbit/Dialect/Lowbit/LowbitOps.h"
#include "lowbit/Pipeline/TargetBackend.h"
#include "lowbit/Quant/Calibration.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

using namespace mlir;
using namespace mlir::lowbit;

LogicalResult mlir::lowbit::ensureCalibration(func::FuncOp func,
                                              CalibrationData &data,
                                              StringRef pass) {
  if (data.loaded)
    return success();
  auto info = func->getAttrOfType<DictionaryAttr>(kCalibrationAttr);
  auto source = info ? info.getAs<StringAttr>("source") : nullptr;
  if (!source)
    return func.emitError() << pass
                            << " needs calibration data: run lowbit-calibrate "
                               "first (lowbit compile: add --calib FILE.npz)";
  auto max = info.getAs<IntegerAttr>("max_samples");
  std::string error;
  FailureOr<CalibrationSet> set = loadCalibrationSet(source.getValue(), error);
  if (failed(set))
    return emitError(func.getLoc()) << error;
  FailureOr<std::vector<std::vector<Tensor>>> batches =
      makeCalibrationBatches(func, *set, max ? max.getInt() : 0, error);
  if (failed(batches))
    return emitError(func.getLoc()) << error;
  data.batches = std::move(*batches);
  int64_t rows = 0;
  for (const std::vector<Tensor> &batch : data.batches)
    rows += batch.empty() ? 0 : batch[0].dim(0);
  int64_t available = set->numSamples;
  if (max && max.getInt() > 0)
    available = std::min(available, max.getInt());
  data.samples = std::min(rows, available);
  data.loaded = true;
  return success();
}

void mlir::lowbit::logQuantFact(func::FuncOp func, StringRef key,
                                Attribute value) {
  NamedAttrList log;
  if (auto old = func->getAttrOfType<DictionaryAttr>(kQuantLogAttr))
    log.append(old.getValue());
  log.set(key, value);
  func->setAttr(kQuantLogAttr, log.getDictionary(func.getContext()));
}

std::vector<Operation *>
mlir::lowbit::getQuantizableLayers(func::FuncOp func, bool withKeptBranches) {
  std::vector<Operation *> layers;
  func.walk([&](Operation *op) {
    // Only layers have a weight operand (reading operand 1 of any other op
    // overran its operand list: found by LOWBIT_SANITIZE=1).
    if (!isa<LinearOp, Conv2DOp>(op))
      return;
    Value w = op->getOperand(1);
    if (withKeptBranches && isa<LinearOp>(op))
      w = lowRankBase(w);
    if (w.getDefiningOp<arith::ConstantOp>() &&
        cast<ShapedType>(w.getType()).getElementType().isF32())
      layers.push_back(op);
  });
  return layers;
}

Attribute mlir::lowbit::makeWeightScheme(Operation *layer, QuantFormat format,
                                         int64_t groupSize, bool f16Scales) {
  Builder b(layer->getContext());
  bool group = groupSize > 0 && !isa<Conv2DOp>(layer);
  return SchemeAttr::get(
      layer->getContext(), format,
      group ? Granularity::Group : Granularity::PerChannel, group ? 1 : 0,
      group ? groupSize : 0, /*symmetric=*/true,
      f16Scales ? FloatType(b.getF16Type()) : FloatType(b.getF32Type()));
}

std::optional<WeightCandidate>
mlir::lowbit::getPlannedWeights(Operation *layer,
                                const std::optional<WeightCandidate> &fallback) {
  if (auto s = layer->getAttrOfType<SchemeAttr>(kWeightSchemeAttr)) {
    WeightCandidate c{s.getFormat(),
                      s.getGranularity() == Granularity::Group
                          ? s.getGroupSize()
                          : 0};
    if (auto r = layer->getAttrOfType<IntegerAttr>(kWeightLowRankAttr))
      c.rank = r.getInt();
    return c;
  }
  if (layer->hasAttr(kWeightFloatAttr) || !fallback || !fallback->format)
    return std::nullopt;
  WeightCandidate c = *fallback;
  if (isa<Conv2DOp>(layer))
    c.groupSize = 0;
  return c;
}

bool KeepPin::matches(StringRef name) const {
  if (name == pattern)
    return true;
  SmallVector<StringRef> groups;
  return regex.match(name, &groups) && groups[0] == name;
}

bool mlir::lowbit::runsNatively(const WeightCandidate &c,
                                const TargetBackend *target) {
  return !target || !c.format || target->supportsWeightFormat(*c.format);
}

std::string mlir::lowbit::nativeFormatList(const TargetBackend *target) {
  std::string out;
  for (QuantFormat f : target->getWeightFormats())
    out += stringifyQuantFormat(f).str() + ", ";
  return out + "f32";
}

std::string mlir::lowbit::unsupportedByTarget(const TargetBackend *target) {
  return "unsupported by the " + target->getName().str() + " target: ";
}

FailureOr<std::vector<KeepPin>>
mlir::lowbit::parseKeepPins(ArrayRef<std::string> keep, int64_t groupSize,
                            const TargetBackend *target, std::string &error) {
  std::vector<KeepPin> pins;
  for (const std::string &k : keep) {
    size_t eq = k.rfind('=');
    std::string fmt = eq == std::string::npos ? "" : k.substr(eq + 1);
    if (fmt == "fp16" || fmt == "f16" || fmt == "float")
      fmt = "f32";
    std::optional<WeightCandidate> c = parseWeightCandidate(fmt);
    if (eq == std::string::npos || eq == 0 || !c) {
      error = "--keep '" + k +
              "' must look like NAME_OR_REGEX=FORMAT with FORMAT one of "
              "f32, int2..int8, nf4, fp8_e4m3, fp8_e5m2, fp4_e2m1 "
              "(optionally /gSIZE)";
      return failure();
    }
    if (!runsNatively(*c, target)) {
      error = unsupportedByTarget(target) + "--keep " + k + " (natively: " +
              nativeFormatList(target) + ")";
      return failure();
    }
    if (c->format && c->groupSize == 0)
      c->groupSize = groupSize;
    KeepPin pin{k.substr(0, eq), llvm::Regex(k.substr(0, eq)), *c};
    std::string regexError;
    if (!pin.regex.isValid(regexError)) {
      error = "--keep '" + k + "': bad regex: " + regexError;
      return failure();
    }
    pins.push_back(std::move(pin));
  }
  return pins;
}

double mlir::lowbit::otherConstantBytes(func::FuncOp func) {
  llvm::DenseSet<Operation *> weightDefs;
  func.walk([&](Operation *op) {
    if (!isa<LinearOp, Conv2DOp>(op))
      return;
    Operation *def = op->getOperand(1).getDefiningOp();
    if (!def)
      return;
    // The weight's own constants: a qweight's codes and scales, and a
    // low-rank branch's base and factors with theirs.
    SmallVector<Operation *> work = {def};
    while (!work.empty()) {
      Operation *d = work.pop_back_val();
      if (!weightDefs.insert(d).second)
        continue;
      if (isa<QWeightOp, LowRankOp>(d))
        for (Value v : d->getOperands())
          if (Operation *o = v.getDefiningOp())
            work.push_back(o);
    }
  });
  double bytes = 0;
  func.walk([&](arith::ConstantOp cst) {
    if (weightDefs.contains(cst) || cst->use_empty())
      return;
    auto t = dyn_cast<ShapedType>(cst.getType());
    if (t && t.hasStaticShape() && t.getElementType().isIntOrFloat())
      bytes += double(t.getNumElements()) *
               std::max<unsigned>(8, t.getElementTypeBitWidth()) / 8;
  });
  return bytes;
}

FailureOr<std::vector<WeightCandidate>>
mlir::lowbit::parseCandidateList(StringRef list, int64_t groupSize,
                                 const TargetBackend *target, StringRef prefix,
                                 std::string &error) {
  std::vector<WeightCandidate> out;
  SmallVector<StringRef> parts;
  list.split(parts, ',', -1, false);
  for (StringRef p : parts) {
    std::optional<WeightCandidate> c = parseWeightCandidate(p);
    if (!c) {
      error = prefix.str() + "'" + p.str() + "' is not a weight format";
      return failure();
    }
    if (!runsNatively(*c, target)) {
      error = unsupportedByTarget(target) + p.str() + " weights (natively: " +
              nativeFormatList(target) +
              "); use lowbit run to simulate other formats";
      return failure();
    }
    if (c->format && c->groupSize == 0)
      c->groupSize = groupSize;
    out.push_back(*c);
  }
  return out;
}

const KeepPin *mlir::lowbit::findPin(ArrayRef<KeepPin> pins, Operation *layer) {
  std::string name = getNodeName(layer);
  for (const KeepPin &k : pins)
    if (k.matches(name))
      return &k;
  return nullptr;
}
