//===- Smoothing.cpp - migrate activation ranges into weights -----*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//

#include "lowbit/Quant/Smoothing.h"

#include "lowbit/Dialect/Lowbit/ConstantUtils.h"
#include "lowbit/Dialect/Lowbit/LowbitOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/MapVector.h"

#include <cmath>

using namespace mlir;
using namespace mlir::lowbit;

namespace {
/// The opset new default-domain nodes use: the model's own.
int64_t defaultOpset(func::FuncOp func) {
  int64_t opset = 13;
  func.walk([&](OnnxNodeOp node) {
    if (!node.getDomain() || node.getDomain()->empty())
      opset = int64_t(node.getOpset());
  });
  return opset;
}

/// Weight element i's input channel: [N, K] -> i % K; [O, C, kh, kw] ->
/// (i / (kh * kw)) % C.
int64_t inputChannel(RankedTensorType w, int64_t i) {
  if (w.getRank() == 2)
    return i % w.getDimSize(1);
  int64_t window = w.getNumElements() / (w.getDimSize(0) * w.getDimSize(1));
  return (i / window) % w.getDimSize(1);
}
} // namespace

SmallVector<Operation *> mlir::lowbit::smoothActivations(
    func::FuncOp func, ArrayRef<Operation *> layers,
    const llvm::DenseMap<Operation *, ActivationRange> &ranges, double alpha) {
  llvm::MapVector<Value, SmallVector<Operation *>> readers;
  for (Operation *op : layers) {
    auto conv = dyn_cast<Conv2DOp>(op);
    if ((!isa<LinearOp>(op) && !conv) || (conv && conv.getGroups() != 1) ||
        !ranges.count(op) ||
        !op->getOperand(1).getDefiningOp<arith::ConstantOp>())
      continue;
    readers[op->getOperand(0)].push_back(op);
  }
  int64_t opset = defaultOpset(func);
  SmallVector<Operation *> smoothed;
  for (auto &[x, ops] : readers) {
    const ActivationRange &r = ranges.find(ops.front())->second;
    auto xt = dyn_cast<RankedTensorType>(x.getType());
    int64_t channels = int64_t(r.channelMax.size());
    if (!xt || !channels)
      continue;
    // Column maxima over every reader's weight.
    std::vector<double> wmax(channels, 0.0);
    SmallVector<std::pair<Operation *, SmallVector<float>>> weights;
    for (Operation *op : ops) {
      auto wt = cast<RankedTensorType>(op->getOperand(1).getType());
      std::optional<SmallVector<float>> w = readF32Constant(op->getOperand(1));
      if (!w || wt.getDimSize(1) != channels)
        continue;
      for (int64_t i = 0; i < int64_t(w->size()); ++i) {
        double &m = wmax[inputChannel(wt, i)];
        m = std::max(m, double(std::fabs((*w)[i])));
      }
      weights.push_back({op, std::move(*w)});
    }
    if (weights.empty())
      continue;
    std::vector<float> s(channels), inv(channels);
    for (int64_t k = 0; k < channels; ++k) {
      double a = std::max(std::fabs(double(r.channelMin[k])),
                          std::fabs(double(r.channelMax[k])));
      double v = std::pow(a, alpha) / std::pow(wmax[k], 1.0 - alpha);
      if (!std::isfinite(v) || v < 1e-5 || v > 1e5)
        v = 1.0; // dead or degenerate channel: leave it
      s[k] = float(v);
      inv[k] = float(1.0 / v);
    }
    // x / s, broadcast over the channel axis (last for linear, 1 for NCHW).
    OpBuilder b(func.getContext());
    if (Operation *def = x.getDefiningOp())
      b.setInsertionPointAfter(def);
    else
      b.setInsertionPointToStart(&func.front());
    bool conv = isa<Conv2DOp>(weights.front().first);
    SmallVector<int64_t> shape =
        conv ? SmallVector<int64_t>{1, channels, 1, 1}
             : SmallVector<int64_t>{channels};
    Location loc = NameLoc::get(
        b.getStringAttr(getNodeName(weights.front().first) + ".smooth"));
    Value invCst = makeF32Constant(
        b, loc, RankedTensorType::get(shape, b.getF32Type()), inv,
        "smooth_scales");
    Value scaled =
        OnnxNodeOp::create(b, loc, TypeRange{xt}, b.getStringAttr("Mul"),
                           StringAttr(), b.getI64IntegerAttr(opset),
                           ValueRange{x, invCst}, DictionaryAttr())
            .getResult(0);
    for (auto &[op, w] : weights) {
      auto wt = cast<RankedTensorType>(op->getOperand(1).getType());
      for (int64_t i = 0; i < int64_t(w.size()); ++i)
        w[i] *= s[inputChannel(wt, i)];
      OpBuilder wb(op);
      op->setOperand(1, makeF32Constant(wb, op->getLoc(), wt, w, "smoothed"));
      op->setOperand(0, scaled);
      smoothed.push_back(op);
    }
  }
  return smoothed;
}
