//===- LowbitDialect.cpp - lowbit dialect registration ------------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//

#include "lowbit/Dialect/Lowbit/LowbitDialect.h"
#include "lowbit/Dialect/Lowbit/LowbitAttrs.h"
#include "lowbit/Dialect/Lowbit/LowbitOps.h"

using namespace mlir;
using namespace mlir::lowbit;

#include "lowbit/Dialect/Lowbit/LowbitOpsDialect.cpp.inc"

void LowbitDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "lowbit/Dialect/Lowbit/LowbitOps.cpp.inc"
      >();
  registerAttributes();
}
