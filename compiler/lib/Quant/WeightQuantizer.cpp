//===- WeightQuantizer.cpp - quantize a weight matrix -------------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//

#include "lowbit/Quant/WeightQuantizer.h"

#include "lowbit/Dialect/Lowbit/ConstantUtils.h"
#include "lowbit/Dialect/Lowbit/LowbitOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/DialectResourceBlobManager.h"

#include "llvm/ADT/APFloat.h"

#include <Eigen/Cholesky>
#include <Eigen/Dense>

#include <algorithm>
#include <cmath>

using namespace mlir::lowbit;

/// Squared error of quantizing `w` with `scale`.
static double groupError(QuantFormat f, llvm::ArrayRef<float> w,
                         double scale) {
  double err = 0;
  for (float x : w) {
    double q = decodeCode(f, encodeValue(f, x / scale)) * scale;
    err += (q - x) * (q - x);
  }
  return err;
}

/// Clipping outliers trades their error for finer steps everywhere else;
/// the search tries 20 shrink factors of max |w|.
static double chooseScale(QuantFormat f, llvm::ArrayRef<float> w,
                          ScaleSearch search) {
  double amax = 0;
  for (float x : w)
    amax = std::max(amax, double(std::fabs(x)));
  double maxValue = getFormatInfo(f).maxValue;
  if (amax == 0)
    return 1.0;
  double best = amax / maxValue;
  if (search == ScaleSearch::Max)
    return best;
  double bestErr = groupError(f, w, best);
  for (int i = 1; i < 20; ++i) {
    double s = amax * (1.0 - 0.025 * i) / maxValue;
    double e = groupError(f, w, s);
    if (e < bestErr) {
      bestErr = e;
      best = s;
    }
  }
  return best;
}

/// The f16 value nearest to `s` (ties to even), as a float.
static float roundToHalf(float s) {
  llvm::APFloat v(s);
  bool lost;
  v.convert(llvm::APFloat::IEEEhalf(), llvm::APFloat::rmNearestTiesToEven,
            &lost);
  v.convert(llvm::APFloat::IEEEsingle(), llvm::APFloat::rmNearestTiesToEven,
            &lost);
  return v.convertToFloat();
}

/// Shape, group layout and zeroed storage of a quantized [rows, cols].
static QuantizedMatrix emptyMatrix(QuantFormat format, int64_t rows,
                                   int64_t cols, int64_t groupSize) {
  QuantizedMatrix q;
  q.rows = rows;
  q.cols = cols;
  q.groupSize = groupSize > 0 ? std::min(groupSize, cols) : cols;
  q.groupsPerRow = cols ? (cols + q.groupSize - 1) / q.groupSize : 0;
  q.scales.assign(rows * q.groupsPerRow, 0.0f);
  q.codes.assign((rows * cols * getFormatInfo(format).bits + 7) / 8, 0);
  return q;
}

QuantizedMatrix mlir::lowbit::quantizeMatrix(QuantFormat format,
                                             llvm::ArrayRef<float> w,
                                             int64_t rows, int64_t cols,
                                             int64_t groupSize,
                                             ScaleSearch search,
                                             bool f16Scales) {
  QuantizedMatrix q = emptyMatrix(format, rows, cols, groupSize);
  q.f16Scales = f16Scales;
  unsigned bits = getFormatInfo(format).bits;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t g = 0; g < q.groupsPerRow; ++g) {
      int64_t k0 = g * q.groupSize, k1 = std::min(cols, k0 + q.groupSize);
      llvm::ArrayRef<float> grp(w.data() + r * cols + k0, k1 - k0);
      // The scale is stored as f32: round it first so that codes are chosen
      // for the scale the consumer will multiply by.
      float s = static_cast<float>(chooseScale(format, grp, search));
      if (f16Scales)
        s = roundToHalf(s);
      q.scales[r * q.groupsPerRow + g] = s;
      for (int64_t k = k0; k < k1; ++k)
        writePackedCode(q.codes.data(), r * cols + k, bits,
                        encodeValue(format, w[r * cols + k] / double(s)));
    }
  return q;
}

std::vector<float> mlir::lowbit::dequantizeMatrix(QuantFormat format,
                                                  const QuantizedMatrix &q) {
  unsigned bits = getFormatInfo(format).bits;
  std::vector<float> out(q.rows * q.cols);
  for (int64_t r = 0; r < q.rows; ++r)
    for (int64_t k = 0; k < q.cols; ++k) {
      int64_t g = r * q.groupsPerRow + k / q.groupSize;
      double v = decodeCode(format, readPackedCode(q.codes.data(),
                                                   r * q.cols + k, bits));
      if (!q.zeroPoints.empty())
        v -= q.zeroPoints[g];
      out[r * q.cols + k] = static_cast<float>(v * double(q.scales[g]));
    }
  return out;
}

double mlir::lowbit::quantizedBits(QuantFormat format, int64_t rows,
                                   int64_t cols, int64_t groupSize,
                                   unsigned scaleBits) {
  int64_t g = groupSize > 0 ? std::min(groupSize, cols) : cols;
  int64_t groups = cols ? (cols + g - 1) / g : 0;
  return double(rows) * cols * getFormatInfo(format).bits +
         double(rows) * groups * double(scaleBits);
}

QuantizedMatrix mlir::lowbit::quantizeMatrixGptq(
    QuantFormat format, llvm::ArrayRef<float> w, int64_t rows, int64_t cols,
    int64_t groupSize, llvm::ArrayRef<float> hessian, ScaleSearch search,
    bool f16Scales, double damp) {
  using Matrix = Eigen::MatrixXd;
  QuantizedMatrix q = emptyMatrix(format, rows, cols, groupSize);
  q.f16Scales = f16Scales;
  unsigned bits = getFormatInfo(format).bits;
  // Working copy, column-major access per column i: W(:, i).
  Matrix work(rows, cols);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t k = 0; k < cols; ++k)
      work(r, k) = w[r * cols + k];
  Matrix h(cols, cols);
  for (int64_t i = 0; i < cols; ++i)
    for (int64_t j = 0; j < cols; ++j)
      h(i, j) = hessian[i * cols + j];
  // Inputs that are always zero carry no information: any value is exact.
  double meanDiag = 0;
  for (int64_t i = 0; i < cols; ++i) {
    if (h(i, i) <= 0) {
      h(i, i) = 1;
      work.col(i).setZero();
    }
    meanDiag += h(i, i);
  }
  meanDiag /= std::max<int64_t>(1, cols);
  h.diagonal().array() += damp * meanDiag;
  // U = upper Cholesky factor of H^-1: row i holds the update weights.
  Matrix hinv = h.llt().solve(Matrix::Identity(cols, cols));
  Matrix u = hinv.llt().matrixU();
  // Blocks of columns (lazy batch updates): rank-1 updates inside a block,
  // one matrix product for the columns after it.
  const int64_t kBlock = 128;
  Eigen::VectorXd err(rows);
  for (int64_t b0 = 0; b0 < cols; b0 += kBlock) {
    int64_t b1 = std::min(cols, b0 + kBlock), nb = b1 - b0;
    Matrix block = work.middleCols(b0, nb);
    Matrix errs(rows, nb);
    for (int64_t i = b0; i < b1; ++i) {
      int64_t g = i / q.groupSize;
      if (i % q.groupSize == 0) {
        int64_t k1 = std::min(cols, i + q.groupSize);
        std::vector<float> grp(k1 - i);
        for (int64_t r = 0; r < rows; ++r) {
          for (int64_t k = i; k < k1; ++k)
            grp[k - i] = float(k < b1 ? block(r, k - b0) : work(r, k));
          float sc = float(chooseScale(format, grp, search));
          q.scales[r * q.groupsPerRow + g] = f16Scales ? roundToHalf(sc) : sc;
        }
      }
      double d = u(i, i);
      for (int64_t r = 0; r < rows; ++r) {
        double sc = q.scales[r * q.groupsPerRow + g];
        double v = block(r, i - b0);
        uint32_t code = encodeValue(format, v / sc);
        writePackedCode(q.codes.data(), r * cols + i, bits, code);
        err(r) = (v - decodeCode(format, code) * sc) / d;
      }
      errs.col(i - b0) = err;
      if (i + 1 < b1)
        block.rightCols(b1 - i - 1).noalias() -=
            err * u.row(i).segment(i + 1, b1 - i - 1);
    }
    if (b1 < cols)
      work.rightCols(cols - b1).noalias() -=
          errs * u.block(b0, b1, nb, cols - b1);
  }
  return q;
}

mlir::Value mlir::lowbit::createQWeight(OpBuilder &b, Location loc,
                                        RankedTensorType weightType,
                                        QuantFormat format,
                                        const QuantizedMatrix &q) {
  int64_t n = q.rows;
  auto dataType = RankedTensorType::get({int64_t(q.codes.size())},
                                        b.getIntegerType(8));
  Value data = arith::ConstantOp::create(
      b, loc,
      cast<TypedAttr>(DenseResourceElementsAttr::get(
          dataType, "qweight",
          HeapAsmResourceBlob::allocateAndCopyInferAlign(
              llvm::ArrayRef<uint8_t>(q.codes)))));
  bool perChannel = q.groupsPerRow == 1;
  RankedTensorType scaleType =
      perChannel ? RankedTensorType::get({n}, b.getF32Type())
                 : RankedTensorType::get({n, q.groupsPerRow}, b.getF32Type());
  Value scales;
  if (q.f16Scales) {
    scaleType = RankedTensorType::get(scaleType.getShape(), b.getF16Type());
    std::vector<uint16_t> bits;
    for (float s : q.scales) {
      llvm::APFloat v(s);
      bool lost;
      v.convert(llvm::APFloat::IEEEhalf(), llvm::APFloat::rmNearestTiesToEven,
                &lost);
      bits.push_back(uint16_t(v.bitcastToAPInt().getZExtValue()));
    }
    scales = arith::ConstantOp::create(
        b, loc,
        cast<TypedAttr>(DenseResourceElementsAttr::get(
            scaleType, "qweight_scales",
            HeapAsmResourceBlob::allocateAndCopyInferAlign(
                llvm::ArrayRef<uint16_t>(bits)))));
  } else {
    scales = makeF32Constant(b, loc, scaleType, q.scales, "qweight_scales");
  }
  Value zeroPoints;
  if (!q.zeroPoints.empty()) {
    auto zpType = RankedTensorType::get(scaleType.getShape(),
                                        b.getIntegerType(32));
    zeroPoints = arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(zpType, llvm::ArrayRef(q.zeroPoints)));
  }
  auto scheme = SchemeAttr::get(
      b.getContext(), format,
      perChannel ? Granularity::PerChannel : Granularity::Group,
      perChannel ? 0 : 1, perChannel ? 0 : q.groupSize,
      /*symmetric=*/q.zeroPoints.empty(),
      q.f16Scales ? FloatType(b.getF16Type()) : FloatType(b.getF32Type()));
  return QWeightOp::create(b, loc, weightType, data, scales, zeroPoints,
                           scheme)
      .getResult();
}
