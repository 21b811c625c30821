//===- InitAll.cpp - register every lowbit dialect and pass -------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//

#include "lowbit/InitAll.h"

#include "lowbit/Conversion/Passes.h"
#include "lowbit/Pipeline/Pipeline.h"
#include "lowbit/Transforms/Passes.h"

#include "lowbit/Dialect/Lowbit/LowbitDialect.h"
#include "lowbit/Dialect/Lowbit/LowbitPasses.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Transforms/Passes.h"

void mlir::lowbit::registerAllDialects(DialectRegistry &registry) {
  registry.insert<lowbit::LowbitDialect, quant::QuantDialect,
                  func::FuncDialect, arith::ArithDialect,
                  tensor::TensorDialect>();
}

void mlir::lowbit::registerAllPasses() {
  registerLowbitPasses();
  registerLowbitConversionPasses();
  registerLowbitCompilerPasses();
  registerLowbitPipelines();
  mlir::registerCanonicalizerPass();
  mlir::registerCSEPass();
  mlir::registerSymbolDCEPass();
}
