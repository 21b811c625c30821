//===- ResumeTest.cpp - partial re-execution of the interpreter ---*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// Resuming at an op with the earlier results from a recorded run must give
// exactly what a full run gives, including when the resumed op's weight
// (a constant) was replaced in between, which is what the sensitivity
// probes do.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Dialect/Lowbit/ConstantUtils.h"
#include "lowbit/Dialect/Lowbit/LowbitOps.h"
#include "lowbit/InitAll.h"
#include "lowbit/Interpreter/Interpreter.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"

#include <gtest/gtest.h>

using namespace mlir;
using namespace mlir::lowbit;

namespace {

TEST(InterpreterResume, MatchesAFullRunAfterAWeightChange) {
  DialectRegistry registry;
  registerAllDialects(registry);
  MLIRContext ctx(registry);
  ctx.loadAllAvailableDialects();
  OpBuilder b(&ctx);
  Location loc = b.getUnknownLoc();
  auto module = ModuleOp::create(loc);
  b.setInsertionPointToEnd(module.getBody());
  auto t = RankedTensorType::get({2, 2}, b.getF32Type());
  auto func = func::FuncOp::create(b, loc, "f", b.getFunctionType({t}, {t}));
  Block *body = func.addEntryBlock();
  b.setInsertionPointToStart(body);
  Value w1 = makeF32Constant(b, loc, t, {1, 2, 3, 4}, "w1");
  Value w2 = makeF32Constant(b, loc, t, {0.5, -1, 2, 0.25}, "w2");
  Value h = LinearOp::create(b, loc, t, body->getArgument(0), w1, Value())
                .getResult();
  Value r = OnnxNodeOp::create(b, loc, TypeRange{t}, b.getStringAttr("Relu"),
                               StringAttr(), b.getI64IntegerAttr(13),
                               ValueRange{h}, DictionaryAttr())
                .getResult(0);
  auto second = LinearOp::create(b, loc, t, r, w2, Value());
  func::ReturnOp::create(b, loc, ValueRange{second.getResult()});

  Tensor x = Tensor::zeros(DType::F32, {2, 2});
  for (int i = 0; i < 4; ++i)
    x.data<float>()[i] = float(i) - 1.5f;
  llvm::DenseMap<Value, Tensor> cache;
  InterpreterOptions record;
  record.observer = [&](Operation *op, ArrayRef<Tensor> results) {
    for (auto [i, v] : llvm::enumerate(op->getResults()))
      cache[v] = results[i];
  };
  ASSERT_TRUE(succeeded(interpret(func, {x}, record)));

  // Replace the second layer's weight, as a probe does.
  b.setInsertionPoint(second);
  second->setOperand(1, makeF32Constant(b, loc, t, {3, 1, -2, 1}, "probe"));
  FailureOr<std::vector<Tensor>> full = interpret(func, {x});
  InterpreterOptions resume;
  resume.resumeAt = second;
  resume.cache = &cache;
  FailureOr<std::vector<Tensor>> part = interpret(func, {x}, resume);
  ASSERT_TRUE(succeeded(full));
  ASSERT_TRUE(succeeded(part));
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ((*part)[0].data<float>()[i], (*full)[0].data<float>()[i]);
  module->erase();
}

} // namespace
