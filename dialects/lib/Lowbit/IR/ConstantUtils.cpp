//===- ConstantUtils.cpp - read and build weight constants --------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//

#include "lowbit/Dialect/Lowbit/ConstantUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"

using namespace mlir;

/// Constants up to this many elements are written inline.
static constexpr int64_t kInlineLimit = 64;

std::optional<SmallVector<float>> mlir::lowbit::readF32Constant(Value v) {
  auto cst = v.getDefiningOp<arith::ConstantOp>();
  if (!cst)
    return std::nullopt;
  if (auto dense = dyn_cast<DenseElementsAttr>(cst.getValue())) {
    if (!dense.getElementType().isF32())
      return std::nullopt;
    auto values = dense.getValues<float>();
    return SmallVector<float>(values.begin(), values.end());
  }
  if (auto resource = dyn_cast<DenseF32ResourceElementsAttr>(cst.getValue())) {
    std::optional<ArrayRef<float>> values = resource.tryGetAsArrayRef();
    if (!values)
      return std::nullopt;
    return SmallVector<float>(values->begin(), values->end());
  }
  return std::nullopt;
}

std::optional<SmallVector<uint8_t>> mlir::lowbit::readByteConstant(Value v) {
  auto cst = v.getDefiningOp<arith::ConstantOp>();
  auto type = cst ? dyn_cast<ShapedType>(cst.getType()) : nullptr;
  if (!type || !type.getElementType().isInteger(8) || !type.hasStaticShape())
    return std::nullopt;
  if (auto dense = dyn_cast<DenseElementsAttr>(cst.getValue())) {
    SmallVector<uint8_t> out;
    for (const APInt &x : dense.getValues<APInt>())
      out.push_back(uint8_t(x.getZExtValue()));
    return out;
  }
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(cst.getValue())) {
    AsmResourceBlob *blob = resource.getRawHandle().getBlob();
    if (!blob || int64_t(blob->getData().size()) != type.getNumElements())
      return std::nullopt;
    ArrayRef<char> data = blob->getData();
    return SmallVector<uint8_t>(data.begin(), data.end());
  }
  return std::nullopt;
}

Value mlir::lowbit::makeF32Constant(OpBuilder &builder, Location loc,
                                    RankedTensorType type,
                                    ArrayRef<float> values, StringRef name) {
  TypedAttr attr;
  if (type.getNumElements() <= kInlineLimit)
    attr = DenseElementsAttr::get(type, values);
  else
    attr = cast<TypedAttr>(DenseF32ResourceElementsAttr::get(
        type, name, HeapAsmResourceBlob::allocateAndCopyInferAlign(values)));
  return arith::ConstantOp::create(builder, loc, attr);
}
