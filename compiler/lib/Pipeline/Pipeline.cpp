//===- Pipeline.cpp - lowbit pass pipelines -----------------------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//

#include "lowbit/Pipeline/Pipeline.h"

#include "lowbit/Conversion/Passes.h"
#include "lowbit/Dialect/Lowbit/LowbitPasses.h"
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
  if (options.convertLayers) {
    // Adapters from files and unmerged ones in the model become lowbit.lora,
    // then merged (or kept as a branch) while the weights are still f32.
    if (!options.loraAdapters.empty()) {
      ApplyLoraPassOptions apply;
      apply.adapters.assign(options.loraAdapters.begin(),
                            options.loraAdapters.end());
      apply.map.assign(options.loraMap.begin(), options.loraMap.end());
      funcPm.addPass(createApplyLoraPass(apply));
    }
    funcPm.addPass(createRecognizeLoraPass());
    MergeLoraPassOptions merge;
    merge.keepLowRank = options.loraMode == "branch";
    merge.warnAbove = options.loraWarnAbove;
    funcPm.addPass(createMergeLoraPass(merge));
  }
  funcPm.addPass(createCanonicalizerPass());
  funcPm.addPass(createCSEPass());
}

LogicalResult mlir::lowbit::buildCompilePipeline(
    OpPassManager &pm, const CompileOptions &options,
    const TargetBackend &backend,
    function_ref<LogicalResult(const Twine &)> error, CompileStage stopAfter) {
  FrontendOptions frontend;
  frontend.loraMode = options.loraMode;
  frontend.loraAdapters = options.loraAdapters;
  frontend.loraMap = options.loraMap;
  // Merged adapters much larger than their weights do not survive the
  // quantization that follows (docs/low-rank.md): say so.
  if (options.quantize)
    frontend.loraWarnAbove = 4.0;

  buildFrontendPipeline(pm, frontend);
  if (stopAfter == CompileStage::Frontend)
    return success();
  if (options.quantize) {
    QuantizeOptions quant = options.quant;
    quant.target = backend.getName().str();
    if (failed(buildQuantizePipeline(pm.nest<func::FuncOp>(), quant, error)))
      return failure();
  }
  if (stopAfter == CompileStage::Quantized)
    return success();
  backend.buildLoweringPipeline(pm, options.target);
  return success();
}

void mlir::lowbit::registerLowbitPipelines() {
  registerQuantizePipeline();
  PassPipelineRegistration<FrontendOptions>(
      "lowbit-frontend-pipeline",
      "Turns imported ONNX IR into lowbit IR with layer ops and cleans it up.",
      buildFrontendPipeline);
  registerPassPipeline(
      "lowbit-compile-pipeline",
      "Frontend, uniform quantization and a target's lowering: what lowbit "
      "compile runs before emission.",
      [](OpPassManager &pm, StringRef text,
         function_ref<LogicalResult(const Twine &)> errorHandler) {
        CompilePipelineOptions o;
        if (failed(o.parseFromString(text)))
          return failure();
        const TargetBackend *backend = lookupTargetBackend(o.target);
        if (!backend)
          return errorHandler("lowbit-compile-pipeline: unknown target '" +
                              o.target + "' (registered: " +
                              listTargetBackends() + ")");
        CompileOptions options;
        options.quant.weights = o.weights;
        options.quant.groupSize = o.groupSize;
        options.quant.embeddings = o.embeddings;
        options.quantize = !o.weights.empty() || !o.embeddings.empty();
        return buildCompilePipeline(pm, options, *backend, errorHandler);
      },
      [](function_ref<void(const mlir::detail::PassOptions &)> handler) {
        handler(CompilePipelineOptions());
      });
  // One lowering pipeline per target; the names must outlive the registry.
  static std::vector<std::unique_ptr<std::string>> strings;
  for (const TargetBackend *backend : getRegisteredTargetBackends()) {
    strings.push_back(std::make_unique<std::string>(
        "lowbit-" + backend->getName().str() + "-pipeline"));
    StringRef name = *strings.back();
    strings.push_back(std::make_unique<std::string>(
        "The " + backend->getName().str() + " target's lowering (" +
        backend->getDescription().str() + ")"));
    PassPipelineRegistration<>(
        name, *strings.back(), [backend](OpPassManager &pm) {
          backend->buildLoweringPipeline(pm, TargetOptions());
        });
  }
}
