//===- QdqWeights.h - int8 weights of pre-quantized (QDQ) models --*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// ONNX Runtime's quantize_static writes a weight as DequantizeLinear(int8
// initializer, scale[, zero point 0]). To keep it int8 through compilation,
// constant folding leaves exactly those DequantizeLinear nodes alone that
// convert-onnx-to-lowbit turns into lowbit.qweight, and both ask here.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_CONVERSION_QDQWEIGHTS_H
#define LOWBIT_CONVERSION_QDQWEIGHTS_H

#include "lowbit/Dialect/Lowbit/LowbitOps.h"

#include <optional>

namespace mlir::lowbit {

/// A weight as int8 codes and one scale per output channel (rows = output
/// channels, laid out as the layer op wants its weight: [N, K] for
/// lowbit.linear, ONNX's [O, C/g, kh, kw] for lowbit.conv2d).
struct Int8Weight {
  SmallVector<int8_t> codes;
  SmallVector<float> scales; ///< one per row
  int64_t rows = 0, cols = 0;
};

/// The int8 weight that operand `operand` of the ONNX node `user` (Conv,
/// Gemm or MatMul; the weight operand is 1) reads through a symmetric
/// DequantizeLinear of constants, in the orientation the converted layer
/// uses (Gemm's alpha folded into the scales); nullopt when it does not,
/// or when the scales do not run along the output channels.
std::optional<Int8Weight> readQdqWeight(OnnxNodeOp user, unsigned operand);

/// True when `dq` is a DequantizeLinear whose every use is read by
/// readQdqWeight: folding it to f32 would lose the int8 codes.
bool isQdqWeight(OnnxNodeOp dq);

} // namespace mlir::lowbit

#endif // LOWBIT_CONVERSION_QDQWEIGHTS_H
