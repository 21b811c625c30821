//===- X86Target.h - compile lowbit IR for x86 CPUs ---------------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// The x86 target emits C (documented choice: a C source file the user's
// toolchain can build for any x86 flavour, plus an object file and a shared
// library built with the host C compiler for `lowbit run/bench`). Heavy ops
// call the runtime's micro-kernels with weights packed at compile time;
// elementwise chains are fused into single loops; activations live in one
// arena whose layout is planned at compile time from value liveness.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_TARGET_X86_X86TARGET_H
#define LOWBIT_TARGET_X86_X86TARGET_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LLVM.h"

#include <string>
#include <vector>

namespace mlir::lowbit {

/// One line of `lowbit inspect`: what a kernel call or loop does.
struct X86LayerReport {
  std::string name;    ///< node name (location)
  std::string kind;    ///< "linear", "conv2d", "elementwise(fused 4)", ...
  int64_t weightBytes = 0;
  int64_t outputBytes = 0;
};

/// Everything `lowbit compile` writes for one model.
struct X86Artifact {
  std::string name;    ///< C identifier suffix
  std::string source;  ///< <name>.c
  std::string header;  ///< <name>.h
  std::vector<uint8_t> package; ///< <name>.lbpkg
  uint64_t arenaSize = 0;
  uint64_t weightBytes = 0;
  std::vector<X86LayerReport> layers;
};

/// Lowers a module whose function has static shapes (after the frontend
/// pipeline) to C + package. Emits diagnostics naming the node for anything
/// the target cannot handle.
FailureOr<X86Artifact> emitX86Model(ModuleOp module, StringRef name);

/// Turns a model file name into a C identifier ("digits_cnn").
std::string modelIdentifier(StringRef path);

struct X86BuildOptions {
  std::string outDir;
  /// `-march=` for the generated code's object and library.
  std::string cpu = "native";
  /// C compiler used to build <name>.o and <name>.so ("" skips that step).
  std::string cc = "cc";
  /// Replace outDir even when it does not look like a lowbit output.
  bool force = false;
};

/// Writes <name>.c, <name>.h and <name>.lbpkg, and builds <name>.o and
/// <name>.so (the code linked with the runtime, for `lowbit run/bench`),
/// into a temporary folder that replaces `outDir` only when everything
/// succeeded. Returns an error message on failure.
LogicalResult writeX86Artifact(const X86Artifact &artifact,
                               const X86BuildOptions &options,
                               std::string &error);



} // namespace mlir::lowbit

#endif // LOWBIT_TARGET_X86_X86TARGET_H
