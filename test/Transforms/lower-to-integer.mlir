// RUN: lowbit-opt %s --pass-pipeline='builtin.module(func.func(lowbit-lower-to-integer))' 2>%t.remarks | FileCheck %s
// RUN: FileCheck %s --check-prefix=REMARK < %t.remarks
// RUN: lowbit-opt %s --pass-pipeline='builtin.module(func.func(lowbit-lower-to-integer{rounding=tflite}))' 2>/dev/null | FileCheck %s --check-prefix=TFLITE
// RUN: not lowbit-opt %s --pass-pipeline='builtin.module(func.func(lowbit-lower-to-integer{rounding=even}))' 2>&1 | FileCheck %s --check-prefix=BADROUND

/// rounding=tflite marks the layers for TFLite's requantization.
// TFLITE-LABEL: func.func @fc(
// TFLITE: lowbit.qlinear {{.*}}rounding = #lowbit.rounding<doubling_high_mul>
// TFLITE-LABEL: func.func @conv_relu6(
// TFLITE: lowbit.qconv2d {{.*}}rounding = #lowbit.rounding<doubling_high_mul>
// BADROUND: lowbit-lower-to-integer: rounding must be away or tflite, got 'even'

!u = !quant.uniform<u8:f32, 0.5:128>
!o = !quant.uniform<u8:f32, 0.25:10>

/// Codes become signed (u8 zero point 128 -> i8 0, 10 -> -118); the int32
/// bias is bias / (sx * sw) = [1 / 0.125, -0.5 / 0.0625]; the requantization
/// sx * sw / sy = [0.5, 0.25] = 2^30 / 2^[31, 32]; the ReLU is the clamp's
/// lower end, the zero point.
// CHECK-LABEL: func.func @fc(
// CHECK:         %[[Q:.*]] = lowbit.quantize %arg0 : tensor<1x2xf32> -> tensor<1x2x!quant.uniform<i8:f32, 5.000000e-01>>
// CHECK-DAG:     %[[W:.*]] = arith.constant dense<{{\[\[}}1, 2], [3, 4]]> : tensor<2x2xi8>
// CHECK-DAG:     %[[B:.*]] = arith.constant dense<[8, -8]> : tensor<2xi32>
// CHECK-DAG:     %[[M:.*]] = arith.constant dense<1073741824> : tensor<2xi32>
// CHECK-DAG:     %[[S:.*]] = arith.constant dense<[31, 32]> : tensor<2xi32>
// CHECK:         %[[Y:.*]] = lowbit.qlinear %[[Q]], %[[W]], %[[B]], %[[M]], %[[S]] {clamp_max = 127 : i64, clamp_min = -118 : i64}
// CHECK-SAME:      -> tensor<1x2x!quant.uniform<i8:f32, 2.500000e-01:-118>>
// CHECK:         lowbit.dequantize %[[Y]]
// CHECK-NOT:     lowbit.linear
func.func @fc(%arg0: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %data = arith.constant dense<[1, 2, 3, 4]> : tensor<4xi8>
  %scales = arith.constant dense<[0.25, 0.125]> : tensor<2xf32>
  %bias = arith.constant dense<[1.0, -0.5]> : tensor<2xf32>
  %q = lowbit.quantize %arg0 : tensor<1x2xf32> -> tensor<1x2x!u>
  %x = lowbit.dequantize %q : tensor<1x2x!u> -> tensor<1x2xf32>
  %w = lowbit.qweight %data, %scales {scheme = #lowbit.scheme<int8, per_channel(axis = 0), symmetric, scale = f32>} : (tensor<4xi8>, tensor<2xf32>) -> tensor<2x2xf32>
  %l = lowbit.linear %x, %w, %bias : (tensor<1x2xf32>, tensor<2x2xf32>, tensor<2xf32>) -> tensor<1x2xf32>
  %r = lowbit.onnx_node "Relu"(%l) opset 13 : (tensor<1x2xf32>) -> tensor<1x2xf32>
  %o = lowbit.quantize %r : tensor<1x2xf32> -> tensor<1x2x!o>
  %y = lowbit.dequantize %o : tensor<1x2x!o> -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

/// A depthwise convolution read through a Transpose (rebuilt on the codes)
/// with ReLU6: the clamp's upper end is quantize(6) = 6 / 0.25 + 10 - 128.
// CHECK-LABEL: func.func @conv_relu6(
// CHECK:         %[[T:.*]] = lowbit.onnx_node "Transpose"(%{{.*}}) opset 13 {{.*}} -> tensor<1x2x1x2x!quant.uniform<i8:f32, 5.000000e-01>>
// CHECK:         lowbit.qconv2d %[[T]], {{.*}} {clamp_max = -94 : i64, clamp_min = -118 : i64, groups = 2 : i64}
func.func @conv_relu6(%arg0: tensor<1x1x2x2xf32>) -> tensor<1x2x1x2xf32> {
  %data = arith.constant dense<[1, -2]> : tensor<2xi8>
  %scales = arith.constant dense<[0.5, 0.25]> : tensor<2xf32>
  %lo = arith.constant dense<0.0> : tensor<f32>
  %hi = arith.constant dense<6.0> : tensor<f32>
  %q = lowbit.quantize %arg0 : tensor<1x1x2x2xf32> -> tensor<1x1x2x2x!u>
  %x = lowbit.dequantize %q : tensor<1x1x2x2x!u> -> tensor<1x1x2x2xf32>
  %t = lowbit.onnx_node "Transpose"(%x) opset 13 attrs {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x1x2x2xf32>) -> tensor<1x2x1x2xf32>
  %w = lowbit.qweight %data, %scales {scheme = #lowbit.scheme<int8, per_channel(axis = 0), symmetric, scale = f32>} : (tensor<2xi8>, tensor<2xf32>) -> tensor<2x1x1x1xf32>
  %c = lowbit.conv2d %t, %w {groups = 2 : i64} : (tensor<1x2x1x2xf32>, tensor<2x1x1x1xf32>) -> tensor<1x2x1x2xf32>
  %r = lowbit.onnx_node "Clip"(%c, %lo, %hi) opset 13 : (tensor<1x2x1x2xf32>, tensor<f32>, tensor<f32>) -> tensor<1x2x1x2xf32>
  %o = lowbit.quantize %r : tensor<1x2x1x2xf32> -> tensor<1x2x1x2x!o>
  %y = lowbit.dequantize %o : tensor<1x2x1x2x!o> -> tensor<1x2x1x2xf32>
  return %y : tensor<1x2x1x2xf32>
}

/// Softmax to 1/256 codes: multiplier / 2^shift = 2^30 / 2^22 = 256.
/// Sigmoid: a 256-entry table; its entry for code 0 (real 0) is
/// quantize(0.5) = 128 - 128 = 0. A residual Add with ReLU.
// CHECK-LABEL: func.func @tail(
// CHECK:         lowbit.qsoftmax %{{.*}}, %{{.*}} {clamp_max = 127 : i64, clamp_min = -128 : i64, multiplier = 1073741824 : i64, shift = 22 : i64}
// CHECK:         lowbit.qlut %{{.*}}, %{{.*}} : (tensor<1x4x!quant.uniform<i8:f32, 5.000000e-01>>, tensor<256xi8>) -> tensor<1x4x!quant.uniform<i8:f32, 3.906250e-03:-128>>
// CHECK:         lowbit.qadd %{{.*}}, %{{.*}} {clamp_max = 127 : i64, clamp_min = -118 : i64, lhs_multiplier = 1073741824 : i64, rhs_multiplier = 1073741824 : i64, shift = 29 : i64}
// CHECK-NOT:     lowbit.onnx_node "Softmax"
func.func @tail(%arg0: tensor<1x4xf32>) -> (tensor<1x4xf32>, tensor<1x4xf32>, tensor<1x4xf32>) {
  %q = lowbit.quantize %arg0 : tensor<1x4xf32> -> tensor<1x4x!u>
  %x = lowbit.dequantize %q : tensor<1x4x!u> -> tensor<1x4xf32>
  %s = lowbit.onnx_node "Softmax"(%x) opset 13 attrs {axis = -1 : i64} : (tensor<1x4xf32>) -> tensor<1x4xf32>
  %sq = lowbit.quantize %s : tensor<1x4xf32> -> tensor<1x4x!quant.uniform<u8:f32, 0.00390625>>
  %sy = lowbit.dequantize %sq : tensor<1x4x!quant.uniform<u8:f32, 0.00390625>> -> tensor<1x4xf32>
  %g = lowbit.onnx_node "Sigmoid"(%x) opset 13 : (tensor<1x4xf32>) -> tensor<1x4xf32>
  %gq = lowbit.quantize %g : tensor<1x4xf32> -> tensor<1x4x!quant.uniform<u8:f32, 0.00390625>>
  %gy = lowbit.dequantize %gq : tensor<1x4x!quant.uniform<u8:f32, 0.00390625>> -> tensor<1x4xf32>
  %a = lowbit.onnx_node "Add"(%x, %x) opset 13 : (tensor<1x4xf32>, tensor<1x4xf32>) -> tensor<1x4xf32>
  %ar = lowbit.onnx_node "Relu"(%a) opset 13 : (tensor<1x4xf32>) -> tensor<1x4xf32>
  %aq = lowbit.quantize %ar : tensor<1x4xf32> -> tensor<1x4x!o>
  %ay = lowbit.dequantize %aq : tensor<1x4x!o> -> tensor<1x4xf32>
  return %sy, %gy, %ay : tensor<1x4xf32>, tensor<1x4xf32>, tensor<1x4xf32>
}

/// What has no integer form stays, reported by node.
// REMARK: remark: {{.*}}stays in floating point: Sin at node 'sin'
// CHECK-LABEL: func.func @float_left(
// CHECK:         lowbit.onnx_node "Sin"
func.func @float_left(%arg0: tensor<4xf32>) -> tensor<4xf32> {
  %q = lowbit.quantize %arg0 : tensor<4xf32> -> tensor<4x!u>
  %x = lowbit.dequantize %q : tensor<4x!u> -> tensor<4xf32>
  %s = lowbit.onnx_node "Sin"(%x) opset 13 : (tensor<4xf32>) -> tensor<4xf32> loc("sin")
  %sq = lowbit.quantize %s : tensor<4xf32> -> tensor<4x!u>
  %y = lowbit.dequantize %sq : tensor<4x!u> -> tensor<4xf32>
  return %y : tensor<4xf32>
}
