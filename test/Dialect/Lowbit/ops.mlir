// RUN: lowbit-opt %s --split-input-file | lowbit-opt --split-input-file | FileCheck %s
// RUN: lowbit-opt %s --split-input-file --mlir-print-op-generic | lowbit-opt --split-input-file | FileCheck %s

/// One round-trip case per op: the custom syntax parses back to itself, and
/// the generic form parses back to the custom one.

// CHECK-LABEL: func.func @linear_with_bias(
// CHECK-SAME:      %[[X:[a-zA-Z0-9_]+]]: tensor<32x384xf32>, %[[W:[a-zA-Z0-9_]+]]: tensor<1536x384xf32>, %[[B:[a-zA-Z0-9_]+]]: tensor<1536xf32>
// CHECK:         %[[Y:.*]] = lowbit.linear %[[X]], %[[W]], %[[B]] : (tensor<32x384xf32>, tensor<1536x384xf32>, tensor<1536xf32>) -> tensor<32x1536xf32>
// CHECK:         return %[[Y]]
func.func @linear_with_bias(%x: tensor<32x384xf32>, %w: tensor<1536x384xf32>, %b: tensor<1536xf32>) -> tensor<32x1536xf32> {
  %y = lowbit.linear %x, %w, %b : (tensor<32x384xf32>, tensor<1536x384xf32>, tensor<1536xf32>) -> tensor<32x1536xf32>
  return %y : tensor<32x1536xf32>
}

// -----

/// A per-channel int8 weight and a dynamic batch dimension.
!w8 = !quant.uniform<i8:f32:0, {0.1, 0.2}>
// CHECK-LABEL: func.func @linear_quantized_weight_dynamic_batch(
// CHECK:         lowbit.linear %{{.*}}, %{{.*}} : (tensor<?x4x3xf32>, tensor<2x3x!quant.uniform<i8:f32:0, {1.000000e-01,2.000000e-01}>>) -> tensor<?x4x2xf32>
func.func @linear_quantized_weight_dynamic_batch(%x: tensor<?x4x3xf32>, %w: tensor<2x3x!w8>) -> tensor<?x4x2xf32> {
  %y = lowbit.linear %x, %w : (tensor<?x4x3xf32>, tensor<2x3x!w8>) -> tensor<?x4x2xf32>
  return %y : tensor<?x4x2xf32>
}

// -----

// CHECK-LABEL: func.func @conv2d_strided_padded(
// CHECK:         lowbit.conv2d %{{.*}}, %{{.*}}, %{{.*}} {padding = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<1x3x32x32xf32>, tensor<16x3x3x3xf32>, tensor<16xf32>) -> tensor<1x16x16x16xf32>
func.func @conv2d_strided_padded(%x: tensor<1x3x32x32xf32>, %w: tensor<16x3x3x3xf32>, %b: tensor<16xf32>) -> tensor<1x16x16x16xf32> {
  %y = lowbit.conv2d %x, %w, %b {strides = array<i64: 2, 2>, padding = array<i64: 1, 1, 1, 1>} : (tensor<1x3x32x32xf32>, tensor<16x3x3x3xf32>, tensor<16xf32>) -> tensor<1x16x16x16xf32>
  return %y : tensor<1x16x16x16xf32>
}

// -----

/// Depthwise: groups equals the channel count, dilation 2.
// CHECK-LABEL: func.func @conv2d_depthwise_dilated(
// CHECK:         lowbit.conv2d %{{.*}}, %{{.*}} {dilations = array<i64: 2, 2>, groups = 8 : i64} : (tensor<?x8x10x10xf32>, tensor<8x1x3x3xf32>) -> tensor<?x8x6x6xf32>
func.func @conv2d_depthwise_dilated(%x: tensor<?x8x10x10xf32>, %w: tensor<8x1x3x3xf32>) -> tensor<?x8x6x6xf32> {
  %y = lowbit.conv2d %x, %w {groups = 8 : i64, dilations = array<i64: 2, 2>} : (tensor<?x8x10x10xf32>, tensor<8x1x3x3xf32>) -> tensor<?x8x6x6xf32>
  return %y : tensor<?x8x6x6xf32>
}

// -----

// CHECK-LABEL: func.func @matmul_broadcast_batch(
// CHECK:         lowbit.matmul %{{.*}}, %{{.*}} : (tensor<8x12x128x32xf32>, tensor<12x32x64xf32>) -> tensor<8x12x128x64xf32>
func.func @matmul_broadcast_batch(%q: tensor<8x12x128x32xf32>, %k: tensor<12x32x64xf32>) -> tensor<8x12x128x64xf32> {
  %s = lowbit.matmul %q, %k : (tensor<8x12x128x32xf32>, tensor<12x32x64xf32>) -> tensor<8x12x128x64xf32>
  return %s : tensor<8x12x128x64xf32>
}

// -----

!q = !quant.uniform<i8:f32, 5.000000e-02:3>
// CHECK-LABEL: func.func @quantize_dequantize(
// CHECK:         %[[Q:.*]] = lowbit.quantize %{{.*}} : tensor<4xf32> -> tensor<4x!quant.uniform<i8:f32, 5.000000e-02:3>>
// CHECK:         lowbit.dequantize %[[Q]] : tensor<4x!quant.uniform<i8:f32, 5.000000e-02:3>> -> tensor<4xf32>
func.func @quantize_dequantize(%x: tensor<4xf32>) -> tensor<4xf32> {
  %q = lowbit.quantize %x : tensor<4xf32> -> tensor<4x!q>
  %y = lowbit.dequantize %q : tensor<4x!q> -> tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

!acc = !quant.uniform<i32:f32, 5.000000e-04>
!out = !quant.uniform<i8:f32, 2.000000e-02:-3>
// CHECK-LABEL: func.func @requantize_with_rounding(
// CHECK:         lowbit.requantize %{{.*}} {rounding = #lowbit.rounding<half_away_from_zero>} : tensor<1x16x!quant.uniform<i32:f32, 5.000000e-04>> -> tensor<1x16x!quant.uniform<i8:f32, 2.000000e-02:-3>>
func.func @requantize_with_rounding(%acc: tensor<1x16x!acc>) -> tensor<1x16x!out> {
  %out = lowbit.requantize %acc {rounding = #lowbit.rounding<half_away_from_zero>} : tensor<1x16x!acc> -> tensor<1x16x!out>
  return %out : tensor<1x16x!out>
}

// -----

/// Group-wise int4 with f16 scales; the packed bytes are a dense resource.
// CHECK-LABEL: func.func @qweight_int4_group(
// CHECK:         %[[DATA:.*]] = arith.constant dense_resource<w_packed> : tensor<16xi8>
// CHECK:         lowbit.qweight %[[DATA]], %{{.*}} {scheme = #lowbit.scheme<int4, group(axis = 1, size = 4), symmetric, scale = f16>} : (tensor<16xi8>, tensor<4x2xf16>) -> tensor<4x8xf32>
func.func @qweight_int4_group(%scales: tensor<4x2xf16>) -> tensor<4x8xf32> {
  %data = arith.constant dense_resource<w_packed> : tensor<16xi8>
  %w = lowbit.qweight %data, %scales {scheme = #lowbit.scheme<int4, group(axis = 1, size = 4), symmetric, scale = f16>} : (tensor<16xi8>, tensor<4x2xf16>) -> tensor<4x8xf32>
  return %w : tensor<4x8xf32>
}

{-#
  dialect_resources: {
    builtin: {
      w_packed: "0x0100000000112233445566778899AABBCCDDEEFF"
    }
  }
#-}

// -----

/// Affine per-channel uint8 with zero points; 3-bit codes pack across bytes.
// CHECK-LABEL: func.func @qweight_affine_per_channel(
// CHECK:         lowbit.qweight %{{.*}}, %{{.*}}, %{{.*}} {scheme = #lowbit.scheme<uint3, per_channel(axis = 0), affine, scale = f32>} : (tensor<3xi8>, tensor<2xf32>, tensor<2xi8>) -> tensor<2x4xf32>
func.func @qweight_affine_per_channel(%data: tensor<3xi8>, %scales: tensor<2xf32>, %zp: tensor<2xi8>) -> tensor<2x4xf32> {
  %w = lowbit.qweight %data, %scales, %zp {scheme = #lowbit.scheme<uint3, per_channel(axis = 0), affine, scale = f32>} : (tensor<3xi8>, tensor<2xf32>, tensor<2xi8>) -> tensor<2x4xf32>
  return %w : tensor<2x4xf32>
}

// -----

// CHECK-LABEL: func.func @qweight_nf4_fp8_fp4(
// CHECK:         #lowbit.scheme<nf4, group(axis = 1, size = 64), symmetric, scale = bf16>
// CHECK:         #lowbit.scheme<fp8_e4m3, per_tensor, symmetric, scale = f32>
// CHECK:         #lowbit.scheme<fp4_e2m1, per_channel(axis = 0), symmetric, scale = f16>
func.func @qweight_nf4_fp8_fp4(%d4: tensor<64xi8>, %s4: tensor<2x1xbf16>, %d8: tensor<128xi8>, %s8: tensor<1xf32>, %s16: tensor<2xf16>) {
  %a = lowbit.qweight %d4, %s4 {scheme = #lowbit.scheme<nf4, group(axis = 1, size = 64), symmetric, scale = bf16>} : (tensor<64xi8>, tensor<2x1xbf16>) -> tensor<2x64xf32>
  %b = lowbit.qweight %d8, %s8 {scheme = #lowbit.scheme<fp8_e4m3, per_tensor, symmetric, scale = f32>} : (tensor<128xi8>, tensor<1xf32>) -> tensor<2x64xf32>
  %c = lowbit.qweight %d4, %s16 {scheme = #lowbit.scheme<fp4_e2m1, per_channel(axis = 0), symmetric, scale = f16>} : (tensor<64xi8>, tensor<2xf16>) -> tensor<2x64xf32>
  return
}

// -----

// CHECK-LABEL: func.func @lora_adapter(
// CHECK:         lowbit.lora %{{.*}}, %{{.*}}, %{{.*}} {alpha = 1.600000e+01 : f64} : tensor<64x32xf32>, tensor<8x32xf32>, tensor<64x8xf32>
func.func @lora_adapter(%w: tensor<64x32xf32>, %a: tensor<8x32xf32>, %b: tensor<64x8xf32>) -> tensor<64x32xf32> {
  %w2 = lowbit.lora %w, %a, %b {alpha = 16.0 : f64} : tensor<64x32xf32>, tensor<8x32xf32>, tensor<64x8xf32>
  return %w2 : tensor<64x32xf32>
}

// -----

// CHECK-LABEL: func.func @lowrank_branch(
// CHECK:         lowbit.lowrank %{{.*}}, %{{.*}}, %{{.*}} : tensor<64x32xf32>, tensor<64x4xf32>, tensor<4x32xf32>
func.func @lowrank_branch(%w: tensor<64x32xf32>, %l: tensor<64x4xf32>, %r: tensor<4x32xf32>) -> tensor<64x32xf32> {
  %w2 = lowbit.lowrank %w, %l, %r : tensor<64x32xf32>, tensor<64x4xf32>, tensor<4x32xf32>
  return %w2 : tensor<64x32xf32>
}

// -----

// CHECK-LABEL: func.func @rotate_hadamard_and_matrix(
// CHECK:         lowbit.rotate %{{.*}} {axis = 1 : i64, kind = #lowbit.rotation<hadamard>} : tensor<8x64xf32>
// CHECK:         lowbit.rotate %{{.*}}, %{{.*}} {axis = 1 : i64, kind = #lowbit.rotation<matrix>} : tensor<8x64xf32>, tensor<64x64xf32>
func.func @rotate_hadamard_and_matrix(%x: tensor<8x64xf32>, %q: tensor<64x64xf32>) -> (tensor<8x64xf32>, tensor<8x64xf32>) {
  %y = lowbit.rotate %x {axis = 1 : i64, kind = #lowbit.rotation<hadamard>} : tensor<8x64xf32>
  %z = lowbit.rotate %x, %q {axis = 1 : i64, kind = #lowbit.rotation<matrix>} : tensor<8x64xf32>, tensor<64x64xf32>
  return %y, %z : tensor<8x64xf32>, tensor<8x64xf32>
}

// -----

// CHECK-LABEL: func.func @permute_channels(
// CHECK:         lowbit.permute %{{.*}} {axis = 1 : i64, permutation = array<i64: 2, 0, 1>} : tensor<4x3xf32>
func.func @permute_channels(%x: tensor<4x3xf32>) -> tensor<4x3xf32> {
  %y = lowbit.permute %x {axis = 1 : i64, permutation = array<i64: 2, 0, 1>} : tensor<4x3xf32>
  return %y : tensor<4x3xf32>
}

// -----

// CHECK-LABEL: func.func @onnx_node_with_missing_input(
// CHECK:         %[[NONE:.*]] = lowbit.no_value
// CHECK:         lowbit.onnx_node "Clip"(%{{.*}}, %[[NONE]], %{{.*}}) opset 13 : (tensor<4xf32>, none, tensor<f32>) -> tensor<4xf32>
// CHECK:         lowbit.onnx_node "Softmax"(%{{.*}}) opset 13 attrs {axis = -1 : i64} : (tensor<4xf32>) -> tensor<4xf32>
// CHECK:         lowbit.onnx_node "MatMulNBits"(%{{.*}}) domain "com.microsoft" opset 1 attrs {bits = 4 : i64} : (tensor<4xf32>) -> tensor<4xf32>
func.func @onnx_node_with_missing_input(%x: tensor<4xf32>, %max: tensor<f32>) -> tensor<4xf32> {
  %none = lowbit.no_value
  %y = lowbit.onnx_node "Clip"(%x, %none, %max) opset 13 : (tensor<4xf32>, none, tensor<f32>) -> tensor<4xf32>
  %z = lowbit.onnx_node "Softmax"(%y) opset 13 attrs {axis = -1 : i64} : (tensor<4xf32>) -> tensor<4xf32>
  %w = lowbit.onnx_node "MatMulNBits"(%z) domain "com.microsoft" opset 1 attrs {bits = 4 : i64} : (tensor<4xf32>) -> tensor<4xf32>
  return %w : tensor<4xf32>
}
