//===- InitAllTargets.cpp - register every target backend --------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//

#include "lowbit/Target/InitAllTargets.h"

void mlir::lowbit::registerAllTargets() {
  registerX86Target();
  registerMcuTarget();
}
