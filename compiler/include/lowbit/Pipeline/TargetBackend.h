//===- TargetBackend.h - the interface every code generator implements -*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// One code generation target, registered by name. The compile pipeline and
// the quantization passes ask the backend what it runs (weight formats, int8
// activations), what a layer costs (latency budgets), how it lowers and how
// it writes its artifact; they never name a target. Implementations live in
// targets/lib/<Name>/ and are registered by registerAllTargets() (targets/),
// so compiler/ never depends on a concrete backend.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_PIPELINE_TARGETBACKEND_H
#define LOWBIT_PIPELINE_TARGETBACKEND_H

#include "lowbit/Dialect/Lowbit/LowbitAttrs.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/LLVM.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mlir::lowbit {

/// Options every target understands (`lowbit compile` maps its flags here).
struct TargetOptions {
  /// CPU or GPU the code is built for ("native", "x86-64-v3", "sm_90").
  std::string cpu = "native";
  /// Host C compiler for targets that build objects ("" skips building).
  std::string cc = "cc";
  /// Folder the artifact is written to (atomically).
  std::string outputDir;
  /// C identifier of the model in the generated code.
  std::string modelName;
  /// Replace outputDir even when it holds files lowbit did not write.
  bool force = false;
  /// Integer-only targets: requantization of convolutions and linear
  /// layers, "away" (one rounding) or "tflite" (TFLite Micro's two).
  std::string integerRounding = "away";
};

/// What a backend wrote, for the driver's summary line and the report.
struct TargetArtifact {
  /// Files written, relative to the output folder ("m.c", "m.lbpkg", ...).
  std::vector<std::string> files;
  uint64_t arenaBytes = 0;
  uint64_t weightBytes = 0;
  /// Kernel calls and generated loops in the entry point.
  size_t steps = 0;
  /// A backend's own line for the summary (the MCU's peak layer).
  std::string note;
  /// The node where the arena is fullest ("" when not tracked).
  std::string arenaPeakLayer;
};

class TargetBackend {
public:
  virtual ~TargetBackend();

  /// Name used by `--target=`, the registry and `--lowbit-<name>-pipeline`.
  virtual StringRef getName() const = 0;
  /// One line for `--help` and `lowbit targets`.
  virtual StringRef getDescription() const = 0;

  /// Weight formats the target runs natively (f32 is always supported).
  virtual bool supportsWeightFormat(QuantFormat format) const = 0;
  /// Whether layers may read u8 activations (W8A8).
  virtual bool supportsInt8Activations() const = 0;
  /// The native weight formats, in QuantFormat order (from the dialect).
  std::vector<QuantFormat> getWeightFormats() const;

  /// Measured or modelled latency of one layer (lowbit.linear/conv2d) with
  /// its weight in `format` (nullopt: f32), for --budget-latency. Fails
  /// where the target has no cost model.
  virtual FailureOr<double> layerLatencyMs(Operation *layer,
                                           std::optional<QuantFormat> format,
                                           int64_t groupSize) const;

  /// Dialects the lowering may create; loaded before the pipeline runs.
  virtual void getDependentDialects(DialectRegistry &registry) const {}

  /// Appends the passes that take the quantized lowbit IR to the form
  /// emit() accepts (`lowbit-opt --lowbit-<name>-pipeline`).
  virtual void buildLoweringPipeline(OpPassManager &pm,
                                     const TargetOptions &options) const = 0;

  /// Writes the artifact for the lowered `module` into options.outputDir,
  /// atomically. Errors are emitted as diagnostics on the module, or, for
  /// file system and toolchain failures, returned in `error`.
  virtual FailureOr<TargetArtifact> emit(ModuleOp module,
                                         const TargetOptions &options,
                                         std::string &error) const = 0;
};

/// Adds `backend` to the registry (its name must be new).
void registerTargetBackend(std::unique_ptr<TargetBackend> backend);
/// The backend named `name`, or null.
const TargetBackend *lookupTargetBackend(StringRef name);
/// Every registered backend, by name.
std::vector<const TargetBackend *> getRegisteredTargetBackends();
/// "x86, mcu": the registered names, for help and error texts.
std::string listTargetBackends();

} // namespace mlir::lowbit

#endif // LOWBIT_PIPELINE_TARGETBACKEND_H
