//===- LowRank.cpp - low-rank factors of weights and their errors -*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//

#include "lowbit/Quant/LowRank.h"

#include "lowbit/Quant/WeightQuantizer.h"

#include "llvm/ADT/StringSwitch.h"

#include <Eigen/Dense>
#include <Eigen/SVD>

#include <algorithm>
#include <cassert>
#include <cmath>

using namespace mlir::lowbit;

namespace {
using RowMatrixD =
    Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

RowMatrixD toMatrix(llvm::ArrayRef<float> m, int64_t rows, int64_t cols) {
  assert(int64_t(m.size()) == rows * cols && "matrix size");
  return Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic,
                                        Eigen::RowMajor>>(m.data(), rows, cols)
      .cast<double>();
}

/// Rank-r factors of `m` (double) from its thin SVD: left = U·Σ^{1/2},
/// right = Σ^{1/2}·Vᵀ (balanced, so that each factor quantizes per row
/// without one singular value dominating its scale).
LowRankFactors factor(const RowMatrixD &m, int64_t rank) {
  LowRankFactors f;
  f.rows = m.rows();
  f.cols = m.cols();
  f.rank = std::min<int64_t>({rank, f.rows, f.cols});
  f.left.assign(f.rows * f.rank, 0.0f);
  f.right.assign(f.rank * f.cols, 0.0f);
  if (f.rank <= 0)
    return f;
  Eigen::BDCSVD<Eigen::MatrixXd> svd(m, Eigen::ComputeThinU | Eigen::ComputeThinV);
  const Eigen::MatrixXd &u = svd.matrixU();
  const Eigen::MatrixXd &v = svd.matrixV();
  const Eigen::VectorXd &s = svd.singularValues();
  for (int64_t i = 0; i < f.rows; ++i)
    for (int64_t t = 0; t < f.rank; ++t)
      f.left[i * f.rank + t] = static_cast<float>(u(i, t) * std::sqrt(s(t)));
  for (int64_t t = 0; t < f.rank; ++t)
    for (int64_t j = 0; j < f.cols; ++j)
      f.right[t * f.cols + j] = static_cast<float>(v(j, t) * std::sqrt(s(t)));
  return f;
}

/// H + damp·mean(diag H)·I as a symmetric double matrix.
Eigen::MatrixXd dampedHessian(llvm::ArrayRef<float> hessian, int64_t cols,
                              double damp) {
  assert(int64_t(hessian.size()) == cols * cols && "Hessian size");
  Eigen::MatrixXd h =
      Eigen::Map<const Eigen::MatrixXf>(hessian.data(), cols, cols)
          .cast<double>();
  h = 0.5 * (h + h.transpose());
  double mean = h.diagonal().mean();
  if (!(mean > 0))
    mean = 1.0;
  h.diagonal().array() += damp * mean;
  return h;
}
} // namespace

std::optional<LowRankMethod>
mlir::lowbit::parseLowRankMethod(llvm::StringRef name) {
  return llvm::StringSwitch<std::optional<LowRankMethod>>(name)
      .Case("svd", LowRankMethod::Svd)
      .Case("eora", LowRankMethod::Eora)
      .Case("svdquant", LowRankMethod::SvdQuant)
      .Default(std::nullopt);
}

llvm::StringRef mlir::lowbit::stringifyLowRankMethod(LowRankMethod m) {
  switch (m) {
  case LowRankMethod::Svd:
    return "svd";
  case LowRankMethod::Eora:
    return "eora";
  case LowRankMethod::SvdQuant:
    return "svdquant";
  }
  return "svd";
}

LowRankFactors mlir::lowbit::truncatedSvd(llvm::ArrayRef<float> m,
                                          int64_t rows, int64_t cols,
                                          int64_t rank) {
  return factor(toMatrix(m, rows, cols), rank);
}

LowRankFactors mlir::lowbit::weightedSvd(llvm::ArrayRef<float> m, int64_t rows,
                                         int64_t cols, int64_t rank,
                                         llvm::ArrayRef<float> hessian,
                                         double damp) {
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(
      dampedHessian(hessian, cols, damp));
  Eigen::VectorXd lambda = eig.eigenvalues().cwiseMax(0.0);
  double floor = std::max(lambda.maxCoeff(), 1e-30) * 1e-10;
  lambda = lambda.cwiseMax(floor);
  const Eigen::MatrixXd &q = eig.eigenvectors();
  // m·Q·Λ^{1/2}: the error as the calibration data sees it.
  RowMatrixD projected = toMatrix(m, rows, cols) * q *
                         lambda.cwiseSqrt().asDiagonal();
  LowRankFactors f = factor(projected, rank);
  // right ← right·Λ^{-1/2}·Qᵀ so that L·R approximates m itself.
  Eigen::MatrixXd back = lambda.cwiseSqrt().cwiseInverse().asDiagonal() *
                         q.transpose();
  RowMatrixD r = toMatrix(f.right, f.rank, cols) * back;
  for (int64_t t = 0; t < f.rank; ++t)
    for (int64_t j = 0; j < cols; ++j)
      f.right[t * cols + j] = static_cast<float>(r(t, j));
  return f;
}

/// m + sign·L·R, in double, rounded to f32.
static std::vector<float> plusLowRank(llvm::ArrayRef<float> m,
                                      const LowRankFactors &f, double sign) {
  std::vector<float> out(m.begin(), m.end());
  for (int64_t i = 0; i < f.rows; ++i)
    for (int64_t j = 0; j < f.cols; ++j) {
      double acc = 0;
      for (int64_t t = 0; t < f.rank; ++t)
        acc += double(f.left[i * f.rank + t]) * f.right[t * f.cols + j];
      out[i * f.cols + j] =
          static_cast<float>(double(m[i * f.cols + j]) + sign * acc);
    }
  return out;
}

std::vector<float> mlir::lowbit::subtractLowRank(llvm::ArrayRef<float> m,
                                                 const LowRankFactors &f) {
  return plusLowRank(m, f, -1.0);
}

std::vector<float> mlir::lowbit::withEoraBranch(
    llvm::ArrayRef<float> w, llvm::ArrayRef<float> deq, int64_t rows,
    int64_t cols, int64_t rank, llvm::ArrayRef<float> hessian,
    double &branchBits) {
  std::vector<float> err(deq.size());
  for (size_t i = 0; i < deq.size(); ++i)
    err[i] = w[i] - deq[i];
  LowRankFactors f = weightedSvd(err, rows, cols, rank, hessian);
  int64_t bits = chooseFactorBits(w, deq, f, hessian);
  branchBits = lowRankBits(rows, cols, f.rank, bits);
  return plusLowRank(deq, storedFactors(f, bits), 1.0);
}

double mlir::lowbit::weightedError(llvm::ArrayRef<float> a,
                                   llvm::ArrayRef<float> b, int64_t rows,
                                   int64_t cols,
                                   llvm::ArrayRef<float> hessian) {
  RowMatrixD d = toMatrix(a, rows, cols) - toMatrix(b, rows, cols);
  if (hessian.empty())
    return d.squaredNorm();
  Eigen::MatrixXd h =
      Eigen::Map<const Eigen::MatrixXf>(hessian.data(), cols, cols)
          .cast<double>();
  return (d * h).cwiseProduct(d).sum();
}

LowRankFactors mlir::lowbit::storedFactors(const LowRankFactors &f,
                                           int64_t bits) {
  if (bits == 32 || f.rank == 0)
    return f;
  LowRankFactors out = f;
  out.left = dequantizeMatrix(
      QuantFormat::Int8, quantizeMatrix(QuantFormat::Int8, f.left, f.rows,
                                        f.rank, 0, ScaleSearch::Max));
  out.right = dequantizeMatrix(
      QuantFormat::Int8, quantizeMatrix(QuantFormat::Int8, f.right, f.rank,
                                        f.cols, 0, ScaleSearch::Max));
  return out;
}

double mlir::lowbit::lowRankBits(int64_t rows, int64_t cols, int64_t rank,
                                 int64_t bits) {
  double codes = double(rank) * double(rows + cols);
  return bits == 32 ? 32.0 * codes : 8.0 * codes + 32.0 * double(rows + rank);
}

int64_t mlir::lowbit::chooseFactorBits(llvm::ArrayRef<float> w,
                                       llvm::ArrayRef<float> deq,
                                       const LowRankFactors &f,
                                       llvm::ArrayRef<float> hessian) {
  std::vector<float> exact = subtractLowRank(w, f);
  std::vector<float> approx = subtractLowRank(w, storedFactors(f, 8));
  double e32 = weightedError(exact, deq, f.rows, f.cols, hessian);
  double e8 = weightedError(approx, deq, f.rows, f.cols, hessian);
  return e8 <= 1.1 * e32 + 1e-30 ? 8 : 32;
}
