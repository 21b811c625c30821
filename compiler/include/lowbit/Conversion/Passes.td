//===- Passes.td - lowbit conversion passes ---------------*- tablegen -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// Every conversion pass in one file (MLIR, CIRCT); one banner per conversion.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_CONVERSION_PASSES_TD
#define LOWBIT_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

//===----------------------------------------------------------------------===//
// OnnxToLowbit
//===----------------------------------------------------------------------===//

def ConvertOnnxToLowbitPass : Pass<"convert-onnx-to-lowbit", "func::FuncOp"> {
  let summary = "Turns imported ONNX layers into lowbit layer ops.";
  let description = [{
    Rewrites the `lowbit.onnx_node`s whose weights are compile-time
    constants into the ops the quantization passes work on:

    * `Gemm(A, B, C)` with constant `B` (either `transB`), `transA = 0`,
      rank-2 `A`, and `C` absent or 1-D -> `lowbit.linear`; `alpha` is folded
      into the weight and `beta` into a constant bias;
    * `MatMul(A, B)` with a constant 2-D `B` -> `lowbit.linear` with the
      weight transposed to `[N, K]` at compile time;
    * 2-D `Conv` with a constant weight -> `lowbit.conv2d`, resolving
      `auto_pad` from static spatial sizes;
    * `Constant` nodes with a tensor `value` -> `arith.constant`;
    * `Add(lowbit.linear(x, W), b)` with a constant per-feature `b` ->
      `lowbit.linear(x, W, b)` (MatMul + Add as exporters write nn.Linear).

    Weights are rewritten once, at compile time, and stay dense resources.
    Anything else (and any of the above with a runtime weight or a result
    type the lowbit op would infer differently) stays an `onnx_node` with
    ONNX semantics.

    ```mlir
    %y = lowbit.onnx_node "Gemm"(%x, %w, %b) opset 13 attrs {transB = 1 : i64}
        : (tensor<?x64xf32>, tensor<10x64xf32>, tensor<10xf32>) -> tensor<?x10xf32>
    // becomes
    %y = lowbit.linear %x, %w, %b : (tensor<?x64xf32>, tensor<10x64xf32>,
        tensor<10xf32>) -> tensor<?x10xf32>
    ```
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::lowbit::LowbitDialect"];
}

#endif // LOWBIT_CONVERSION_PASSES_TD
