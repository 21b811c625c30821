//===- Passes.h - compiler-level lowbit passes --------------------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_TRANSFORMS_PASSES_H
#define LOWBIT_TRANSFORMS_PASSES_H

#include "lowbit/Dialect/Lowbit/LowbitDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::lowbit {
#define GEN_PASS_DECL
#define GEN_PASS_REGISTRATION
#include "lowbit/Transforms/Passes.h.inc"
} // namespace mlir::lowbit

#endif // LOWBIT_TRANSFORMS_PASSES_H
