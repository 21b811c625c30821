//===- X86Target.cpp - write and build the x86 artifact -----------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//

#include "lowbit/Target/X86/X86Target.h"

#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/Program.h"
#include "lowbit/Target/OutputFolder.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlir::lowbit;

LogicalResult mlir::lowbit::writeX86Artifact(const X86Artifact &artifact,
                                             const X86BuildOptions &options,
                                             std::string &error) {
  std::unique_ptr<OutputFolder> folder =
      OutputFolder::create(options.outDir, options.force, error);
  if (!folder)
    return failure();
  auto file = [&](StringRef ext) { return folder->path(artifact.name + ext.str()); };
  StringRef pkg(reinterpret_cast<const char *>(artifact.package.data()),
                artifact.package.size());
  if (!folder->write(artifact.name + ".c", artifact.source, error) ||
      !folder->write(artifact.name + ".h", artifact.header, error) ||
      !folder->write(artifact.name + ".lbpkg", pkg, error))
    return failure();
  if (!options.cc.empty()) {
    if (!llvm::sys::findProgramByName(options.cc)) {
      error = "cannot find the C compiler '" + options.cc + "' (use --cc)";
      return failure();
    }
    std::string march = "-march=" + options.cpu;
    // Fast math without -ffinite-math-only: reassociation and no errno,
    // but NaN and infinities keep ONNX's semantics (the generated C
    // declares the libmvec variants glibc hides without __FAST_MATH__).
    if (!folder->run({options.cc, "-O3", march, "-fPIC", "-std=c11",
                      "-ffast-math", "-fno-finite-math-only",
                      "-I" + std::string(LOWBIT_RUNTIME_INCLUDE_DIR),
                      "-I" + folder->path(""), "-c", file(".c"), "-o",
                      file(".o")},
                     error) ||
        !folder->run({options.cc, "-shared", "-o", file(".so"), file(".o"),
                      LOWBIT_RUNTIME_LIBRARY, "-lm", "-lpthread"},
                     error))
      return failure();
  }
  // Replace the output folder only now that everything is in place.
  return success(folder->commit(error));
}
