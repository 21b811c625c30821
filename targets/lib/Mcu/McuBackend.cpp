//===- McuBackend.cpp - the mcu target behind TargetBackend --------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// Formats: int8 weights (per channel, symmetric) with int8 activations, as
// in an int8 QDQ model. Lowering: lowbit-lower-to-integer, then the emitter
// (McuEmitter.cpp) prints the integer ops. The artifact folder is
// self-contained: the model's C, the kernels (copied from the compiler,
// which embeds runtime/kernels/mcu/ at build time) and a manifest.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Target/InitAllTargets.h"
#include "lowbit/Target/Mcu/McuTarget.h"
#include "McuEmbedded.h"
#include "lowbit/Target/OutputFolder.h"

#include "lowbit/Pipeline/TargetBackend.h"
#include "lowbit/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

using namespace mlir;
using namespace mlir::lowbit;


namespace {
class McuBackend final : public TargetBackend {
public:
  StringRef getName() const override { return "mcu"; }
  StringRef getDescription() const override {
    return "Cortex-M microcontrollers: integer-only C99 (no heap, no libm, no "
           "float) with one static arena, for int8 QDQ models; run under QEMU";
  }
  bool supportsWeightFormat(QuantFormat format) const override {
    return format == QuantFormat::Int8;
  }
  bool supportsInt8Activations() const override { return true; }
  void buildLoweringPipeline(OpPassManager &pm,
                             const TargetOptions &options) const override {
    OpPassManager &funcPm = pm.nest<func::FuncOp>();
    funcPm.addPass(createCanonicalizerPass());
    funcPm.addPass(createCSEPass());
    LowerToIntegerPassOptions lowering;
    lowering.rounding = options.integerRounding;
    funcPm.addPass(createLowerToIntegerPass(lowering));
    funcPm.addPass(createCSEPass());
  }
  FailureOr<TargetArtifact> emit(ModuleOp module, const TargetOptions &options,
                                 std::string &error) const override {
    std::string cpu = options.cpu == "native" ? "cortex-m4" : options.cpu;
    if (!isMcuCpu(cpu)) {
      error = "--cpu '" + options.cpu + "' is not an MCU core; the mcu target "
              "builds for " + listMcuCpus();
      return failure();
    }
    FailureOr<McuArtifact> artifact =
        emitMcuModel(module, options.modelName, cpu);
    if (failed(artifact))
      return failure();
    if (failed(writeMcuArtifact(*artifact, options.outputDir, options.force,
                                error)))
      return failure();
    TargetArtifact out;
    out.files = {artifact->name + ".c", artifact->name + ".h",
                 artifact->name + ".mcu.json", "lowbit_mcu.c", "lowbit_mcu.h"};
    out.arenaBytes = artifact->arenaBytes;
    out.weightBytes = artifact->weightBytes;
    out.steps = artifact->layers.size();
    out.arenaPeakLayer = artifact->peakLayer;
    out.note = "arena peak at '" + artifact->peakLayer + "' (" +
               "macro " + StringRef(artifact->name).upper() + "_ARENA_BYTES)";
    return out;
  }
};
} // namespace

LogicalResult mlir::lowbit::writeMcuArtifact(const McuArtifact &artifact,
                                             StringRef outDir, bool force,
                                             std::string &error) {
  std::unique_ptr<OutputFolder> folder =
      OutputFolder::create(outDir, force, error);
  if (!folder)
    return failure();
  if (!folder->write(artifact.name + ".c", artifact.source, error) ||
      !folder->write(artifact.name + ".h", artifact.header, error) ||
      !folder->write(artifact.name + ".mcu.json", artifact.manifest(), error))
    return failure();
  // The kernels travel with the model; the QEMU support files stay in the
  // compiler (the runner writes them into its build folder).
  for (size_t i = 0; i < mcu::kNumEmbeddedFiles; ++i) {
    StringRef path = mcu::kEmbeddedFiles[i].path;
    if (!path.contains('/') &&
        !folder->write(path, mcu::kEmbeddedFiles[i].text, error))
      return failure();
  }
  return success(folder->commit(error));
}

bool mlir::lowbit::isMcuArtifactDir(StringRef dir) {
  std::error_code ec;
  for (llvm::sys::fs::directory_iterator it(dir, ec), end; it != end && !ec;
       it.increment(ec))
    if (StringRef(it->path()).ends_with(".mcu.json"))
      return true;
  return false;
}

LogicalResult mlir::lowbit::loadMcuArtifact(StringRef dir,
                                            McuArtifact &artifact,
                                            std::string &error) {
  std::string manifest;
  std::error_code ec;
  for (llvm::sys::fs::directory_iterator it(dir, ec), end; it != end && !ec;
       it.increment(ec))
    if (StringRef(it->path()).ends_with(".mcu.json")) {
      if (!manifest.empty()) {
        error = dir.str() + ": more than one .mcu.json manifest";
        return failure();
      }
      manifest = it->path();
    }
  if (manifest.empty()) {
    error = dir.str() + ": not an MCU artifact (no <name>.mcu.json)";
    return failure();
  }
  auto buf = llvm::MemoryBuffer::getFile(manifest, /*IsText=*/true);
  if (!buf) {
    error = manifest + ": " + buf.getError().message();
    return failure();
  }
  if (!McuArtifact::parseManifest((*buf)->getBuffer(), artifact, error)) {
    error = manifest + ": " + error;
    return failure();
  }
  for (std::string f : {artifact.name + ".c", artifact.name + ".h",
                        std::string("lowbit_mcu.c"),
                        std::string("lowbit_mcu.h")}) {
    SmallString<256> p(dir);
    llvm::sys::path::append(p, f);
    if (!llvm::sys::fs::is_regular_file(p)) {
      error = dir.str() + ": the MCU artifact lacks " + f;
      return failure();
    }
  }
  return success();
}

void mlir::lowbit::registerMcuTarget() {
  if (!lookupTargetBackend("mcu"))
    registerTargetBackend(std::make_unique<McuBackend>());
}
