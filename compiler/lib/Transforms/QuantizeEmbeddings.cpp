//===- QuantizeEmbeddings.cpp - quantized tables of row gathers ---*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//

#include "lowbit/Transforms/Passes.h"
#include "lowbit/Transforms/QuantizeWeights.h"

#include "lowbit/Dialect/Lowbit/ConstantUtils.h"
#include "lowbit/Dialect/Lowbit/LowbitOps.h"
#include "lowbit/Quant/Formats.h"
#include "lowbit/Quant/WeightQuantizer.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"

namespace mlir::lowbit {
#define GEN_PASS_DEF_QUANTIZEEMBEDDINGSPASS
#include "lowbit/Transforms/Passes.h.inc"
} // namespace mlir::lowbit

using namespace mlir;
using namespace mlir::lowbit;

namespace {
/// The constant f32 [rows, cols] table a Gather along axis 0 reads, or null.
arith::ConstantOp embeddingTable(OnnxNodeOp node) {
  if (node.getOpType() != "Gather" || (node.getDomain() &&
                                       !node.getDomain()->empty()) ||
      node.getInputs().size() != 2)
    return {};
  if (getIntAttr(node, "axis", 0) != 0)
    return {};
  auto cst = node.getInputs()[0].getDefiningOp<arith::ConstantOp>();
  auto type = cst ? dyn_cast<RankedTensorType>(cst.getType()) : nullptr;
  if (!type || type.getRank() != 2 || !type.getElementType().isF32() ||
      !type.hasStaticShape())
    return {};
  return cst;
}

struct QuantizeEmbeddingsPass
    : lowbit::impl::QuantizeEmbeddingsPassBase<QuantizeEmbeddingsPass> {
  using Base::Base;

  void runOnOperation() override {
    FailureOr<std::optional<QuantFormat>> fmt =
        parseWeightFormatOptions(getOperation().getLoc(),
                                 "lowbit-quantize-embeddings", format,
                                 scaleType, /*allowNone=*/false);
    if (failed(fmt))
      return signalPassFailure();
    // One qweight per table, shared by every Gather that reads it.
    llvm::DenseMap<Operation *, Value> done;
    getOperation().walk([&](OnnxNodeOp node) {
      arith::ConstantOp cst = embeddingTable(node);
      if (!cst)
        return;
      auto type = cast<RankedTensorType>(cst.getType());
      if (type.getNumElements() < minElements)
        return;
      Value &q = done[cst];
      if (!q) {
        std::optional<SmallVector<float>> w = readF32Constant(cst.getResult());
        if (!w)
          return;
        QuantizedMatrix m =
            quantizeMatrix(**fmt, *w, type.getDimSize(0), type.getDimSize(1),
                           groupSize, ScaleSearch::Mse, scaleType == "f16");
        OpBuilder b(cst);
        b.setInsertionPointAfter(cst);
        q = createQWeight(b, cst.getLoc(), type, **fmt, m);
      }
      node->setOperand(0, q);
    });
    for (auto &[table, q] : done)
      if (table->use_empty())
        table->erase();
  }
};
} // namespace
