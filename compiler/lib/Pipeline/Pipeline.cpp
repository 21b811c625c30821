//===- Pipeline.cpp - lowbit pass pipelines -----------------------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//

#include "lowbit/Pipeline/Pipeline.h"

#include "lowbit/Conversion/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void mlir::lowbit::buildFrontendPipeline(OpPassManager &pm,
                                         const FrontendOptions &options) {
  OpPassManager &funcPm = pm.nest<func::FuncOp>();
  if (options.convertLayers)
    funcPm.addPass(createConvertOnnxToLowbitPass());
  funcPm.addPass(createCanonicalizerPass());
  funcPm.addPass(createCSEPass());
}

void mlir::lowbit::registerLowbitPipelines() {
  PassPipelineRegistration<FrontendOptions>(
      "lowbit-frontend-pipeline",
      "Turns imported ONNX IR into lowbit IR with layer ops and cleans it up.",
      buildFrontendPipeline);
}
