//===- ConstantUtils.h - read and build weight constants ----------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// Passes that rewrite weights (LoRA merging, transposes at import, rotation
// fusion, packing) read arith.constant values that may be inline dense
// attributes or dense resources, and write new ones. These helpers keep that
// in one place.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_DIALECT_LOWBIT_CONSTANTUTILS_H
#define LOWBIT_DIALECT_LOWBIT_CONSTANTUTILS_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Value.h"

#include <optional>

namespace mlir::lowbit {

/// Values of an f32 `arith.constant` (dense or dense resource) defining `v`;
/// nullopt when `v` is not such a constant.
std::optional<SmallVector<float>> readF32Constant(Value v);

/// The bytes of an 8-bit integer (signed or unsigned) `arith.constant`
/// defining `v`, in element order.
std::optional<SmallVector<uint8_t>> readByteConstant(Value v);

/// Materializes `values` as an f32 `arith.constant` of `type`: inline when
/// small (readable IR and tests), a dense resource named `name` otherwise.
Value makeF32Constant(OpBuilder &builder, Location loc, RankedTensorType type,
                      ArrayRef<float> values, StringRef name);

} // namespace mlir::lowbit

#endif // LOWBIT_DIALECT_LOWBIT_CONSTANTUTILS_H
