//===- FuseRequantize.cpp - Fuse requantize chains ----------------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//

#include "lowbit/Dialect/Lowbit/LowbitOps.h"
#include "lowbit/Dialect/Lowbit/LowbitPasses.h"

#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/TypeUtilities.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::lowbit {
#define GEN_PASS_DEF_FUSEREQUANTIZEPASS
#include "lowbit/Dialect/Lowbit/LowbitPasses.h.inc"
} // namespace mlir::lowbit

using namespace mlir;
using namespace mlir::lowbit;

/// Returns the storage width of a quantized tensor's element type.
static unsigned getStorageWidth(Value v) {
  return cast<quant::QuantizedType>(getElementTypeOrSelf(v.getType()))
      .getStorageTypeIntegralWidth();
}

namespace {
/// requantize(requantize(x)) -> requantize(x).
struct FuseRequantizeChain : OpRewritePattern<RequantizeOp> {
  FuseRequantizeChain(MLIRContext *ctx, bool allowPrecisionLoss)
      : OpRewritePattern(ctx), allowPrecisionLoss(allowPrecisionLoss) {}

  LogicalResult matchAndRewrite(RequantizeOp op,
                                PatternRewriter &rewriter) const override {
    auto producer = op.getInput().getDefiningOp<RequantizeOp>();
    if (!producer)
      return rewriter.notifyMatchFailure(op, "input is not a requantize");
    unsigned mid = getStorageWidth(producer.getOutput());
    if (!allowPrecisionLoss && mid < getStorageWidth(producer.getInput()) &&
        mid < getStorageWidth(op.getOutput()))
      return rewriter.notifyMatchFailure(op, "middle saturation is observable");
    rewriter.replaceOpWithNewOp<RequantizeOp>(op, op.getType(),
                                              producer.getInput(),
                                              op.getRoundingAttr());
    return success();
  }

  bool allowPrecisionLoss;
};

struct FuseRequantizePass
    : lowbit::impl::FuseRequantizePassBase<FuseRequantizePass> {
  using Base::Base;

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseRequantizeChain>(&getContext(), allowPrecisionLoss);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
