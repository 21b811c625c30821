//===- LowbitAttrs.h - lowbit attributes and enums --------------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_DIALECT_LOWBIT_LOWBITATTRS_H
#define LOWBIT_DIALECT_LOWBIT_LOWBITATTRS_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/DialectImplementation.h"

#include "lowbit/Dialect/Lowbit/LowbitEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "lowbit/Dialect/Lowbit/LowbitAttrs.h.inc"

#endif // LOWBIT_DIALECT_LOWBIT_LOWBITATTRS_H
