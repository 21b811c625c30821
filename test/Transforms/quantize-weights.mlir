// RUN: lowbit-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(lowbit-quantize-weights{format=int4 clip=max}))' | FileCheck %s
// RUN: lowbit-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(lowbit-quantize-weights{format=int4 group-size=2 clip=max}))' | FileCheck %s --check-prefix=GROUP
// RUN: not lowbit-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(lowbit-quantize-weights{format=uint4}))' 2>&1 | FileCheck %s --check-prefix=BADFMT

/// Per channel, clip=max: scale = max|w| / 7 = 1/7; w * 7 = (7, -7, 3.5, 1.75)
/// -> codes (7, -7, 3, 2): 0.5 / float(1/7) is 3.4999998, not an exact tie,
/// so it rounds down. Nibbles 0x7, 0x9, 0x3, 0x2 packed low nibble first give
/// bytes 0x97, 0x23 after the 4-byte resource alignment header.
// CHECK-LABEL: func.func @linear_int4_per_channel(
// CHECK-DAG:     %[[DATA:.*]] = arith.constant dense_resource<qweight> : tensor<2xi8>
// CHECK-DAG:     %[[SCALE:.*]] = arith.constant dense<0.142857149> : tensor<1xf32>
// CHECK:         %[[W:.*]] = lowbit.qweight %[[DATA]], %[[SCALE]] {scheme = #lowbit.scheme<int4, per_channel(axis = 0), symmetric, scale = f32>} : (tensor<2xi8>, tensor<1xf32>) -> tensor<1x4xf32>
// CHECK:         lowbit.linear %{{.*}}, %[[W]]
// CHECK:         qweight: "0x010000009723"
// GROUP-LABEL: func.func @linear_int4_per_channel(
// GROUP:         %[[SCALES:.*]] = arith.constant dense<{{\[\[}}0.142857149, 0.0714285746]]> : tensor<1x2xf32>
// GROUP:         lowbit.qweight %{{.*}}, %[[SCALES]] {scheme = #lowbit.scheme<int4, group(axis = 1, size = 2), symmetric, scale = f32>}
// BADFMT: lowbit-quantize-weights: format 'uint4' is not a signed weight format
func.func @linear_int4_per_channel(%x: tensor<3x4xf32>) -> tensor<3x1xf32> {
  %w = arith.constant dense<[[1.0, -1.0, 0.5, 0.25]]> : tensor<1x4xf32>
  %y = lowbit.linear %x, %w : (tensor<3x4xf32>, tensor<1x4xf32>) -> tensor<3x1xf32>
  return %y : tensor<3x1xf32>
}
