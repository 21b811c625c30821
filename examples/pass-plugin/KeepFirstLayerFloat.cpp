//===- KeepFirstLayerFloat.cpp - an example lowbit pass plugin ----*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// Keeps the first layer (lowbit.conv2d / lowbit.linear) of every function in
// f32 by setting the `lowbit.weight_float` pin that lowbit-assign-precision
// and lowbit-quantize-weights honour: first layers see raw inputs and are
// often the most sensitive. Run it before the quantization passes.
//
//===----------------------------------------------------------------------===//

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Tools/Plugins/PassPlugin.h"

using namespace mlir;

namespace {
struct KeepFirstLayerFloatPass
    : public PassWrapper<KeepFirstLayerFloatPass, OperationPass<>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(KeepFirstLayerFloatPass)

  StringRef getArgument() const final {
    return "lowbit-example-keep-first-layer-float";
  }
  StringRef getDescription() const final {
    return "Pins the first lowbit.conv2d / lowbit.linear of a function to f32";
  }
  void runOnOperation() override {
    Operation *func = getOperation();
    if (func->getName().getStringRef() != "func.func")
      return;
    func->walk([&](Operation *op) {
      StringRef name = op->getName().getStringRef();
      if (name != "lowbit.conv2d" && name != "lowbit.linear")
        return WalkResult::advance();
      op->setAttr("lowbit.weight_float", UnitAttr::get(op->getContext()));
      return WalkResult::interrupt();
    });
  }
};
} // namespace

extern "C" LLVM_ATTRIBUTE_WEAK PassPluginLibraryInfo mlirGetPassPluginInfo() {
  return {MLIR_PLUGIN_API_VERSION, "KeepFirstLayerFloat", "0.1",
          []() { PassRegistration<KeepFirstLayerFloatPass>(); }};
}
