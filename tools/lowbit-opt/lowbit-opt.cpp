//===- lowbit-opt.cpp - lowbit modular optimizer driver ----------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// Parses lowbit IR, runs passes and pipelines, prints the result. Every
// lowbit compile can be replayed here with --pass-pipeline.
//
//===----------------------------------------------------------------------===//

#include "lowbit/InitAll.h"
#include "lowbit/Target/InitAllTargets.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "llvm/Support/PrettyStackTrace.h"

int main(int argc, char **argv) {
  llvm::setBugReportMsg("Please report bugs to the lowbit issue tracker and "
                        "include the crash backtrace.\n");
  mlir::DialectRegistry registry;
  mlir::lowbit::registerAllDialects(registry);
  mlir::lowbit::registerAllTargets();
  mlir::lowbit::registerAllPasses();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "lowbit modular optimizer\n", registry));
}
