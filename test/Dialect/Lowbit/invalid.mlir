// RUN: lowbit-opt %s --split-input-file --verify-diagnostics

/// One case per diagnostic, in the order the dialect defines them.

//===----------------------------------------------------------------------===//
// #lowbit.scheme
//===----------------------------------------------------------------------===//

// expected-error@+1 {{scale type must be f16, bf16 or f32, got 'f64'}}
func.func private @scheme_f64_scale() attributes {s = #lowbit.scheme<int8, per_tensor, symmetric, scale = f64>}

// -----

// expected-error@+1 {{axis must be non-negative, got -1}}
func.func private @scheme_negative_axis() attributes {s = #lowbit.scheme<int8, per_channel(axis = -1), symmetric, scale = f32>}

// -----

// expected-error@+1 {{group size must be positive, got 0}}
func.func private @scheme_zero_group() attributes {s = #lowbit.scheme<int4, group(axis = 1, size = 0), symmetric, scale = f16>}

// -----

// expected-error@+1 {{affine zero points need an integer format, got nf4}}
func.func private @scheme_affine_nf4() attributes {s = #lowbit.scheme<nf4, per_tensor, affine, scale = f16>}

// -----

// expected-error@+1 {{unknown quantization format 'int9'}}
func.func private @scheme_unknown_format() attributes {s = #lowbit.scheme<int9, per_tensor, symmetric, scale = f16>}

// -----

// expected-error@+1 {{unknown granularity 'per_row' (expected per_tensor, per_channel or group)}}
func.func private @scheme_unknown_granularity() attributes {s = #lowbit.scheme<int8, per_row, symmetric, scale = f16>}

// -----

// expected-error@+1 {{expected 'symmetric' or 'affine', got 'asymmetric'}}
func.func private @scheme_unknown_mode() attributes {s = #lowbit.scheme<int8, per_tensor, asymmetric, scale = f16>}

// -----

// expected-error@+1 {{scale type must be a float type, got 'i32'}}
func.func private @scheme_integer_scale() attributes {s = #lowbit.scheme<int8, per_tensor, symmetric, scale = i32>}

//===----------------------------------------------------------------------===//
// lowbit.linear
//===----------------------------------------------------------------------===//

// -----

func.func @linear_scalar_input(%x: tensor<f32>, %w: tensor<2x3xf32>) {
  // expected-error@+1 {{'lowbit.linear' op input must have rank at least 1}}
  %y = lowbit.linear %x, %w : (tensor<f32>, tensor<2x3xf32>) -> tensor<2xf32>
  return
}

// -----

func.func @linear_feature_mismatch(%x: tensor<8x4xf32>, %w: tensor<2x3xf32>) {
  // expected-error@+1 {{'lowbit.linear' op input has 4 features but weight [N, K] has K = 3}}
  %y = lowbit.linear %x, %w : (tensor<8x4xf32>, tensor<2x3xf32>) -> tensor<8x2xf32>
  return
}

// -----

func.func @linear_bias_mismatch(%x: tensor<8x3xf32>, %w: tensor<2x3xf32>, %b: tensor<3xf32>) {
  // expected-error@+1 {{'lowbit.linear' op bias has 3 elements but weight has 2 output features}}
  %y = lowbit.linear %x, %w, %b : (tensor<8x3xf32>, tensor<2x3xf32>, tensor<3xf32>) -> tensor<8x2xf32>
  return
}

// -----

/// MLIR reports an inferred-type mismatch twice: the mismatch, then the
/// interface's summary.
func.func @linear_wrong_result_shape(%x: tensor<8x3xf32>, %w: tensor<2x3xf32>) {
  // expected-error@+2 {{'lowbit.linear' op failed to infer returned types}}
  // expected-error@+1 {{'lowbit.linear' op inferred type(s) 'tensor<8x2xf32>' are incompatible with return type(s) of operation 'tensor<8x3xf32>'}}
  %y = lowbit.linear %x, %w : (tensor<8x3xf32>, tensor<2x3xf32>) -> tensor<8x3xf32>
  return
}

// -----

func.func @linear_rank3_weight(%x: tensor<8x3xf32>, %w: tensor<2x3x1xf32>) {
  // expected-error@+1 {{'lowbit.linear' op operand #1 must be 2D tensor}}
  %y = lowbit.linear %x, %w : (tensor<8x3xf32>, tensor<2x3x1xf32>) -> tensor<8x2xf32>
  return
}

//===----------------------------------------------------------------------===//
// lowbit.conv2d
//===----------------------------------------------------------------------===//

// -----

func.func @conv2d_strides_count(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error@+1 {{'lowbit.conv2d' op strides must have 2 entries, got 1}}
  %y = lowbit.conv2d %x, %w {strides = array<i64: 2>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @conv2d_padding_count(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error@+1 {{'lowbit.conv2d' op padding must have 4 entries [top, left, bottom, right], got 2}}
  %y = lowbit.conv2d %x, %w {padding = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @conv2d_dilations_count(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error@+1 {{'lowbit.conv2d' op dilations must have 2 entries, got 3}}
  %y = lowbit.conv2d %x, %w {dilations = array<i64: 1, 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @conv2d_zero_stride(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error@+1 {{'lowbit.conv2d' op strides must be positive}}
  %y = lowbit.conv2d %x, %w {strides = array<i64: 0, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x?x6xf32>
  return
}

// -----

func.func @conv2d_zero_dilation(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error@+1 {{'lowbit.conv2d' op dilations must be positive}}
  %y = lowbit.conv2d %x, %w {dilations = array<i64: 1, 0>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x?xf32>
  return
}

// -----

func.func @conv2d_negative_padding(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error@+1 {{'lowbit.conv2d' op padding must be non-negative}}
  %y = lowbit.conv2d %x, %w {padding = array<i64: -1, 0, 0, 0>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x5x6xf32>
  return
}

// -----

func.func @conv2d_zero_groups(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error@+1 {{'lowbit.conv2d' op groups must be positive, got 0}}
  %y = lowbit.conv2d %x, %w {groups = 0 : i64} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @conv2d_channel_mismatch(%x: tensor<1x3x8x8xf32>, %w: tensor<4x2x3x3xf32>) {
  // expected-error@+1 {{'lowbit.conv2d' op input has 3 channels but weight expects 2 per group x 1 groups}}
  %y = lowbit.conv2d %x, %w : (tensor<1x3x8x8xf32>, tensor<4x2x3x3xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @conv2d_output_channels_not_divisible(%x: tensor<1x8x8x8xf32>, %w: tensor<6x2x3x3xf32>) {
  // expected-error@+1 {{'lowbit.conv2d' op output channels 6 are not divisible by groups 4}}
  %y = lowbit.conv2d %x, %w {groups = 4 : i64} : (tensor<1x8x8x8xf32>, tensor<6x2x3x3xf32>) -> tensor<1x6x6x6xf32>
  return
}

// -----

func.func @conv2d_bias_mismatch(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<5xf32>) {
  // expected-error@+1 {{'lowbit.conv2d' op bias has 5 elements but weight has 4 output channels}}
  %y = lowbit.conv2d %x, %w, %b : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<5xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @conv2d_kernel_too_large(%x: tensor<1x3x2x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error@+1 {{'lowbit.conv2d' op kernel does not fit in the padded input along spatial dimension 2}}
  %y = lowbit.conv2d %x, %w : (tensor<1x3x2x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x0x6xf32>
  return
}

//===----------------------------------------------------------------------===//
// lowbit.matmul
//===----------------------------------------------------------------------===//

// -----

func.func @matmul_vector_operand(%a: tensor<3xf32>, %b: tensor<3x2xf32>) {
  // expected-error@+1 {{'lowbit.matmul' op operand #0 must be ranked tensor of floating-point values with rank at least 2}}
  %y = lowbit.matmul %a, %b : (tensor<3xf32>, tensor<3x2xf32>) -> tensor<2xf32>
  return
}

// -----

func.func @matmul_contraction_mismatch(%a: tensor<2x3xf32>, %b: tensor<4x2xf32>) {
  // expected-error@+1 {{'lowbit.matmul' op contraction dimensions differ: lhs has K = 3, rhs has K = 4}}
  %y = lowbit.matmul %a, %b : (tensor<2x3xf32>, tensor<4x2xf32>) -> tensor<2x2xf32>
  return
}

// -----

func.func @matmul_batch_mismatch(%a: tensor<3x2x4xf32>, %b: tensor<4x4x2xf32>) {
  // expected-error@+1 {{'lowbit.matmul' op batch dimensions 3 and 4 do not broadcast}}
  %y = lowbit.matmul %a, %b : (tensor<3x2x4xf32>, tensor<4x4x2xf32>) -> tensor<3x2x2xf32>
  return
}

// -----

func.func @matmul_mixed_precision(%a: tensor<2x4xf32>, %b: tensor<4x2xf16>) {
  // expected-error@+1 {{'lowbit.matmul' op operand element types differ: 'f32' and 'f16'}}
  %y = lowbit.matmul %a, %b : (tensor<2x4xf32>, tensor<4x2xf16>) -> tensor<2x2xf32>
  return
}

//===----------------------------------------------------------------------===//
// lowbit.quantize / dequantize / requantize
//===----------------------------------------------------------------------===//

// -----

func.func @quantize_expressed_mismatch(%x: tensor<4xf16>) {
  // expected-error@+1 {{'lowbit.quantize' op result expresses 'f32' but the input is 'f16'}}
  %q = lowbit.quantize %x : tensor<4xf16> -> tensor<4x!quant.uniform<i8:f32, 0.1>>
  return
}

// -----

func.func @quantize_axis_out_of_range(%x: tensor<2x2xf32>) {
  // expected-error@+1 {{'lowbit.quantize' op quantized dimension 2 is out of range for a rank-2 tensor}}
  %q = lowbit.quantize %x : tensor<2x2xf32> -> tensor<2x2x!quant.uniform<i8:f32:2, {0.1, 0.2}>>
  return
}

// -----

func.func @quantize_scale_count(%x: tensor<3x2xf32>) {
  // expected-error@+1 {{'lowbit.quantize' op quantized dimension 0 has size 3 but the type carries 2 scales}}
  %q = lowbit.quantize %x : tensor<3x2xf32> -> tensor<3x2x!quant.uniform<i8:f32:0, {0.1, 0.2}>>
  return
}

// -----

func.func @quantize_float_result(%x: tensor<4xf32>) {
  // expected-error@+1 {{'lowbit.quantize' op result #0 must be ranked tensor of quantized type values}}
  %q = lowbit.quantize %x : tensor<4xf32> -> tensor<4xf32>
  return
}

// -----

func.func @dequantize_expressed_mismatch(%q: tensor<4x!quant.uniform<i8:f32, 0.1>>) {
  // expected-error@+1 {{'lowbit.dequantize' op input expresses 'f32' but the result is 'f16'}}
  %x = lowbit.dequantize %q : tensor<4x!quant.uniform<i8:f32, 0.1>> -> tensor<4xf16>
  return
}

// -----

func.func @requantize_expressed_change(%q: tensor<4x!quant.uniform<i8:f32, 0.1>>) {
  // expected-error@+1 {{'lowbit.requantize' op expressed type changes from 'f32' to 'f16'}}
  %r = lowbit.requantize %q : tensor<4x!quant.uniform<i8:f32, 0.1>> -> tensor<4x!quant.uniform<i8:f16, 0.1>>
  return
}

// -----

func.func @requantize_changes_quantized_axis(
    %in: tensor<2x3x!quant.uniform<i8:f32:0, {0.1, 0.2}>>) {
  // expected-error@+1 {{'lowbit.requantize' op per-axis quantized dimension changes from 0 to 1}}
  %0 = lowbit.requantize %in : tensor<2x3x!quant.uniform<i8:f32:0, {0.1, 0.2}>>
      -> tensor<2x3x!quant.uniform<i8:f32:1, {0.1, 0.2, 0.3}>>
  return
}

// -----

func.func @requantize_float_input(%in: tensor<4xf32>) {
  // expected-error@+1 {{'lowbit.requantize' op operand #0 must be ranked tensor of quantized type values}}
  %0 = lowbit.requantize %in : tensor<4xf32> -> tensor<4x!quant.uniform<i8:f32, 1.0>>
  return
}

//===----------------------------------------------------------------------===//
// lowbit.qweight
//===----------------------------------------------------------------------===//

// -----

func.func @qweight_dynamic_result(%d: tensor<16xi8>, %s: tensor<1xf32>) {
  // expected-error@+1 {{'lowbit.qweight' op result shape must be static, got 'tensor<?x8xf32>'}}
  %w = lowbit.qweight %d, %s {scheme = #lowbit.scheme<int4, per_tensor, symmetric, scale = f32>} : (tensor<16xi8>, tensor<1xf32>) -> tensor<?x8xf32>
  return
}

// -----

func.func @qweight_scale_type(%d: tensor<16xi8>, %s: tensor<1xf32>) {
  // expected-error@+1 {{'lowbit.qweight' op scales have element type 'f32' but the scheme stores scales as 'f16'}}
  %w = lowbit.qweight %d, %s {scheme = #lowbit.scheme<int4, per_tensor, symmetric, scale = f16>} : (tensor<16xi8>, tensor<1xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @qweight_axis_out_of_range(%d: tensor<16xi8>, %s: tensor<4xf32>) {
  // expected-error@+1 {{'lowbit.qweight' op scheme axis 2 is out of range for a rank-2 weight}}
  %w = lowbit.qweight %d, %s {scheme = #lowbit.scheme<int4, per_channel(axis = 2), symmetric, scale = f32>} : (tensor<16xi8>, tensor<4xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @qweight_data_size(%d: tensor<10xi8>, %s: tensor<1xf32>) {
  // expected-error@+1 {{'lowbit.qweight' op data holds 10 bytes but 32 int4 codes need 16 bytes}}
  %w = lowbit.qweight %d, %s {scheme = #lowbit.scheme<int4, per_tensor, symmetric, scale = f32>} : (tensor<10xi8>, tensor<1xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @qweight_group_scales_shape(%d: tensor<16xi8>, %s: tensor<4x1xf16>) {
  // expected-error@+1 {{'lowbit.qweight' op scales have shape 'tensor<4x1xf16>' but the scheme needs 4x2}}
  %w = lowbit.qweight %d, %s {scheme = #lowbit.scheme<int4, group(axis = 1, size = 4), symmetric, scale = f16>} : (tensor<16xi8>, tensor<4x1xf16>) -> tensor<4x8xf32>
  return
}

// -----

func.func @qweight_affine_without_zero_points(%d: tensor<32xi8>, %s: tensor<4xf32>) {
  // expected-error@+1 {{'lowbit.qweight' op affine scheme needs zero_points}}
  %w = lowbit.qweight %d, %s {scheme = #lowbit.scheme<uint8, per_channel(axis = 0), affine, scale = f32>} : (tensor<32xi8>, tensor<4xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @qweight_symmetric_with_zero_points(%d: tensor<32xi8>, %s: tensor<4xf32>, %z: tensor<4xi8>) {
  // expected-error@+1 {{'lowbit.qweight' op symmetric scheme takes no zero_points}}
  %w = lowbit.qweight %d, %s, %z {scheme = #lowbit.scheme<int8, per_channel(axis = 0), symmetric, scale = f32>} : (tensor<32xi8>, tensor<4xf32>, tensor<4xi8>) -> tensor<4x8xf32>
  return
}

// -----

func.func @qweight_zero_points_shape(%d: tensor<32xi8>, %s: tensor<4xf32>, %z: tensor<2xi8>) {
  // expected-error@+1 {{'lowbit.qweight' op zero_points shape must match scales shape}}
  %w = lowbit.qweight %d, %s, %z {scheme = #lowbit.scheme<uint8, per_channel(axis = 0), affine, scale = f32>} : (tensor<32xi8>, tensor<4xf32>, tensor<2xi8>) -> tensor<4x8xf32>
  return
}

//===----------------------------------------------------------------------===//
// lowbit.lora / lowbit.lowrank
//===----------------------------------------------------------------------===//

// -----

func.func @lora_nonpositive_alpha(%w: tensor<64x32xf32>, %a: tensor<8x32xf32>, %b: tensor<64x8xf32>) {
  // expected-error@+1 {{'lowbit.lora' op alpha must be positive}}
  %w2 = lowbit.lora %w, %a, %b {alpha = 0.0 : f64} : tensor<64x32xf32>, tensor<8x32xf32>, tensor<64x8xf32>
  return
}

// -----

func.func @lora_b_rows(%w: tensor<64x32xf32>, %a: tensor<8x32xf32>, %b: tensor<32x8xf32>) {
  // expected-error@+1 {{'lowbit.lora' op B has 32 rows but the weight has 64}}
  %w2 = lowbit.lora %w, %a, %b {alpha = 8.0 : f64} : tensor<64x32xf32>, tensor<8x32xf32>, tensor<32x8xf32>
  return
}

// -----

func.func @lora_a_columns(%w: tensor<64x32xf32>, %a: tensor<8x16xf32>, %b: tensor<64x8xf32>) {
  // expected-error@+1 {{'lowbit.lora' op A has 16 columns but the weight has 32}}
  %w2 = lowbit.lora %w, %a, %b {alpha = 8.0 : f64} : tensor<64x32xf32>, tensor<8x16xf32>, tensor<64x8xf32>
  return
}

// -----

func.func @lora_rank_mismatch(%w: tensor<64x32xf32>, %a: tensor<4x32xf32>, %b: tensor<64x8xf32>) {
  // expected-error@+1 {{'lowbit.lora' op rank mismatch: B has rank 8, A has rank 4}}
  %w2 = lowbit.lora %w, %a, %b {alpha = 8.0 : f64} : tensor<64x32xf32>, tensor<4x32xf32>, tensor<64x8xf32>
  return
}

// -----

func.func @lowrank_left_rows(%w: tensor<64x32xf32>, %l: tensor<16x4xf32>, %r: tensor<4x32xf32>) {
  // expected-error@+1 {{'lowbit.lowrank' op left has 16 rows but the weight has 64}}
  %w2 = lowbit.lowrank %w, %l, %r : tensor<64x32xf32>, tensor<16x4xf32>, tensor<4x32xf32>
  return
}

//===----------------------------------------------------------------------===//
// lowbit.rotate / lowbit.permute
//===----------------------------------------------------------------------===//

// -----

func.func @rotate_axis_out_of_range(%x: tensor<8x64xf32>) {
  // expected-error@+1 {{'lowbit.rotate' op axis 2 is out of range for a rank-2 tensor}}
  %y = lowbit.rotate %x {axis = 2 : i64, kind = #lowbit.rotation<hadamard>} : tensor<8x64xf32>
  return
}

// -----

func.func @rotate_hadamard_with_matrix(%x: tensor<8x64xf32>, %q: tensor<64x64xf32>) {
  // expected-error@+1 {{'lowbit.rotate' op a hadamard rotation takes no matrix operand}}
  %y = lowbit.rotate %x, %q {axis = 1 : i64, kind = #lowbit.rotation<hadamard>} : tensor<8x64xf32>, tensor<64x64xf32>
  return
}

// -----

func.func @rotate_hadamard_not_power_of_two(%x: tensor<8x48xf32>) {
  // expected-error@+1 {{'lowbit.rotate' op hadamard rotation needs a power-of-two dimension, got 48}}
  %y = lowbit.rotate %x {axis = 1 : i64, kind = #lowbit.rotation<hadamard>} : tensor<8x48xf32>
  return
}

// -----

func.func @rotate_matrix_missing(%x: tensor<8x64xf32>) {
  // expected-error@+1 {{'lowbit.rotate' op a matrix rotation needs a matrix operand}}
  %y = lowbit.rotate %x {axis = 1 : i64, kind = #lowbit.rotation<matrix>} : tensor<8x64xf32>
  return
}

// -----

func.func @rotate_matrix_wrong_size(%x: tensor<8x64xf32>, %q: tensor<32x32xf32>) {
  // expected-error@+1 {{'lowbit.rotate' op rotation matrix must be 64x64, got 'tensor<32x32xf32>'}}
  %y = lowbit.rotate %x, %q {axis = 1 : i64, kind = #lowbit.rotation<matrix>} : tensor<8x64xf32>, tensor<32x32xf32>
  return
}

// -----

func.func @permute_axis_out_of_range(%x: tensor<4x3xf32>) {
  // expected-error@+1 {{'lowbit.permute' op axis -1 is out of range for a rank-2 tensor}}
  %y = lowbit.permute %x {axis = -1 : i64, permutation = array<i64: 0, 1, 2>} : tensor<4x3xf32>
  return
}

// -----

func.func @permute_wrong_length(%x: tensor<4x3xf32>) {
  // expected-error@+1 {{'lowbit.permute' op permutation has 2 entries but axis 1 has size 3}}
  %y = lowbit.permute %x {axis = 1 : i64, permutation = array<i64: 0, 1>} : tensor<4x3xf32>
  return
}

// -----

func.func @permute_repeated_entry(%x: tensor<4x3xf32>) {
  // expected-error@+1 {{'lowbit.permute' op permutation is not a permutation of [0, 3): bad or repeated entry 1}}
  %y = lowbit.permute %x {axis = 1 : i64, permutation = array<i64: 1, 1, 0>} : tensor<4x3xf32>
  return
}

//===----------------------------------------------------------------------===//
// lowbit.onnx_node
//===----------------------------------------------------------------------===//

// -----

func.func @onnx_node_empty_type(%x: tensor<4xf32>) {
  // expected-error@+1 {{'lowbit.onnx_node' op op_type must not be empty}}
  %y = lowbit.onnx_node ""(%x) opset 13 : (tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @onnx_node_zero_opset(%x: tensor<4xf32>) {
  // expected-error@+1 {{'lowbit.onnx_node' op opset must be at least 1, got 0}}
  %y = lowbit.onnx_node "Relu"(%x) opset 0 : (tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @onnx_node_reshape_count(%x: tensor<8x8xf32>, %s: tensor<2xi64>) {
  // expected-error@+1 {{'lowbit.onnx_node' op Reshape cannot turn 'tensor<8x8xf32>' (64 elements) into 'tensor<7x9xf32>' (63 elements)}}
  %y = lowbit.onnx_node "Reshape"(%x, %s) opset 13 : (tensor<8x8xf32>, tensor<2xi64>) -> tensor<7x9xf32>
  return
}

//===----------------------------------------------------------------------===//
// Integer-only layers
//===----------------------------------------------------------------------===//

// -----

func.func @qlinear_float_input(%x: tensor<1x2xf32>, %w: tensor<2x2xi8>, %b: tensor<2xi32>) {
  // expected-error@+1 {{'lowbit.qlinear' op operand #0 must be 2D tensor of quantized type values}}
  %y = lowbit.qlinear %x, %w, %b, %b, %b {clamp_min = -128 : i64, clamp_max = 127 : i64} : (tensor<1x2xf32>, tensor<2x2xi8>, tensor<2xi32>, tensor<2xi32>, tensor<2xi32>) -> tensor<1x2x!quant.uniform<i8:f32, 0.5>>
  return
}

// -----

func.func @qlinear_clamp(%x: tensor<1x2x!quant.uniform<i8:f32, 0.5>>, %w: tensor<2x2xi8>, %b: tensor<2xi32>) {
  // expected-error@+1 {{'lowbit.qlinear' op clamp [-200, 127] is not inside the result's storage range [-128, 127]}}
  %y = lowbit.qlinear %x, %w, %b, %b, %b {clamp_min = -200 : i64, clamp_max = 127 : i64} : (tensor<1x2x!quant.uniform<i8:f32, 0.5>>, tensor<2x2xi8>, tensor<2xi32>, tensor<2xi32>, tensor<2xi32>) -> tensor<1x2x!quant.uniform<i8:f32, 0.5>>
  return
}

// -----

func.func @qlinear_channels(%x: tensor<1x2x!quant.uniform<i8:f32, 0.5>>, %w: tensor<2x2xi8>, %b: tensor<3xi32>, %m: tensor<2xi32>) {
  // expected-error@+1 {{'lowbit.qlinear' op bias has 3 entries but the layer has 2 output channels}}
  %y = lowbit.qlinear %x, %w, %b, %m, %m {clamp_min = -128 : i64, clamp_max = 127 : i64} : (tensor<1x2x!quant.uniform<i8:f32, 0.5>>, tensor<2x2xi8>, tensor<3xi32>, tensor<2xi32>, tensor<2xi32>) -> tensor<1x2x!quant.uniform<i8:f32, 0.5>>
  return
}

// -----

func.func @qlinear_shift(%x: tensor<1x2x!quant.uniform<i8:f32, 0.5>>, %w: tensor<2x2xi8>, %b: tensor<2xi32>) {
  %s = arith.constant dense<[31, 63]> : tensor<2xi32>
  // expected-error@+1 {{'lowbit.qlinear' op shift 63 is outside [0, 62]}}
  %y = lowbit.qlinear %x, %w, %b, %b, %s {clamp_min = -128 : i64, clamp_max = 127 : i64} : (tensor<1x2x!quant.uniform<i8:f32, 0.5>>, tensor<2x2xi8>, tensor<2xi32>, tensor<2xi32>, tensor<2xi32>) -> tensor<1x2x!quant.uniform<i8:f32, 0.5>>
  return
}

// -----

func.func @qconv2d_groups(%x: tensor<1x4x3x3x!quant.uniform<i8:f32, 0.5>>, %w: tensor<4x2x1x1xi8>, %b: tensor<4xi32>) {
  // expected-error@+1 {{'lowbit.qconv2d' op weight 'tensor<4x2x1x1xi8>' does not fit input 'tensor<1x4x3x3x!quant.uniform<i8:f32, 5.000000e-01>>' with 1 groups}}
  %y = lowbit.qconv2d %x, %w, %b, %b, %b {clamp_min = -128 : i64, clamp_max = 127 : i64} : (tensor<1x4x3x3x!quant.uniform<i8:f32, 0.5>>, tensor<4x2x1x1xi8>, tensor<4xi32>, tensor<4xi32>, tensor<4xi32>) -> tensor<1x4x3x3x!quant.uniform<i8:f32, 0.5>>
  return
}

// -----

func.func @qpool2d_kind(%x: tensor<1x1x2x2x!quant.uniform<i8:f32, 0.5>>) {
  // expected-error@+1 {{'lowbit.qpool2d' op kind must be "max" or "avg", got "sum"}}
  %y = lowbit.qpool2d %x {kind = "sum", kernel = array<i64: 2, 2>, clamp_min = -128 : i64, clamp_max = 127 : i64} : tensor<1x1x2x2x!quant.uniform<i8:f32, 0.5>> -> tensor<1x1x1x1x!quant.uniform<i8:f32, 0.5>>
  return
}

// -----

func.func @qpool2d_max_rescale(%x: tensor<1x1x2x2x!quant.uniform<i8:f32, 0.5>>) {
  // expected-error@+1 {{'lowbit.qpool2d' op max pooling keeps the input's scale and zero point}}
  %y = lowbit.qpool2d %x {kind = "max", kernel = array<i64: 2, 2>, clamp_min = -128 : i64, clamp_max = 127 : i64} : tensor<1x1x2x2x!quant.uniform<i8:f32, 0.5>> -> tensor<1x1x1x1x!quant.uniform<i8:f32, 0.25>>
  return
}

// -----

func.func @qlut_table(%x: tensor<4x!quant.uniform<i8:f32, 0.5>>, %t: tensor<128xi8>) {
  // expected-error@+1 {{'lowbit.qlut' op the table must have 256 entries, got 128}}
  %y = lowbit.qlut %x, %t : (tensor<4x!quant.uniform<i8:f32, 0.5>>, tensor<128xi8>) -> tensor<4x!quant.uniform<i8:f32, 0.5>>
  return
}

// -----

func.func @qadd_multiplier(%a: tensor<4x!quant.uniform<i8:f32, 0.5>>) {
  // expected-error@+1 {{'lowbit.qadd' op multipliers must be in [0, 2^31) and the shift in [0, 62]}}
  %y = lowbit.qadd %a, %a {lhs_multiplier = 4294967296 : i64, rhs_multiplier = 1 : i64, shift = 30 : i64, clamp_min = -128 : i64, clamp_max = 127 : i64} : tensor<4x!quant.uniform<i8:f32, 0.5>>, tensor<4x!quant.uniform<i8:f32, 0.5>> -> tensor<4x!quant.uniform<i8:f32, 0.5>>
  return
}

// -----

func.func @qsoftmax_shape(%x: tensor<1x4x!quant.uniform<i8:f32, 0.5>>, %t: tensor<256xi32>) {
  // expected-error@+1 {{'lowbit.qsoftmax' op input 'tensor<1x4x!quant.uniform<i8:f32, 5.000000e-01>>' and result 'tensor<1x5x!quant.uniform<i8:f32, 3.906250e-03:-128>>' differ in shape}}
  %y = lowbit.qsoftmax %x, %t {multiplier = 1073741824 : i64, shift = 22 : i64, clamp_min = -128 : i64, clamp_max = 127 : i64} : (tensor<1x4x!quant.uniform<i8:f32, 0.5>>, tensor<256xi32>) -> tensor<1x5x!quant.uniform<i8:f32, 0.00390625:-128>>
  return
}
