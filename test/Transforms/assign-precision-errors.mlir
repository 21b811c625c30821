// RUN: not lowbit-opt %s --pass-pipeline='builtin.module(func.func(lowbit-assign-precision{budget-bits=4}))' 2>&1 | FileCheck %s
// RUN: not lowbit-opt %s --pass-pipeline='builtin.module(func.func(lowbit-quantize-weights{format=none}))' 2>&1 | FileCheck %s --check-prefix=SCHEME

// CHECK: error: lowbit-assign-precision: a candidate needs format (e.g. "int4", "int4/g32", "f32"), bits and sensitivity, got {bits = 1.000000e+02 : f64, format = "int9"
func.func @bad(%x: tensor<2x10xf32>, %w: tensor<10x10xf32>) -> tensor<2x10xf32> {
  %a = lowbit.linear %x, %w {lowbit.candidates = [
      {format = "int9", bits = 100.0, sensitivity = 1.0}]}
      : (tensor<2x10xf32>, tensor<10x10xf32>) -> tensor<2x10xf32>
  return %a : tensor<2x10xf32>
}

// SCHEME: error: lowbit-quantize-weights: lowbit.weight_scheme must be a symmetric per-channel or group scheme of a signed format, got #lowbit.scheme<uint4, per_channel(axis = 0), symmetric, scale = f32>
func.func @bad_scheme(%x: tensor<2x10xf32>) -> tensor<2x10xf32> {
  %w = arith.constant dense<0.5> : tensor<10x10xf32>
  %a = lowbit.linear %x, %w {lowbit.weight_scheme = #lowbit.scheme<uint4, per_channel(axis = 0), symmetric, scale = f32>}
      : (tensor<2x10xf32>, tensor<10x10xf32>) -> tensor<2x10xf32>
  return %a : tensor<2x10xf32>
}
