// RUN: lowbit-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(lowbit-quantize{target=x86 weights=int4 group-size=2 clip=max}))' | FileCheck %s
// RUN: lowbit-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(lowbit-quantize{weights=int8 keep=big=f32 report=true}))' | FileCheck %s --check-prefix=KEEP
// RUN: not lowbit-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(lowbit-quantize{target=vax weights=int4}))' 2>&1 | FileCheck %s --check-prefix=TARGET
// RUN: not lowbit-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(lowbit-quantize{target=x86 weights=uint4}))' 2>&1 | FileCheck %s --check-prefix=UINT
// RUN: not lowbit-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(lowbit-quantize{budget-bits=4}))' 2>&1 | FileCheck %s --check-prefix=NOCALIB

/// lowbit-quantize with a uniform format packs every layer weight; the
/// target (x86) runs int4 natively. A group as long as K is per channel.
// CHECK-LABEL: func.func @two_layers(
// CHECK:         lowbit.qweight {{.*}}#lowbit.scheme<int4, group(axis = 1, size = 2), symmetric, scale = f32>
// CHECK:         lowbit.qweight {{.*}}#lowbit.scheme<int4, per_channel(axis = 0), symmetric, scale = f32>
// CHECK-NOT:     lowbit.quant_report

/// keep pins the layer named "big" (its location) to f32; report=true
/// leaves the summary as a string attribute on the function.
// KEEP-LABEL: func.func @two_layers(
// KEEP-SAME:     lowbit.quant_report = "{{.*}}\22format\22:\22f32\22{{.*}}\22name\22:\22big\22
// KEEP:          %[[BIG:.*]] = arith.constant dense<{{.*}}> : tensor<2x4xf32>
// KEEP:          lowbit.linear %{{.*}}, %[[BIG]]
// KEEP:          lowbit.qweight {{.*}}#lowbit.scheme<int8, per_channel(axis = 0)

// TARGET: error: unknown target 'vax' (registered: mcu, x86)
// UINT: error: --weights 'uint4' is not a signed weight format
// NOCALIB: error: a budget needs calibration data: add --calib FILE.npz
func.func @two_layers(%x: tensor<3x4xf32>) -> tensor<3x2xf32> {
  %w0 = arith.constant dense<[[1.0, -1.0, 0.5, 0.25], [2.0, 0.0, -2.0, 1.0]]> : tensor<2x4xf32>
  %w1 = arith.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  %h = lowbit.linear %x, %w0 : (tensor<3x4xf32>, tensor<2x4xf32>) -> tensor<3x2xf32> loc("big")
  %y = lowbit.linear %h, %w1 : (tensor<3x2xf32>, tensor<2x2xf32>) -> tensor<3x2xf32> loc("small")
  return %y : tensor<3x2xf32>
}
