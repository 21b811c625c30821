//===- FoldConstants.cpp - evaluate ops on constants --------------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//

#include "lowbit/Transforms/Passes.h"

#include "lowbit/Conversion/QdqWeights.h"

#include "lowbit/Dialect/Lowbit/LowbitOps.h"
#include "lowbit/Interpreter/Interpreter.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/StringSet.h"

namespace mlir::lowbit {
#define GEN_PASS_DEF_FOLDCONSTANTSPASS
#include "lowbit/Transforms/Passes.h.inc"
} // namespace mlir::lowbit

using namespace mlir;
using namespace mlir::lowbit;

/// Tensors up to this many elements become inline attributes.
static constexpr int64_t kInlineElements = 16;

static Type elementTypeOf(MLIRContext *ctx, DType t) {
  switch (t) {
  case DType::F32:
    return Float32Type::get(ctx);
  case DType::F64:
    return Float64Type::get(ctx);
  case DType::F16:
    return Float16Type::get(ctx);
  case DType::BF16:
    return BFloat16Type::get(ctx);
  case DType::Bool:
    return IntegerType::get(ctx, 1);
  case DType::U8:
  case DType::U16:
  case DType::U32:
  case DType::U64:
    return IntegerType::get(ctx, 8 * dtypeSize(t), IntegerType::Unsigned);
  default:
    return IntegerType::get(ctx, 8 * dtypeSize(t));
  }
}

/// The attribute holding `t`: inline when small, a dense resource otherwise.
static TypedAttr attrFromTensor(MLIRContext *ctx, const Tensor &t,
                                StringRef name) {
  auto type = RankedTensorType::get(t.shape(), elementTypeOf(ctx, t.dtype()));
  if (t.dtype() == DType::Bool) {
    SmallVector<bool> values(t.numel());
    for (int64_t i = 0; i < t.numel(); ++i)
      values[i] = t.data<uint8_t>()[i] != 0;
    return DenseElementsAttr::get(type, values);
  }
  ArrayRef<char> raw(t.raw(), t.byteSize());
  if (t.numel() <= kInlineElements)
    return DenseElementsAttr::getFromRawBuffer(type, raw);
  return cast<TypedAttr>(DenseResourceElementsAttr::get(
      type, name,
      HeapAsmResourceBlob::allocateAndCopyWithAlign(raw,
                                                    dtypeSize(t.dtype()))));
}

namespace {
struct FoldConstantsPass
    : lowbit::impl::FoldConstantsPassBase<FoldConstantsPass> {
  using Base::Base;

  void runOnOperation() override {
    static const llvm::StringSet<> kNeverFold = {
        "RandomNormal", "RandomUniform", "RandomNormalLike",
        "RandomUniformLike", "Bernoulli", "Multinomial"};
    OpBuilder builder(&getContext());
    SmallVector<OnnxNodeOp> nodes;
    getOperation().walk([&](OnnxNodeOp op) { nodes.push_back(op); });
    for (OnnxNodeOp op : nodes) {
      if (kNeverFold.contains(op.getOpType()) || op.getNumResults() == 0)
        continue;
      // QDQ weights stay int8: the layer conversion packs them.
      if (isQdqWeight(op))
        continue;
      std::string name = "folded";
      if (auto loc = dyn_cast<NameLoc>(op.getLoc()))
        name = loc.getName().str();
      std::optional<std::vector<Tensor>> results;
      if ((op.getOpType() == "Shape" || op.getOpType() == "Size") &&
          op.getInputs().size() == 1) {
        auto type = dyn_cast<RankedTensorType>(op.getInputs()[0].getType());
        if (!type || !type.hasStaticShape())
          continue;
        // Only the shape matters: evaluate on an empty stand-in.
        Tensor standIn = Tensor::borrow(DType::F32, type.getShape().vec(),
                                        nullptr);
        FailureOr<std::vector<Tensor>> r = evaluateOp(op, {standIn});
        if (failed(r))
          continue;
        results = std::move(*r);
      } else {
        std::vector<Tensor> operands;
        bool allConstant = true;
        for (Value v : op.getInputs()) {
          if (isa<NoneType>(v.getType())) {
            operands.emplace_back();
            continue;
          }
          auto cst = v.getDefiningOp<arith::ConstantOp>();
          FailureOr<Tensor> t = cst ? tensorFromConstant(cst.getValue())
                                    : FailureOr<Tensor>(failure());
          if (failed(t)) {
            allConstant = false;
            break;
          }
          operands.push_back(*t);
        }
        if (!allConstant)
          continue;
        // Folding must not turn a model error into a compile error here;
        // a failing op stays and reports when it runs.
        ScopedDiagnosticHandler quiet(&getContext(),
                                      [](Diagnostic &) { return success(); });
        FailureOr<std::vector<Tensor>> r = evaluateOp(op, operands);
        if (failed(r))
          continue;
        results = std::move(*r);
      }
      bool fits = true;
      for (const Tensor &t : *results)
        fits &= t.valid() && t.numel() <= maxElements;
      if (!fits)
        continue;
      builder.setInsertionPoint(op);
      bool replacedAll = true;
      for (auto [i, t] : llvm::enumerate(*results)) {
        Value old = op.getResult(i);
        TypedAttr attr = attrFromTensor(
            &getContext(), t, name + (i ? "_" + std::to_string(i) : ""));
        // Keep function signatures intact: a result the function returns
        // must keep its declared type.
        bool typeChanges = attr.getType() != old.getType();
        bool returned = llvm::any_of(old.getUsers(), [](Operation *u) {
          return isa<func::ReturnOp>(u);
        });
        if (typeChanges && returned) {
          replacedAll = false;
          continue;
        }
        Value cst = arith::ConstantOp::create(builder, op.getLoc(), attr);
        old.replaceAllUsesWith(cst);
      }
      if (replacedAll || op->use_empty())
        op.erase();
    }
  }
};
} // namespace
