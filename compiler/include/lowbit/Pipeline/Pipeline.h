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

#include "lowbit/Pipeline/TargetBackend.h"
#include "lowbit/Transforms/Passes.h"
#include "lowbit/Transforms/QuantizePipeline.h"

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
  Option<std::string> loraMode{
      *this, "lora-mode",
      llvm::cl::desc("LoRA adapters (unmerged in the model): merge them into "
                     "their weights before quantization, or keep each as a "
                     "low-rank branch (branch)"),
      llvm::cl::init("merge")};
  ListOption<std::string> loraAdapters{
      *this, "lora",
      llvm::cl::desc("PEFT adapters to apply: PATH or NAME=PATH "
                     "(lowbit-apply-lora)")};
  Option<double> loraWarnAbove{
      *this, "lora-warn-above",
      llvm::cl::desc("Warn when a merged adapter changes a weight by more "
                     "than this multiple of its norm (0: never)"),
      llvm::cl::init(0)};
  ListOption<std::string> loraMap{
      *this, "lora-map",
      llvm::cl::desc("MODULE=NAME renames for lowbit-apply-lora")};
};

/// Imported ONNX IR -> lowbit IR with layer ops, cleaned up.
void buildFrontendPipeline(OpPassManager &pm, const FrontendOptions &options);

/// Everything `lowbit compile` does between import and emission.
struct CompileOptions {
  /// Run the quantization passes (with `quant`) after the frontend.
  bool quantize = false;
  QuantizeOptions quant;
  /// merge or branch (FrontendOptions::loraMode).
  std::string loraMode = "merge";
  /// --lora and --lora-map (FrontendOptions::loraAdapters, loraMap).
  std::vector<std::string> loraAdapters, loraMap;
  TargetOptions target;
};

/// Where a compile pipeline stops (`lowbit import --emit=STAGE`): after the
/// frontend, after quantization, or after the backend's lowering (what the
/// backend's emitter reads).
enum class CompileStage { Frontend, Quantized, Lowered };

/// The compile pipeline on a module: the frontend (fold, convert layers,
/// canonicalize), the quantization passes when asked (buildQuantizePipeline;
/// formats and costs from `backend`), then the backend's lowering. `lowbit
/// compile --print-pipeline` prints it; `lowbit-opt --pass-pipeline=...`
/// replays it. Fails, through `error`, when the quantization options do not
/// go together.
LogicalResult
buildCompilePipeline(OpPassManager &pm, const CompileOptions &options,
                     const TargetBackend &backend,
                     function_ref<LogicalResult(const Twine &)> error,
                     CompileStage stopAfter = CompileStage::Lowered);

/// `--lowbit-compile-pipeline="target=x86 weights=int4"`: the common
/// options; the full set is what --print-pipeline prints.
struct CompilePipelineOptions
    : public PassPipelineOptions<CompilePipelineOptions> {
  Option<std::string> target{*this, "target",
                             llvm::cl::desc("Registered target backend"),
                             llvm::cl::init("x86")};
  Option<std::string> weights{
      *this, "weights",
      llvm::cl::desc("One weight format for every layer (empty: f32)"),
      llvm::cl::init("")};
  Option<int64_t> groupSize{*this, "group-size",
                            llvm::cl::desc("Weights per scale along K"),
                            llvm::cl::init(0)};
  Option<std::string> embeddings{
      *this, "embeddings",
      llvm::cl::desc("Embedding tables' format (empty: f32)"),
      llvm::cl::init("")};
};

/// Registers `--lowbit-frontend-pipeline`, `--lowbit-compile-pipeline` and,
/// for every registered backend, `--lowbit-<target>-pipeline` (call after
/// the targets are registered).
void registerLowbitPipelines();

} // namespace mlir::lowbit

#endif // LOWBIT_PIPELINE_PIPELINE_H
