//===- TargetBackend.h - the interface every code generator implements -*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// One code generation target. Implementations live in targets/lib/<Name>/
// and are made available by registerAllTargets() (tools only), so that
// compiler/ never depends on a concrete backend.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_TARGET_TARGETBACKEND_H
#define LOWBIT_TARGET_TARGETBACKEND_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/LLVM.h"

#include <string>

namespace mlir::lowbit {

/// Options every target understands.
struct TargetOptions {
  /// CPU or GPU name ("native", "x86-64-v3", "sm_90", "cortex-m4").
  std::string cpu = "native";
  /// Directory the artifact is written to.
  std::string outputDir;
};

class TargetBackend {
public:
  virtual ~TargetBackend() = default;

  /// Name used by `--target=` and by the `lowbit-<name>-pipeline` flag.
  virtual StringRef getName() const = 0;

  /// Dialects the lowering may create; loaded before the pipeline runs.
  virtual void getDependentDialects(DialectRegistry &registry) const = 0;

  /// Appends the passes that take frontend-pipeline output to the form
  /// emit() accepts.
  virtual void buildLoweringPipeline(OpPassManager &pm,
                                     const TargetOptions &options) const = 0;

  /// Writes the artifact: an object file (x86), PTX (cuda) or C (mcu).
  virtual LogicalResult emit(ModuleOp module,
                             const TargetOptions &options) const = 0;
};

} // namespace mlir::lowbit

#endif // LOWBIT_TARGET_TARGETBACKEND_H
