//===- LowbitPasses.td - passes over the lowbit dialect ---*- tablegen -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// Passes that touch only lowbit ops. Kept alphabetical.
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_DIALECT_LOWBIT_LOWBITPASSES_TD
#define LOWBIT_DIALECT_LOWBIT_LOWBITPASSES_TD

include "mlir/Pass/PassBase.td"

def FuseRequantizePass : Pass<"lowbit-fuse-requantize", "func::FuncOp"> {
  let summary = "Fuses chains of lowbit.requantize into one op.";
  let description = [{
    `requantize(requantize(x : A -> B) : B -> C)` becomes
    `requantize(x : A -> C)`. When B has a narrower storage type than both A
    and C the intermediate saturation is observable, so the chain is kept
    unless `allow-precision-loss` is set.
  }];
  let options = [
    Option<"allowPrecisionLoss", "allow-precision-loss", "bool",
           /*default=*/"false",
           "Fuse even when the middle type is narrower than both ends">
  ];
  let dependentDialects = ["::mlir::quant::QuantDialect"];
}

def MergeLoraPass : Pass<"lowbit-merge-lora", "func::FuncOp"> {
  let summary = "Folds LoRA adapters into their weights, or keeps them low-rank.";
  let description = [{
    `lora(W, A, B, alpha)` with constant operands becomes the constant
    `W + (alpha / r) * B @ A`, so the merged weight is quantized as one
    tensor. With `keep-low-rank`, the adapter is instead kept as
    `lowrank(W, (alpha / r) * B, A)`, which leaves W's quantization free and
    runs the adapter in high precision.

    ```mlir
    %w2 = lowbit.lora %w, %a, %b {alpha = 8.0 : f64} : ...
    // becomes
    %w2 = arith.constant dense<...> : tensor<64x32xf32>
    ```
  }];
  let options = [
    Option<"keepLowRank", "keep-low-rank", "bool", /*default=*/"false",
           "Keep adapters as a lowbit.lowrank branch instead of merging">,
    Option<"warnAbove", "warn-above", "double", /*default=*/"0",
           "Warn when a merged adapter's update exceeds this multiple of "
           "the weight's norm (0: never): quantizing the merged weight "
           "then loses much of it">
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

#endif // LOWBIT_DIALECT_LOWBIT_LOWBITPASSES_TD
