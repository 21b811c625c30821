//===- Pipeline.h - lowbit pass pipelines -------------------------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// Pipelines are library code so that every `lowbit` command can be replayed
// with `lowbit-opt --lowbit-frontend-pipeline`.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_PIPELINE_PIPELINE_H
#define LOWBIT_PIPELINE_PIPELINE_H

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

namespace mlir::lowbit {

/// Options of the frontend pipeline; also parsed from
/// `--lowbit-frontend-pipeline="convert-layers=false"`.
struct FrontendOptions : public PassPipelineOptions<FrontendOptions> {
  Option<bool> convertLayers{
      *this, "convert-layers",
      llvm::cl::desc("Turn ONNX layers with constant weights into lowbit ops"),
      llvm::cl::init(true)};
  Option<bool> foldConstants{
      *this, "fold-constants",
      llvm::cl::desc("Evaluate ops on constants with the interpreter"),
      llvm::cl::init(true)};
};

/// Imported ONNX IR -> lowbit IR with layer ops, cleaned up.
void buildFrontendPipeline(OpPassManager &pm, const FrontendOptions &options);

/// Registers `--lowbit-frontend-pipeline`.
void registerLowbitPipelines();

} // namespace mlir::lowbit

#endif // LOWBIT_PIPELINE_PIPELINE_H
