//===- MergeLora.cpp - Fold LoRA adapters into weights ------------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//

#include "lowbit/Dialect/Lowbit/LowbitOps.h"
#include "lowbit/Dialect/Lowbit/LowbitPasses.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::lowbit {
#define GEN_PASS_DEF_MERGELORAPASS
#include "lowbit/Dialect/Lowbit/LowbitPasses.h.inc"
} // namespace mlir::lowbit

using namespace mlir;
using namespace mlir::lowbit;

/// Constants up to this many elements are written inline (readable IR and
/// tests); larger ones become dense resources.
static constexpr int64_t kInlineLimit = 64;

/// Reads an f32 constant (inline or resource) feeding `v`.
static std::optional<SmallVector<float>> getConstantF32(Value v) {
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

/// Materializes `values` as an f32 constant of `type`.
static Value makeConstant(PatternRewriter &rewriter, Location loc,
                          RankedTensorType type, ArrayRef<float> values,
                          StringRef name) {
  TypedAttr attr;
  if (type.getNumElements() <= kInlineLimit)
    attr = DenseElementsAttr::get(type, values);
  else
    attr = cast<TypedAttr>(DenseF32ResourceElementsAttr::get(
        type, name, HeapAsmResourceBlob::allocateAndCopyInferAlign(values)));
  return arith::ConstantOp::create(rewriter, loc, attr);
}

namespace {
struct MergeLoraAdapter : OpRewritePattern<LoraOp> {
  MergeLoraAdapter(MLIRContext *ctx, bool keepLowRank)
      : OpRewritePattern(ctx), keepLowRank(keepLowRank) {}

  LogicalResult matchAndRewrite(LoraOp op,
                                PatternRewriter &rewriter) const override {
    auto type = cast<RankedTensorType>(op.getType());
    auto aType = op.getA().getType();
    if (!type.hasStaticShape() || !aType.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "dynamic shape");
    std::optional<SmallVector<float>> b = getConstantF32(op.getB());
    if (!b)
      return rewriter.notifyMatchFailure(op, "B is not an f32 constant");
    int64_t n = type.getDimSize(0), k = type.getDimSize(1);
    int64_t r = aType.getDimSize(0);
    float scale = static_cast<float>(op.getAlpha().convertToDouble() / r);

    if (keepLowRank) {
      SmallVector<float> scaledB(*b);
      for (float &x : scaledB)
        x *= scale;
      Value left = makeConstant(rewriter, op.getLoc(), op.getB().getType(),
                                scaledB, "lora_left");
      rewriter.replaceOpWithNewOp<LowRankOp>(op, op.getType(), op.getWeight(),
                                             left, op.getA());
      return success();
    }

    std::optional<SmallVector<float>> w = getConstantF32(op.getWeight());
    std::optional<SmallVector<float>> a = getConstantF32(op.getA());
    if (!w || !a)
      return rewriter.notifyMatchFailure(op, "W or A is not an f32 constant");
    // Accumulate in double so the merged weight is the correctly rounded sum.
    SmallVector<float> merged(n * k);
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < k; ++j) {
        double acc = 0.0;
        for (int64_t t = 0; t < r; ++t)
          acc += double((*b)[i * r + t]) * double((*a)[t * k + j]);
        merged[i * k + j] =
            static_cast<float>(double((*w)[i * k + j]) + double(scale) * acc);
      }
    Value cst = makeConstant(rewriter, op.getLoc(), type, merged, "lora_merged");
    rewriter.replaceOp(op, cst);
    return success();
  }

  bool keepLowRank;
};

struct MergeLoraPass : lowbit::impl::MergeLoraPassBase<MergeLoraPass> {
  using Base::Base;

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<MergeLoraAdapter>(&getContext(), keepLowRank);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
