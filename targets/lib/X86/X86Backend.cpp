//===- X86Backend.cpp - the x86 target behind TargetBackend -------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// Formats: every signed integer width and the codebook formats (NF4, FP4,
// FP8 via a table of their values); u8 activations into int8 layers. Costs:
// each layer's kernel timed on this machine (CostModel.cpp). Lowering: the
// emitter reads the quantized lowbit IR directly (fusion grouping and the
// memory plan still live in CEmitter.cpp), so the pipeline only cleans up
// what quantization left.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Target/InitAllTargets.h"
#include "lowbit/Target/X86/CostModel.h"
#include "lowbit/Target/X86/X86Target.h"

#include "lowbit/Pipeline/TargetBackend.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;
using namespace mlir::lowbit;

namespace {
class X86Backend final : public TargetBackend {
public:
  StringRef getName() const override { return "x86"; }
  StringRef getDescription() const override {
    return "x86-64 CPUs: C with AVX-512 / AVX2 / reference kernels, an "
           "object, a shared library and a verified weight package";
  }
  bool supportsWeightFormat(QuantFormat format) const override {
    return isX86WeightFormat(format);
  }
  bool supportsInt8Activations() const override { return true; }
  FailureOr<double> layerLatencyMs(Operation *layer,
                                   std::optional<QuantFormat> format,
                                   int64_t groupSize) const override {
    return measureX86LayerMs(layer, format, groupSize, /*threads=*/0);
  }
  void buildLoweringPipeline(OpPassManager &pm,
                             const TargetOptions &) const override {
    OpPassManager &funcPm = pm.nest<func::FuncOp>();
    funcPm.addPass(createCanonicalizerPass());
    funcPm.addPass(createCSEPass());
  }
  FailureOr<TargetArtifact> emit(ModuleOp module, const TargetOptions &options,
                                 std::string &error) const override {
    FailureOr<X86Artifact> artifact = emitX86Model(module, options.modelName);
    if (failed(artifact))
      return failure();
    X86BuildOptions build;
    build.outDir = options.outputDir;
    build.cpu = options.cpu;
    build.cc = options.cc;
    build.force = options.force;
    if (failed(writeX86Artifact(*artifact, build, error)))
      return failure();
    TargetArtifact out;
    out.files = {artifact->name + ".c", artifact->name + ".h"};
    if (!options.cc.empty()) // the object and library need a C compiler
      out.files.insert(out.files.end(),
                       {artifact->name + ".o", artifact->name + ".so"});
    out.files.push_back(artifact->name + ".lbpkg");
    out.arenaBytes = artifact->arenaSize;
    out.weightBytes = artifact->weightBytes;
    out.steps = artifact->layers.size();
    return out;
  }
};
} // namespace

void mlir::lowbit::registerX86Target() {
  if (!lookupTargetBackend("x86"))
    registerTargetBackend(std::make_unique<X86Backend>());
}
