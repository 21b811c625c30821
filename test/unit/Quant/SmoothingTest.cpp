//===- SmoothingTest.cpp - activation smoothing keeps the float model --*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// smoothActivations divides input channels by s and multiplies weight
// columns by s: in float the model must compute the same function, the
// channels must come out evened (max|x_k / s_k| equal for alpha = 1), and
// two layers reading one value must share one Mul.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Quant/Smoothing.h"

#include "lowbit/Dialect/Lowbit/ConstantUtils.h"
#include "lowbit/Dialect/Lowbit/LowbitOps.h"
#include "lowbit/InitAll.h"
#include "lowbit/Interpreter/Interpreter.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace mlir;
using namespace mlir::lowbit;

namespace {

TEST(Smoothing, KeepsTheFloatFunctionAndSharesTheMul) {
  DialectRegistry registry;
  registerAllDialects(registry);
  MLIRContext ctx(registry);
  ctx.loadAllAvailableDialects();
  OpBuilder b(&ctx);
  Location loc = b.getUnknownLoc();
  auto module = ModuleOp::create(loc);
  b.setInsertionPointToEnd(module.getBody());
  auto xt = RankedTensorType::get({5, 3}, b.getF32Type());
  auto yt = RankedTensorType::get({5, 2}, b.getF32Type());
  auto func = func::FuncOp::create(
      b, loc, "f", b.getFunctionType({xt}, {yt, yt}));
  Block *body = func.addEntryBlock();
  b.setInsertionPointToStart(body);
  auto wt = RankedTensorType::get({2, 3}, b.getF32Type());
  Value w1 = makeF32Constant(b, loc, wt, {1, -2, 0.5, 0.25, 3, -1}, "w1");
  Value w2 = makeF32Constant(b, loc, wt, {2, 1, -1, 0.5, 0.5, 4}, "w2");
  Value x = body->getArgument(0);
  Value y1 = LinearOp::create(b, loc, yt, x, w1, Value()).getResult();
  Value y2 = LinearOp::create(b, loc, yt, x, w2, Value()).getResult();
  func::ReturnOp::create(b, loc, ValueRange{y1, y2});

  // Channel 1 has 100x the range of the others.
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> d(-1, 1);
  Tensor in = Tensor::zeros(DType::F32, {5, 3});
  for (int64_t i = 0; i < 15; ++i)
    in.data<float>()[i] = d(rng) * (i % 3 == 1 ? 100.0f : 1.0f);
  FailureOr<std::vector<Tensor>> before = interpret(func, {in});
  ASSERT_TRUE(succeeded(before));

  llvm::DenseMap<Operation *, ActivationRange> ranges;
  ActivationRange r;
  r.channelMin = {-1, -100, -1};
  r.channelMax = {1, 100, 1};
  ranges[y1.getDefiningOp()] = r;
  ranges[y2.getDefiningOp()] = r;
  SmallVector<Operation *> smoothed = smoothActivations(
      func, {y1.getDefiningOp(), y2.getDefiningOp()}, ranges, 1.0);
  EXPECT_EQ(smoothed.size(), 2u);
  int muls = 0;
  func.walk([&](OnnxNodeOp n) { muls += n.getOpType() == "Mul"; });
  EXPECT_EQ(muls, 1);
  Value shared = y1.getDefiningOp()->getOperand(0);
  EXPECT_EQ(shared, y2.getDefiningOp()->getOperand(0));
  EXPECT_NE(shared, x);

  FailureOr<std::vector<Tensor>> after = interpret(func, {in});
  ASSERT_TRUE(succeeded(after));
  for (int o = 0; o < 2; ++o)
    for (int64_t i = 0; i < 10; ++i)
      EXPECT_NEAR((*after)[o].data<float>()[i], (*before)[o].data<float>()[i],
                  1e-4 * (1 + std::fabs((*before)[o].data<float>()[i])));
  // alpha = 1: s_k = max|x_k|, so every smoothed channel spans [-1, 1].
  std::optional<SmallVector<float>> inv =
      readF32Constant(shared.getDefiningOp()->getOperand(1));
  ASSERT_TRUE(inv.has_value());
  EXPECT_FLOAT_EQ((*inv)[0], 1.0f);
  EXPECT_FLOAT_EQ((*inv)[1], 0.01f);
  module->erase();
}

} // namespace
