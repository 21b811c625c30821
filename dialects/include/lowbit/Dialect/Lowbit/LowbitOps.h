//===- LowbitOps.h - lowbit operations --------------------------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_DIALECT_LOWBIT_LOWBITOPS_H
#define LOWBIT_DIALECT_LOWBIT_LOWBITOPS_H

#include "lowbit/Dialect/Lowbit/LowbitAttrs.h"
#include "lowbit/Dialect/Lowbit/LowbitDialect.h"

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define GET_OP_CLASSES
#include "lowbit/Dialect/Lowbit/LowbitOps.h.inc"

#endif // LOWBIT_DIALECT_LOWBIT_LOWBITOPS_H
