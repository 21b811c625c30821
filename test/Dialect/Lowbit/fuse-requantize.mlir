// RUN: lowbit-opt %s --split-input-file \
// RUN:   --pass-pipeline='builtin.module(func.func(lowbit-fuse-requantize))' \
// RUN:   | FileCheck %s
// RUN: lowbit-opt %s --split-input-file \
// RUN:   --pass-pipeline='builtin.module(func.func(lowbit-fuse-requantize{allow-precision-loss=true}))' \
// RUN:   | FileCheck %s --check-prefix=LOSSY

/// Widening then narrowing: the i32 middle step cannot saturate, so fuse.
!i8a = !quant.uniform<i8:f32, 0.1>
!i32 = !quant.uniform<i32:f32, 0.001>
!i8b = !quant.uniform<i8:f32, 0.2:-4>

// CHECK-LABEL: func.func @fuse_requantize_i8_i32_i8(
// CHECK-SAME:      %[[INPUT:[a-zA-Z0-9_]+]]: tensor<4x!quant.uniform
// CHECK:         %[[OUT:.*]] = lowbit.requantize %[[INPUT]]
// CHECK-NOT:     lowbit.requantize
// CHECK:         return %[[OUT]]
// LOSSY-LABEL: func.func @fuse_requantize_i8_i32_i8(
// LOSSY-COUNT-1: lowbit.requantize
func.func @fuse_requantize_i8_i32_i8(%input: tensor<4x!i8a>) -> tensor<4x!i8b> {
  %wide = lowbit.requantize %input : tensor<4x!i8a> -> tensor<4x!i32>
  %out = lowbit.requantize %wide : tensor<4x!i32> -> tensor<4x!i8b>
  return %out : tensor<4x!i8b>
}

// -----

/// The i8 middle step saturates i32 values; fusing would change results,
/// unless the user allows it.
!i32a = !quant.uniform<i32:f32, 0.001>
!i8 = !quant.uniform<i8:f32, 0.5>
!i32b = !quant.uniform<i32:f32, 0.002>

// CHECK-LABEL: func.func @negative_fuse_requantize_narrowing(
// CHECK-COUNT-2: lowbit.requantize
// LOSSY-LABEL: func.func @negative_fuse_requantize_narrowing(
// LOSSY:         lowbit.requantize
// LOSSY-NOT:     lowbit.requantize
func.func @negative_fuse_requantize_narrowing(%acc: tensor<4x!i32a>) -> tensor<4x!i32b> {
  %mid = lowbit.requantize %acc : tensor<4x!i32a> -> tensor<4x!i8>
  %out = lowbit.requantize %mid : tensor<4x!i8> -> tensor<4x!i32b>
  return %out : tensor<4x!i32b>
}
