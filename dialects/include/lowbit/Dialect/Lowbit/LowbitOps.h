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

namespace mlir::lowbit {
/// The ONNX node name `op` came from (the importer's NameLoc), or the op's
/// name: what diagnostics, reports and weight tables call a layer.
std::string getNodeName(Operation *op);
/// The integer ONNX attribute `name` of `op` (its `attrs` dictionary), or
/// `dflt` when absent.
int64_t getIntAttr(OnnxNodeOp op, StringRef name, int64_t dflt);
} // namespace mlir::lowbit

#endif // LOWBIT_DIALECT_LOWBIT_LOWBITOPS_H
