//===- ApplyLora.cpp - PEFT adapters from files onto layers -------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//

#include "lowbit/Transforms/Passes.h"
#include "lowbit/Transforms/QuantizationState.h"

#include "lowbit/Adapters/LoraAdapter.h"
#include "lowbit/Dialect/Lowbit/ConstantUtils.h"
#include "lowbit/Dialect/Lowbit/LowbitOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/StringMap.h"

namespace mlir::lowbit {
#define GEN_PASS_DEF_APPLYLORAPASS
#include "lowbit/Transforms/Passes.h.inc"
} // namespace mlir::lowbit

using namespace mlir;
using namespace mlir::lowbit;

namespace {
/// The names a layer answers to: its weight constant's (location and
/// resource key) and its node's, as torch writes module paths
/// ("/encoder/layer.0/query/MatMul" -> "encoder.layer.0.query").
std::vector<std::string> layerNames(LinearOp layer) {
  std::vector<std::string> names;
  Value w = layer.getWeight();
  if (auto cst = w.getDefiningOp<arith::ConstantOp>()) {
    names.push_back(getNodeName(cst));
    if (auto res = dyn_cast<DenseResourceElementsAttr>(cst.getValue()))
      names.push_back(res.getRawHandle().getKey().str());
  }
  std::string node = getNodeName(layer);
  names.push_back(node);
  StringRef path = node;
  if (path.consume_front("/")) {
    path = path.rsplit('/').first; // drop the op ("MatMul", "Gemm", "Add")
    std::string dotted = path.str();
    std::replace(dotted.begin(), dotted.end(), '/', '.');
    StringRef d = dotted;
    d.consume_back(".base_layer");
    names.push_back(d.str());
  }
  return names;
}

struct ApplyLoraPass : lowbit::impl::ApplyLoraPassBase<ApplyLoraPass> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    llvm::StringMap<std::string> renames;
    for (const std::string &m : map) {
      auto [from, to] = StringRef(m).split('=');
      if (from.empty() || to.empty()) {
        func.emitError() << "lowbit-apply-lora: map '" << m
                         << "' must look like MODULE=NAME";
        return signalPassFailure();
      }
      renames[from] = to.str();
    }
    // Every layer under each of its names.
    llvm::StringMap<LinearOp> byName;
    func.walk([&](LinearOp layer) {
      if (!layer.getWeight().getDefiningOp<arith::ConstantOp>() &&
          !layer.getWeight().getDefiningOp<LoraOp>())
        return;
      for (const std::string &n : layerNames(layer))
        byName.try_emplace(n, layer);
    });
    SmallVector<Attribute> names;
    for (const std::string &spec : adapters) {
      std::string error;
      FailureOr<LoraAdapter> adapter = loadLoraAdapter(spec, error);
      if (failed(adapter)) {
        func.emitError() << "lowbit-apply-lora: " << error;
        return signalPassFailure();
      }
      if (llvm::any_of(names, [&](Attribute a) {
            return cast<StringAttr>(a).getValue() == adapter->name;
          })) {
        func.emitError() << "lowbit-apply-lora: two adapters are named '"
                         << adapter->name << "'; name them with NAME=PATH";
        return signalPassFailure();
      }
      names.push_back(StringAttr::get(&getContext(), adapter->name));
      std::vector<std::pair<const LoraModule *, LinearOp>> matched;
      std::vector<std::string> unmatched;
      for (const LoraModule &m : adapter->modules) {
        std::string key = renames.lookup(m.module);
        LinearOp layer;
        for (const std::string &candidate :
             key.empty() ? std::vector<std::string>{m.module + ".weight",
                                                    m.module}
                         : std::vector<std::string>{key}) {
          if ((layer = byName.lookup(candidate)))
            break;
        }
        if (!layer)
          unmatched.push_back(m.module);
        else
          matched.push_back({&m, layer});
      }
      if (!unmatched.empty()) {
        InFlightDiagnostic d = func.emitError()
                               << "lowbit-apply-lora: " << adapter->path
                               << ": " << unmatched.size()
                               << " adapted module(s) match no layer of the "
                                  "model: ";
        for (size_t i = 0; i < unmatched.size() && i < 8; ++i)
          d << (i ? ", " : "") << unmatched[i];
        d << (unmatched.size() > 8 ? ", ..." : "")
          << "; rename with --lora-map MODULE=NAME (a layer's weight or "
             "node name, see lowbit import --emit frontend)";
        return signalPassFailure();
      }
      for (auto [m, layer] : matched) {
        auto wt = cast<RankedTensorType>(layer.getWeight().getType());
        int64_t n = wt.getDimSize(0), k = wt.getDimSize(1);
        if (m->a.shape[1] != k || m->b.shape[0] != n) {
          layer.emitError() << "lowbit-apply-lora: " << adapter->path
                            << ": module '" << m->module << "' has lora_A ["
                            << m->a.shape[0] << ", " << m->a.shape[1]
                            << "] and lora_B [" << m->b.shape[0] << ", "
                            << m->b.shape[1] << "] but layer '"
                            << getNodeName(layer) << "' has weight [" << n
                            << ", " << k << "]";
          return signalPassFailure();
        }
        OpBuilder b(layer);
        Location loc = layer.getLoc();
        Type f32 = b.getF32Type();
        int64_t r = m->a.shape[0];
        Value a = makeF32Constant(b, loc, RankedTensorType::get({r, k}, f32),
                                  m->a.data, "lora_A");
        Value bm = makeF32Constant(
            b, loc, RankedTensorType::get({n, r}, f32), m->b.data, "lora_B");
        Value lora = LoraOp::create(
            b, loc, wt, layer.getWeight(), a, bm,
            b.getF64FloatAttr(adapter->scaling() * double(r)),
            b.getStringAttr(adapter->name));
        layer->setOperand(1, lora);
      }
    }
    // The adapters in order: a switchable branch's index at run time (the
    // first is on by default).
    func->setAttr(kAdaptersAttr, ArrayAttr::get(&getContext(), names));
  }
};
} // namespace
