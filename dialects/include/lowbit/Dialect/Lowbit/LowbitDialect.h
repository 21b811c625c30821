//===- LowbitDialect.h - lowbit dialect -------------------------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_DIALECT_LOWBIT_LOWBITDIALECT_H
#define LOWBIT_DIALECT_LOWBIT_LOWBITDIALECT_H

#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/IR/Dialect.h"

#include "lowbit/Dialect/Lowbit/LowbitOpsDialect.h.inc"

#endif // LOWBIT_DIALECT_LOWBIT_LOWBITDIALECT_H
