//===- LowbitPasses.h - passes over the lowbit dialect ----------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_DIALECT_LOWBIT_LOWBITPASSES_H
#define LOWBIT_DIALECT_LOWBIT_LOWBITPASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Pass/Pass.h"

namespace mlir::lowbit {
#define GEN_PASS_DECL
#define GEN_PASS_REGISTRATION
#include "lowbit/Dialect/Lowbit/LowbitPasses.h.inc"
} // namespace mlir::lowbit

#endif // LOWBIT_DIALECT_LOWBIT_LOWBITPASSES_H
