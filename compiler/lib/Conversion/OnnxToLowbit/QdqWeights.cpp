//===- QdqWeights.cpp - int8 weights of pre-quantized (QDQ) models -*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//

#include "lowbit/Conversion/QdqWeights.h"

#include "lowbit/Dialect/Lowbit/ConstantUtils.h"

using namespace mlir;
using namespace mlir::lowbit;

static int64_t intAttrOf(OnnxNodeOp op, StringRef name, int64_t dflt) {
  if (auto attrs = op.getAttrsAttr())
    if (auto a = dyn_cast_or_null<IntegerAttr>(attrs.get(name)))
      return a.getInt();
  return dflt;
}

std::optional<Int8Weight> mlir::lowbit::readQdqWeight(OnnxNodeOp user,
                                                      unsigned operand) {
  StringRef type = user.getOpType();
  if (operand != 1 || user.getDomain().value_or("") != "" ||
      operand >= user.getInputs().size() ||
      (type != "Conv" && type != "Gemm" && type != "MatMul"))
    return std::nullopt;
  auto dq = user.getInputs()[operand].getDefiningOp<OnnxNodeOp>();
  if (!dq || dq.getOpType() != "DequantizeLinear" ||
      dq.getDomain().value_or("") != "" || dq.getInputs().size() < 2 ||
      intAttrOf(dq, "block_size", 0) != 0)
    return std::nullopt;
  // Signed int8 codes only: uint8 weights carry a zero point.
  auto wType = dyn_cast<RankedTensorType>(dq.getInputs()[0].getType());
  if (!wType || !wType.getElementType().isSignlessInteger(8))
    return std::nullopt;
  std::optional<SmallVector<uint8_t>> codes =
      readByteConstant(dq.getInputs()[0]);
  std::optional<SmallVector<float>> scales = readF32Constant(dq.getInputs()[1]);
  if (!codes || !scales || wType.getRank() < 2)
    return std::nullopt;
  if (dq.getInputs().size() > 2 && !isa<NoneType>(dq.getInputs()[2].getType())) {
    std::optional<SmallVector<uint8_t>> zp =
        readByteConstant(dq.getInputs()[2]);
    if (!zp || llvm::any_of(*zp, [](uint8_t z) { return z != 0; }))
      return std::nullopt; // affine: not a symmetric qweight
  }
  int64_t rank = wType.getRank();
  int64_t axis = intAttrOf(dq, "axis", 1);
  if (axis < 0)
    axis += rank;
  bool perTensor = scales->size() == 1 &&
                   cast<ShapedType>(dq.getInputs()[1].getType()).getRank() == 0;
  // Which axis of the ONNX weight is the output channel, and whether the
  // layer wants it transposed (MatMul's and Gemm's [K, N]).
  int64_t outAxis = 0;
  bool transpose = false;
  float alpha = 1.0f;
  if (type == "Conv") {
    if (rank != 4)
      return std::nullopt;
  } else {
    if (rank != 2)
      return std::nullopt;
    bool transB = type == "Gemm" && intAttrOf(user, "transB", 0) != 0;
    outAxis = transB ? 0 : 1;
    transpose = !transB;
    if (type == "Gemm") {
      if (intAttrOf(user, "transA", 0) != 0)
        return std::nullopt;
      if (auto attrs = user.getAttrsAttr())
        if (auto a = dyn_cast_or_null<FloatAttr>(attrs.get("alpha")))
          alpha = float(a.getValueAsDouble());
    }
  }
  int64_t n = wType.getDimSize(outAxis);
  if (!perTensor && (axis != outAxis || int64_t(scales->size()) != n))
    return std::nullopt;
  Int8Weight w;
  w.rows = n;
  w.cols = wType.getNumElements() / n;
  w.codes.resize(codes->size());
  if (transpose) {
    int64_t k = wType.getDimSize(0);
    for (int64_t r = 0; r < k; ++r)
      for (int64_t c = 0; c < n; ++c)
        w.codes[c * k + r] = int8_t((*codes)[r * n + c]);
  } else {
    for (size_t i = 0; i < codes->size(); ++i)
      w.codes[i] = int8_t((*codes)[i]);
  }
  for (int64_t r = 0; r < n; ++r)
    w.scales.push_back((*scales)[perTensor ? 0 : r] * alpha);
  return w;
}

bool mlir::lowbit::isQdqWeight(OnnxNodeOp dq) {
  if (dq.getOpType() != "DequantizeLinear" || dq->use_empty())
    return false;
  for (OpOperand &use : dq->getUses()) {
    auto user = dyn_cast<OnnxNodeOp>(use.getOwner());
    if (!user || !readQdqWeight(user, use.getOperandNumber()))
      return false;
  }
  return true;
}
