//===- Pipeline.cpp - lowbit pass pipelines -----------------------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//

#include "lowbit/Pipeline/Pipeline.h"

#include "lowbit/Conversion/Passes.h"
#include "lowbit/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void mlir::lowbit::buildFrontendPipeline(OpPassManager &pm,
                                         const FrontendOptions &options) {
  OpPassManager &funcPm = pm.nest<func::FuncOp>();
  // Fold first so that weights computed from constants (dequantized int8
  // initializers, reshaped matrices) are constants when layers convert, and
  // again for what the conversion exposes.
  if (options.foldConstants)
    funcPm.addPass(createFoldConstantsPass());
  if (options.convertLayers)
    funcPm.addPass(createConvertOnnxToLowbitPass());
  if (options.foldConstants)
    funcPm.addPass(createFoldConstantsPass());
  funcPm.addPass(createCanonicalizerPass());
  funcPm.addPass(createCSEPass());
}

void mlir::lowbit::registerLowbitPipelines() {
  PassPipelineRegistration<FrontendOptions>(
      "lowbit-frontend-pipeline",
      "Turns imported ONNX IR into lowbit IR with layer ops and cleans it up.",
      buildFrontendPipeline);
}
