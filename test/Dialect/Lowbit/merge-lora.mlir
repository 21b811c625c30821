// RUN: lowbit-opt %s --split-input-file \
// RUN:   --pass-pipeline='builtin.module(func.func(lowbit-merge-lora))' | FileCheck %s
// RUN: lowbit-opt %s --split-input-file \
// RUN:   --pass-pipeline='builtin.module(func.func(lowbit-merge-lora{keep-low-rank=true}))' \
// RUN:   | FileCheck %s --check-prefix=KEEP

/// W = [[1, 2], [3, 4]], B = [[1], [2]], A = [[1, -1]], r = 1, alpha = 0.5:
/// W + 0.5 * B·A = [[1.5, 1.5], [4, 3]].
// CHECK-LABEL: func.func @merge_lora_constants(
// CHECK:         %[[W:.*]] = arith.constant dense<{{\[\[}}1.500000e+00, 1.500000e+00], [4.000000e+00, 3.000000e+00]]> : tensor<2x2xf32>
// CHECK-NOT:     lowbit.lora
// CHECK:         return %[[W]]
// KEEP-LABEL: func.func @merge_lora_constants(
// KEEP-DAG:      %[[W:.*]] = arith.constant dense<{{\[\[}}1.000000e+00, 2.000000e+00], [3.000000e+00, 4.000000e+00]]>
// KEEP-DAG:      %[[A:.*]] = arith.constant dense<{{\[\[}}1.000000e+00, -1.000000e+00]]>
// KEEP-DAG:      %[[L:.*]] = arith.constant dense<{{\[\[}}5.000000e-01], [1.000000e+00]]>
// KEEP:          %[[OUT:.*]] = lowbit.lowrank %[[W]], %[[L]], %[[A]]
// KEEP:          return %[[OUT]]
func.func @merge_lora_constants() -> tensor<2x2xf32> {
  %w = arith.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  %a = arith.constant dense<[[1.0, -1.0]]> : tensor<1x2xf32>
  %b = arith.constant dense<[[1.0], [2.0]]> : tensor<2x1xf32>
  %m = lowbit.lora %w, %a, %b {alpha = 0.5 : f64} : tensor<2x2xf32>, tensor<1x2xf32>, tensor<2x1xf32>
  return %m : tensor<2x2xf32>
}

// -----

/// A weight computed at run time cannot be merged; the adapter stays.
// CHECK-LABEL: func.func @negative_merge_lora_dynamic_weight(
// CHECK:         lowbit.lora
func.func @negative_merge_lora_dynamic_weight(%w: tensor<2x2xf32>) -> tensor<2x2xf32> {
  %a = arith.constant dense<[[1.0, -1.0]]> : tensor<1x2xf32>
  %b = arith.constant dense<[[1.0], [2.0]]> : tensor<2x1xf32>
  %m = lowbit.lora %w, %a, %b {alpha = 0.5 : f64} : tensor<2x2xf32>, tensor<1x2xf32>, tensor<2x1xf32>
  return %m : tensor<2x2xf32>
}
