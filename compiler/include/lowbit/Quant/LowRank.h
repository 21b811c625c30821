//===- LowRank.h - low-rank factors of weights and their errors ---*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// The factorizations behind `lowbit.lowrank` branches: a rank-R L·R that
// approximates a matrix (the quantization error W - Q(W), or W itself for
// SVDQuant's order) in the plain Frobenius norm or, for EoRA, in the norm
// the calibration activations see: ||(E - L·R)·Xᵀ||, i.e. weighted by
// H = XᵀX. All SVDs are Eigen's (BDCSVD); nothing is hand-written.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_QUANT_LOWRANK_H
#define LOWBIT_QUANT_LOWRANK_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mlir::lowbit {

/// How a low-rank branch is chosen (`lowbit-quantize-weights{lowrank-method}`).
enum class LowRankMethod {
  Svd,      ///< SVD of W - Q(W)
  Eora,     ///< SVD of (W - Q(W))·H^{1/2}, mapped back: fixes what data sees
  SvdQuant, ///< top-R SVD of W first, then Q of the residual
};

std::optional<LowRankMethod> parseLowRankMethod(llvm::StringRef name);
llvm::StringRef stringifyLowRankMethod(LowRankMethod m);

/// left [rows, rank] · right [rank, cols], both row-major.
struct LowRankFactors {
  int64_t rows = 0, cols = 0, rank = 0;
  std::vector<float> left, right;
};

/// The best rank-`rank` approximation of `m` [rows, cols] in the Frobenius
/// norm (truncated SVD; each factor carries the square roots of the
/// singular values). `rank` is clamped to min(rows, cols).
LowRankFactors truncatedSvd(llvm::ArrayRef<float> m, int64_t rows,
                            int64_t cols, int64_t rank);

/// EoRA: minimizes ||(m - L·R)·S|| with S·Sᵀ = `hessian` [cols, cols]
/// (Σ xᵀx over calibration rows) + `damp`·mean(diag)·I. Eigendecomposition
/// H = Q·Λ·Qᵀ, truncated SVD of m·Q·Λ^{1/2}, R mapped back by Λ^{-1/2}·Qᵀ.
LowRankFactors weightedSvd(llvm::ArrayRef<float> m, int64_t rows, int64_t cols,
                           int64_t rank, llvm::ArrayRef<float> hessian,
                           double damp = 0.01);

/// m - L·R, in double, rounded to f32.
std::vector<float> subtractLowRank(llvm::ArrayRef<float> m,
                                   const LowRankFactors &f);

/// What a layer computes with an EoRA branch of rank `rank` beside the
/// dequantized weight `deq` of `w`: deq + L·R with the factors as
/// lowbit-quantize-weights stores them (lowrank-bits auto); `branchBits`
/// gets their storage. The sensitivity analysis' `+rN` candidates.
std::vector<float> withEoraBranch(llvm::ArrayRef<float> w,
                                  llvm::ArrayRef<float> deq, int64_t rows,
                                  int64_t cols, int64_t rank,
                                  llvm::ArrayRef<float> hessian,
                                  double &branchBits);

/// The factors as stored with `bits` (8: int8 per row, max scaling; 32:
/// unchanged), dequantized: what a target computes with.
LowRankFactors storedFactors(const LowRankFactors &f, int64_t bits);

/// Storage bits of a rank-`rank` branch of a [rows, cols] weight: int8
/// codes plus one f32 scale per row of L and of R, or f32 factors.
double lowRankBits(int64_t rows, int64_t cols, int64_t rank, int64_t bits);

/// `lowrank-bits = 0` (auto): 8 unless int8 factors add more than a tenth
/// to the remaining error ||w - deq - L·R||² (H-weighted when `hessian` is
/// given), else 32. A branch that carries much more than the error
/// (SVDQuant's top singular part, a large adapter) stays f32.
int64_t chooseFactorBits(llvm::ArrayRef<float> w, llvm::ArrayRef<float> deq,
                         const LowRankFactors &f,
                         llvm::ArrayRef<float> hessian);

/// Σ over columns of the calibration energy: ||(a - b)·S||² for S·Sᵀ = H,
/// i.e. trace((a - b)·H·(a - b)ᵀ); with an empty H the plain ||a - b||².
double weightedError(llvm::ArrayRef<float> a, llvm::ArrayRef<float> b,
                     int64_t rows, int64_t cols,
                     llvm::ArrayRef<float> hessian);

} // namespace mlir::lowbit

#endif // LOWBIT_QUANT_LOWRANK_H
