//===- RecognizeLora.cpp - unmerged LoRA branches -> lowbit.lora --*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// A PEFT model exported with unmerged adapters carries each adapter as two
// extra products beside its base layer. Folding them into a lowbit.lora on
// the base weight lets the rest of the compiler treat the adapter as a
// weight transform (merged before quantization or kept as a branch).
//
//===----------------------------------------------------------------------===//

#include "lowbit/Transforms/Passes.h"

#include "lowbit/Dialect/Lowbit/ConstantUtils.h"
#include "lowbit/Dialect/Lowbit/LowbitOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::lowbit {
#define GEN_PASS_DEF_RECOGNIZELORAPASS
#include "lowbit/Transforms/Passes.h.inc"
} // namespace mlir::lowbit

using namespace mlir;
using namespace mlir::lowbit;

namespace {
/// The scalar value of a one-element f32 constant.
std::optional<double> scalarConstant(Value v) {
  std::optional<SmallVector<float>> c = readF32Constant(v);
  if (!c || c->size() != 1)
    return std::nullopt;
  return double((*c)[0]);
}

bool isNode(Operation *op, StringRef type) {
  auto node = dyn_cast_or_null<OnnxNodeOp>(op);
  return node && node.getOpType() == type && node->getNumOperands() == 2 &&
         node->getNumResults() == 1;
}

/// x·Aᵀ·Bᵀ (times `scale`) where `v` is that branch, with its ops.
struct Branch {
  LinearOp down, up;
  Value input;
  double scale = 1.0;
  Operation *mul = nullptr;
};

std::optional<Branch> matchBranch(Value v) {
  Branch b;
  if (isNode(v.getDefiningOp(), "Mul")) {
    Operation *mul = v.getDefiningOp();
    for (int i = 0; i < 2; ++i)
      if (std::optional<double> s = scalarConstant(mul->getOperand(1 - i))) {
        b.scale = *s;
        b.mul = mul;
        v = mul->getOperand(i);
        break;
      }
    if (!b.mul || !mul->hasOneUse())
      return std::nullopt;
  }
  b.up = v.getDefiningOp<LinearOp>();
  if (!b.up || b.up.getBias() || !v.hasOneUse())
    return std::nullopt;
  b.down = b.up.getInput().getDefiningOp<LinearOp>();
  if (!b.down || b.down.getBias() || !b.down->hasOneUse())
    return std::nullopt;
  if (!b.up.getWeight().getDefiningOp<arith::ConstantOp>() ||
      !b.down.getWeight().getDefiningOp<arith::ConstantOp>())
    return std::nullopt;
  b.input = b.down.getInput();
  return b;
}

struct RecognizeLoraBranch : OpRewritePattern<OnnxNodeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(OnnxNodeOp add,
                                PatternRewriter &rewriter) const override {
    if (!isNode(add, "Add"))
      return failure();
    for (int i = 0; i < 2; ++i) {
      auto base = add->getOperand(i).getDefiningOp<LinearOp>();
      if (!base || !base->hasOneUse() || add->getOperand(1 - i).getType() !=
                                             add.getResult(0).getType())
        continue;
      std::optional<Branch> b = matchBranch(add->getOperand(1 - i));
      if (!b || b->input != base.getInput())
        continue;
      auto w = dyn_cast<RankedTensorType>(base.getWeight().getType());
      auto a = dyn_cast<RankedTensorType>(b->down.getWeight().getType());
      auto bw = dyn_cast<RankedTensorType>(b->up.getWeight().getType());
      if (!w || !a || !bw || !w.hasStaticShape() ||
          !base.getWeight().getDefiningOp<arith::ConstantOp>() ||
          base.getType() != add.getResult(0).getType())
        continue;
      int64_t n = w.getDimSize(0), k = w.getDimSize(1), r = a.getDimSize(0);
      if (a.getDimSize(1) != k || bw.getDimSize(0) != n ||
          bw.getDimSize(1) != r || r >= std::min(n, k) ||
          a.getElementType() != w.getElementType() ||
          bw.getElementType() != w.getElementType())
        continue;
      // lora's alpha / r is PEFT's scaling.
      Value lora = LoraOp::create(rewriter, base.getLoc(), w, base.getWeight(),
                                  b->down.getWeight(), b->up.getWeight(),
                                  rewriter.getF64FloatAttr(b->scale * r),
                                  /*adapter=*/StringAttr());
      auto merged = LinearOp::create(rewriter, base.getLoc(), base.getType(),
                                     base.getInput(), lora, base.getBias());
      merged->setAttrs(base->getAttrs());
      rewriter.replaceOp(add, merged.getResult());
      if (b->mul)
        rewriter.eraseOp(b->mul);
      rewriter.eraseOp(b->up);
      rewriter.eraseOp(b->down);
      rewriter.eraseOp(base);
      return success();
    }
    return failure();
  }
};

struct RecognizeLoraPass
    : lowbit::impl::RecognizeLoraPassBase<RecognizeLoraPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<RecognizeLoraBranch>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
