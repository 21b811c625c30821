// RUN: lowbit-opt %s --split-input-file \
// RUN:   --pass-pipeline='builtin.module(func.func(convert-onnx-to-lowbit))' | FileCheck %s

/// Gemm with transB = 1 keeps the weight as it is: [N, K] already.
// CHECK-LABEL: func.func @gemm_transb(
// CHECK-SAME:      %[[X:[a-zA-Z0-9_]+]]: tensor<?x3xf32>
// CHECK-DAG:     %[[W:.*]] = arith.constant dense<{{\[\[}}1.000000e+00, 2.000000e+00, 3.000000e+00], [4.000000e+00, 5.000000e+00, 6.000000e+00]]> : tensor<2x3xf32>
// CHECK-DAG:     %[[B:.*]] = arith.constant dense<[5.000000e-01, -5.000000e-01]> : tensor<2xf32>
// CHECK:         %[[Y:.*]] = lowbit.linear %[[X]], %[[W]], %[[B]] : (tensor<?x3xf32>, tensor<2x3xf32>, tensor<2xf32>) -> tensor<?x2xf32>
// CHECK:         return %[[Y]]
func.func @gemm_transb(%x: tensor<?x3xf32>) -> tensor<?x2xf32> {
  %w = arith.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>
  %b = arith.constant dense<[0.5, -0.5]> : tensor<2xf32>
  %y = lowbit.onnx_node "Gemm"(%x, %w, %b) opset 13 attrs {transB = 1 : i64} : (tensor<?x3xf32>, tensor<2x3xf32>, tensor<2xf32>) -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}

// -----

/// transB = 0: B [K, N] is transposed at compile time; alpha scales the
/// weight and beta the (constant, row-vector) bias.
// CHECK-LABEL: func.func @gemm_alpha_beta(
// CHECK-DAG:     %[[W:.*]] = arith.constant dense<{{\[\[}}2.000000e+00, 6.000000e+00], [4.000000e+00, 8.000000e+00]]> : tensor<2x2xf32>
// CHECK-DAG:     %[[B:.*]] = arith.constant dense<[3.000000e+00, 6.000000e+00]> : tensor<2xf32>
// CHECK:         lowbit.linear %{{.*}}, %[[W]], %[[B]]
func.func @gemm_alpha_beta(%x: tensor<4x2xf32>) -> tensor<4x2xf32> {
  %w = arith.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  %c = arith.constant dense<[[1.0, 2.0]]> : tensor<1x2xf32>
  %y = lowbit.onnx_node "Gemm"(%x, %w, %c) opset 13 attrs {alpha = 2.0 : f32, beta = 3.0 : f32} : (tensor<4x2xf32>, tensor<2x2xf32>, tensor<1x2xf32>) -> tensor<4x2xf32>
  return %y : tensor<4x2xf32>
}

// -----

/// A weight computed at run time is not a layer weight: the node stays.
// CHECK-LABEL: func.func @negative_gemm_runtime_weight(
// CHECK:         lowbit.onnx_node "Gemm"
// CHECK-NOT:     lowbit.linear
func.func @negative_gemm_runtime_weight(%x: tensor<4x2xf32>, %w: tensor<2x2xf32>) -> tensor<4x2xf32> {
  %y = lowbit.onnx_node "Gemm"(%x, %w) opset 13 : (tensor<4x2xf32>, tensor<2x2xf32>) -> tensor<4x2xf32>
  return %y : tensor<4x2xf32>
}

// -----

// CHECK-LABEL: func.func @negative_gemm_transa(
// CHECK:         lowbit.onnx_node "Gemm"
func.func @negative_gemm_transa(%x: tensor<2x4xf32>) -> tensor<4x2xf32> {
  %w = arith.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  %y = lowbit.onnx_node "Gemm"(%x, %w) opset 13 attrs {transA = 1 : i64} : (tensor<2x4xf32>, tensor<2x2xf32>) -> tensor<4x2xf32>
  return %y : tensor<4x2xf32>
}

// -----

/// MatMul on a 3-D activation with a constant [K, N] weight.
// CHECK-LABEL: func.func @matmul_constant_rhs(
// CHECK:         %[[W:.*]] = arith.constant dense<{{\[\[}}1.000000e+00, 3.000000e+00, 5.000000e+00], [2.000000e+00, 4.000000e+00, 6.000000e+00]]> : tensor<2x3xf32>
// CHECK:         lowbit.linear %{{.*}}, %[[W]] : (tensor<2x5x3xf32>, tensor<2x3xf32>) -> tensor<2x5x2xf32>
func.func @matmul_constant_rhs(%x: tensor<2x5x3xf32>) -> tensor<2x5x2xf32> {
  %w = arith.constant dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]> : tensor<3x2xf32>
  %y = lowbit.onnx_node "MatMul"(%x, %w) opset 13 : (tensor<2x5x3xf32>, tensor<3x2xf32>) -> tensor<2x5x2xf32>
  return %y : tensor<2x5x2xf32>
}

// -----

/// Activation x activation stays a MatMul node (attention).
// CHECK-LABEL: func.func @negative_matmul_activations(
// CHECK:         lowbit.onnx_node "MatMul"
func.func @negative_matmul_activations(%a: tensor<2x3xf32>, %b: tensor<3x4xf32>) -> tensor<2x4xf32> {
  %y = lowbit.onnx_node "MatMul"(%a, %b) opset 13 : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// -----

/// SAME_UPPER on an even input with stride 2 pads 0 before and 1 after.
// CHECK-LABEL: func.func @conv_same_upper(
// CHECK:         lowbit.conv2d %{{.*}}, %{{.*}}, %{{.*}} {padding = array<i64: 0, 0, 1, 1>, strides = array<i64: 2, 2>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<1x4x4x4xf32>
func.func @conv_same_upper(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<4xf32>) -> tensor<1x4x4x4xf32> {
  %y = lowbit.onnx_node "Conv"(%x, %w, %b) opset 11 attrs {auto_pad = "SAME_UPPER", strides = array<i64: 2, 2>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<1x4x4x4xf32>
  return %y : tensor<1x4x4x4xf32>
}

// -----

/// Depthwise with explicit pads and dilation.
// CHECK-LABEL: func.func @conv_depthwise(
// CHECK:         lowbit.conv2d %{{.*}}, %{{.*}} {dilations = array<i64: 2, 2>, groups = 8 : i64, padding = array<i64: 2, 2, 2, 2>} : (tensor<?x8x6x6xf32>, tensor<8x1x3x3xf32>) -> tensor<?x8x6x6xf32>
func.func @conv_depthwise(%x: tensor<?x8x6x6xf32>, %w: tensor<8x1x3x3xf32>) -> tensor<?x8x6x6xf32> {
  %y = lowbit.onnx_node "Conv"(%x, %w) opset 13 attrs {group = 8 : i64, dilations = array<i64: 2, 2>, pads = array<i64: 2, 2, 2, 2>, kernel_shape = array<i64: 3, 3>} : (tensor<?x8x6x6xf32>, tensor<8x1x3x3xf32>) -> tensor<?x8x6x6xf32>
  return %y : tensor<?x8x6x6xf32>
}

// -----

/// 1-D convolution is not a conv2d.
// CHECK-LABEL: func.func @negative_conv1d(
// CHECK:         lowbit.onnx_node "Conv"
func.func @negative_conv1d(%x: tensor<1x3x8xf32>, %w: tensor<4x3x3xf32>) -> tensor<1x4x6xf32> {
  %y = lowbit.onnx_node "Conv"(%x, %w) opset 13 : (tensor<1x3x8xf32>, tensor<4x3x3xf32>) -> tensor<1x4x6xf32>
  return %y : tensor<1x4x6xf32>
}

// -----

// CHECK-LABEL: func.func @constant_node(
// CHECK:         %[[C:.*]] = arith.constant dense<[1, 2]> : tensor<2xi64>
// CHECK:         return %[[C]]
func.func @constant_node() -> tensor<2xi64> {
  %c = lowbit.onnx_node "Constant"() opset 13 attrs {value = dense<[1, 2]> : tensor<2xi64>} : () -> tensor<2xi64>
  return %c : tensor<2xi64>
}

// -----

/// MatMul + Add, as exporters write nn.Linear, becomes one linear with bias.
// CHECK-LABEL: func.func @matmul_add_bias(
// CHECK:         %[[B:.*]] = arith.constant dense<[5.000000e-01, -5.000000e-01]> : tensor<2xf32>
// CHECK:         %[[Y:.*]] = lowbit.linear %{{.*}}, %{{.*}}, %[[B]] : (tensor<4x3xf32>, tensor<2x3xf32>, tensor<2xf32>) -> tensor<4x2xf32>
// CHECK-NOT:     "Add"
// CHECK:         return %[[Y]]
func.func @matmul_add_bias(%x: tensor<4x3xf32>) -> tensor<4x2xf32> {
  %w = arith.constant dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]> : tensor<3x2xf32>
  %b = arith.constant dense<[0.5, -0.5]> : tensor<2xf32>
  %t = lowbit.onnx_node "MatMul"(%x, %w) opset 13 : (tensor<4x3xf32>, tensor<3x2xf32>) -> tensor<4x2xf32>
  %y = lowbit.onnx_node "Add"(%t, %b) opset 13 : (tensor<4x2xf32>, tensor<2xf32>) -> tensor<4x2xf32>
  return %y : tensor<4x2xf32>
}

// -----

/// Activation QuantizeLinear -> DequantizeLinear (int8 codes, zero point
/// -3) becomes lowbit.quantize -> lowbit.dequantize with u8 codes and zero
/// point 125; each use of the DequantizeLinear gets its own dequantize.
// CHECK-LABEL: func.func @qdq_activation(
// CHECK-SAME:      %[[X:[a-zA-Z0-9_]+]]: tensor<2x4xf32>
// CHECK:         %[[Q:.*]] = lowbit.quantize %[[X]] : tensor<2x4xf32> -> tensor<2x4x!quant.uniform<u8:f32, 5.000000e-01:125>>
// CHECK:         %[[D0:.*]] = lowbit.dequantize %[[Q]]
// CHECK:         %[[D1:.*]] = lowbit.dequantize %[[Q]]
// CHECK:         lowbit.onnx_node "Relu"(%[[D1]])
// CHECK:         lowbit.onnx_node "Neg"(%[[D0]])
// CHECK-NOT:     QuantizeLinear
func.func @qdq_activation(%x: tensor<2x4xf32>) -> (tensor<2x4xf32>, tensor<2x4xf32>) {
  %s = arith.constant dense<0.5> : tensor<f32>
  %z = arith.constant dense<-3> : tensor<i8>
  %q = lowbit.onnx_node "QuantizeLinear"(%x, %s, %z) opset 13 : (tensor<2x4xf32>, tensor<f32>, tensor<i8>) -> tensor<2x4xi8>
  %d = lowbit.onnx_node "DequantizeLinear"(%q, %s, %z) opset 13 : (tensor<2x4xi8>, tensor<f32>, tensor<i8>) -> tensor<2x4xf32>
  %a = lowbit.onnx_node "Relu"(%d) opset 13 : (tensor<2x4xf32>) -> tensor<2x4xf32>
  %b = lowbit.onnx_node "Neg"(%d) opset 13 : (tensor<2x4xf32>) -> tensor<2x4xf32>
  return %a, %b : tensor<2x4xf32>, tensor<2x4xf32>
}

// -----

/// Not an activation pair: the dequantization has other parameters, so the
/// quantized values stay visible as int8 (kept as ONNX nodes).
// CHECK-LABEL: func.func @qdq_mismatch(
// CHECK:         lowbit.onnx_node "QuantizeLinear"
// CHECK:         lowbit.onnx_node "DequantizeLinear"
func.func @qdq_mismatch(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %s = arith.constant dense<0.5> : tensor<f32>
  %t = arith.constant dense<0.25> : tensor<f32>
  %q = lowbit.onnx_node "QuantizeLinear"(%x, %s) opset 13 : (tensor<2x4xf32>, tensor<f32>) -> tensor<2x4xui8>
  %d = lowbit.onnx_node "DequantizeLinear"(%q, %t) opset 13 : (tensor<2x4xui8>, tensor<f32>) -> tensor<2x4xf32>
  return %d : tensor<2x4xf32>
}
