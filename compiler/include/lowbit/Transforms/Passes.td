//===- Passes.td - compiler-level lowbit passes -----------*- tablegen -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// Passes that need more than the dialect (the reference interpreter, the
// quantization algorithms). Kept alphabetical.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_TRANSFORMS_PASSES_TD
#define LOWBIT_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def FoldConstantsPass : Pass<"lowbit-fold-constants", "func::FuncOp"> {
  let summary = "Evaluates ops on constants at compile time.";
  let description = [{
    Every `lowbit.onnx_node` whose operands are all constants is run once by
    the reference interpreter's kernel (the same code that defines the
    golden outputs) and replaced by an `arith.constant`; `Shape` and `Size`
    of statically shaped values fold too. This turns shape arithmetic into
    constants and dequantizes stored int8 weights (`DequantizeLinear` of an
    initializer) so that layers see constant weights. Random ops never fold.

    ```mlir
    %s = lowbit.onnx_node "Shape"(%x) opset 13 : (tensor<2x3xf32>) -> tensor<2xi64>
    // becomes
    %s = arith.constant dense<[2, 3]> : tensor<2xi64>
    ```
  }];
  let options = [
    Option<"maxElements", "max-elements", "int64_t", /*default=*/"67108864",
           "Do not fold results with more elements than this">
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

#endif // LOWBIT_TRANSFORMS_PASSES_TD
