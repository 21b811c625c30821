//===- LowbitFolders.cpp - lowbit folders and canonicalizations ---*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//

#include "lowbit/Dialect/Lowbit/LowbitOps.h"

#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace mlir::lowbit;

/// quantize(dequantize(x)) with unchanged parameters is x: dequantizing then
/// quantizing with the same scale and zero point reproduces every code.
OpFoldResult QuantizeOp::fold(FoldAdaptor adaptor) {
  auto producer = getInput().getDefiningOp<DequantizeOp>();
  if (producer && producer.getInput().getType() == getOutput().getType())
    return producer.getInput();
  return {};
}

/// requantize to the identical type is the identity.
OpFoldResult RequantizeOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getOutput().getType())
    return getInput();
  return {};
}

/// The identity permutation is a no-op.
OpFoldResult PermuteOp::fold(FoldAdaptor adaptor) {
  for (auto [i, p] : llvm::enumerate(getPermutation()))
    if (static_cast<int64_t>(i) != p)
      return {};
  return getInput();
}

namespace {
/// permute(permute(x, p1), p2) on the same axis -> permute(x, p1[p2[i]]).
struct ComposePermutations : OpRewritePattern<PermuteOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(PermuteOp op,
                                PatternRewriter &rewriter) const override {
    auto producer = op.getInput().getDefiningOp<PermuteOp>();
    if (!producer)
      return rewriter.notifyMatchFailure(op, "input is not a permute");
    if (producer.getAxis() != op.getAxis())
      return rewriter.notifyMatchFailure(op, "permutes different axes");
    ArrayRef<int64_t> inner = producer.getPermutation();
    ArrayRef<int64_t> outer = op.getPermutation();
    SmallVector<int64_t> composed(outer.size());
    for (auto [i, p] : llvm::enumerate(outer))
      composed[i] = inner[p];
    rewriter.replaceOpWithNewOp<PermuteOp>(op, op.getType(),
                                           producer.getInput(), op.getAxis(),
                                           composed);
    return success();
  }
};

/// rotate(rotate(x, hadamard), hadamard) on the same axis -> x, because the
/// normalized Hadamard matrix is symmetric and orthogonal (H·H = I).
struct CancelHadamardPairs : OpRewritePattern<RotateOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(RotateOp op,
                                PatternRewriter &rewriter) const override {
    auto producer = op.getInput().getDefiningOp<RotateOp>();
    if (!producer)
      return rewriter.notifyMatchFailure(op, "input is not a rotate");
    if (op.getKind() != RotationKind::Hadamard ||
        producer.getKind() != RotationKind::Hadamard)
      return rewriter.notifyMatchFailure(op, "not a pair of Hadamards");
    if (producer.getAxis() != op.getAxis())
      return rewriter.notifyMatchFailure(op, "rotates different axes");
    rewriter.replaceOp(op, producer.getInput());
    return success();
  }
};
} // namespace

void PermuteOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                            MLIRContext *context) {
  results.add<ComposePermutations>(context);
}

void RotateOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                           MLIRContext *context) {
  results.add<CancelHadamardPairs>(context);
}
