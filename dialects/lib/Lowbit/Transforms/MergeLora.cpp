//===- MergeLora.cpp - Fold LoRA adapters into weights ------------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//

#include "lowbit/Dialect/Lowbit/ConstantUtils.h"
#include "lowbit/Dialect/Lowbit/LowbitOps.h"
#include "lowbit/Dialect/Lowbit/LowbitPasses.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

#include <cmath>
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::lowbit {
#define GEN_PASS_DEF_MERGELORAPASS
#include "lowbit/Dialect/Lowbit/LowbitPasses.h.inc"
} // namespace mlir::lowbit

using namespace mlir;
using namespace mlir::lowbit;

namespace {
struct MergeLoraAdapter : OpRewritePattern<LoraOp> {
  MergeLoraAdapter(MLIRContext *ctx, bool keepLowRank, double warnAbove)
      : OpRewritePattern(ctx), keepLowRank(keepLowRank), warnAbove(warnAbove) {}

  LogicalResult matchAndRewrite(LoraOp op,
                                PatternRewriter &rewriter) const override {
    auto type = cast<RankedTensorType>(op.getType());
    auto aType = op.getA().getType();
    if (!type.hasStaticShape() || !aType.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "dynamic shape");
    // Merging needs W itself (an earlier adapter merged first).
    if (!keepLowRank && !op.getWeight().getDefiningOp<arith::ConstantOp>())
      return rewriter.notifyMatchFailure(op, "W is not merged yet");
    std::optional<SmallVector<float>> b = readF32Constant(op.getB());
    if (!b)
      return rewriter.notifyMatchFailure(op, "B is not an f32 constant");
    int64_t n = type.getDimSize(0), k = type.getDimSize(1);
    int64_t r = aType.getDimSize(0);
    float scale = static_cast<float>(op.getAlpha().convertToDouble() / r);

    if (keepLowRank) {
      SmallVector<float> scaledB(*b);
      for (float &x : scaledB)
        x *= scale;
      Value left = makeF32Constant(rewriter, op.getLoc(), op.getB().getType(),
                                scaledB, "lora_left");
      rewriter.replaceOpWithNewOp<LowRankOp>(op, op.getType(), op.getWeight(),
                                             left, op.getA(),
                                             op.getAdapterAttr());
      return success();
    }

    std::optional<SmallVector<float>> w = readF32Constant(op.getWeight());
    std::optional<SmallVector<float>> a = readF32Constant(op.getA());
    if (!w || !a)
      return rewriter.notifyMatchFailure(op, "W or A is not an f32 constant");
    // Accumulate in double so the merged weight is the correctly rounded sum.
    SmallVector<float> merged(n * k);
    double deltaNorm = 0, weightNorm = 0;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < k; ++j) {
        double acc = 0.0;
        for (int64_t t = 0; t < r; ++t)
          acc += double((*b)[i * r + t]) * double((*a)[t * k + j]);
        double base = double((*w)[i * k + j]);
        merged[i * k + j] = static_cast<float>(base + double(scale) * acc);
        deltaNorm += double(scale) * acc * double(scale) * acc;
        weightNorm += base * base;
      }
    double ratio = std::sqrt(deltaNorm / std::max(weightNorm, 1e-300));
    if (warnAbove > 0 && ratio > warnAbove)
      op.emitWarning() << "the LoRA adapter"
                       << (op.getAdapter() ? " '" + op.getAdapter()->str() + "'"
                                           : std::string())
                       << " changes the weight of '" << getNodeName(op)
                       << "' by "
                       << std::to_string(int64_t(std::round(ratio)))
                       << "x its norm: quantizing the merged weight will lose "
                          "much of it; consider --lora-mode branch, or --lowrank "
                          "R --lowrank-method svdquant";
    Value cst = makeF32Constant(rewriter, op.getLoc(), type, merged, "lora_merged");
    rewriter.replaceOp(op, cst);
    return success();
  }

  bool keepLowRank;
  double warnAbove;
};

struct MergeLoraPass : lowbit::impl::MergeLoraPassBase<MergeLoraPass> {
  using Base::Base;

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<MergeLoraAdapter>(&getContext(), keepLowRank, warnAbove);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
