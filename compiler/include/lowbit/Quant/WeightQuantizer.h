//===- WeightQuantizer.h - quantize a weight matrix ---------------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// Symmetric quantization of an [N, K] weight matrix (rows are output
// channels) into lowbit.qweight's packed codes and scales. The quantize
// pass writes what this returns; the sensitivity analysis uses the same
// function to measure the error a format would cause, so the error that is
// predicted is the error that is compiled.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_QUANT_WEIGHTQUANTIZER_H
#define LOWBIT_QUANT_WEIGHTQUANTIZER_H

#include "lowbit/Quant/Formats.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/ArrayRef.h"

#include <vector>

namespace mlir::lowbit {

/// How a scale is chosen per group: max |w| / maxValue, or the candidate in
/// [0.525, 1] x that which minimizes the group's squared rounding error.
enum class ScaleSearch { Max, Mse };

struct QuantizedMatrix {
  int64_t rows = 0, cols = 0;
  /// Elements per scale along K (== cols for one scale per row).
  int64_t groupSize = 0;
  int64_t groupsPerRow = 0;
  std::vector<uint8_t> codes;  ///< LSB-first packed, see writePackedCode
  std::vector<float> scales;   ///< [rows][groupsPerRow]
  /// Scales are stored as f16 (each already rounded to an f16 value).
  bool f16Scales = false;
  /// Affine codes: code c stands for (c - zeroPoints[g]) * scales[g]
  /// ([rows][groupsPerRow]); empty for symmetric formats.
  std::vector<int32_t> zeroPoints;
};

/// Quantizes row-major `w` ([rows, cols]). `groupSize` <= 0 or >= cols
/// means one scale per row.
QuantizedMatrix quantizeMatrix(QuantFormat format, llvm::ArrayRef<float> w,
                               int64_t rows, int64_t cols, int64_t groupSize,
                               ScaleSearch search = ScaleSearch::Mse,
                               bool f16Scales = false);

/// Error-feedback rounding (GPTQ, Frantar et al. 2023): columns are
/// rounded one at a time and each column's rounding error, weighted by the
/// inverse of the layer's input Hessian H = E[x x^T] ([cols, cols],
/// row-major), is pushed onto the columns not yet rounded, so that the
/// layer output error tr(dW H dW^T) is much smaller than with independent
/// rounding. Scales are chosen per group from the updated weights when the
/// group is entered. `damp` (relative to the mean diagonal) keeps H
/// invertible.
QuantizedMatrix quantizeMatrixGptq(QuantFormat format, llvm::ArrayRef<float> w,
                                   int64_t rows, int64_t cols,
                                   int64_t groupSize,
                                   llvm::ArrayRef<float> hessian,
                                   ScaleSearch search = ScaleSearch::Mse,
                                   bool f16Scales = false,
                                   double damp = 0.01);

/// The values the codes stand for, row-major [rows, cols].
std::vector<float> dequantizeMatrix(QuantFormat format,
                                    const QuantizedMatrix &q);

/// Builds the lowbit.qweight (packed codes and f32 or f16 scales as
/// constants) that
/// stands for a weight of `weightType` quantized as `q` (rows = dim 0, cols
/// = the rest): one scale per row becomes per_channel(axis = 0), several a
/// group along axis 1 (rank-2 weights only).
mlir::Value createQWeight(mlir::OpBuilder &b, mlir::Location loc,
                          mlir::RankedTensorType weightType, QuantFormat format,
                          const QuantizedMatrix &q);

/// Storage of a [rows, cols] weight in `format` with `scaleBits`-bit
/// scales, in bits (codes plus scales): what a package holds for it.
double quantizedBits(QuantFormat format, int64_t rows, int64_t cols,
                     int64_t groupSize, unsigned scaleBits = 32);

} // namespace mlir::lowbit

#endif // LOWBIT_QUANT_WEIGHTQUANTIZER_H
