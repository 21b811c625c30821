// RUN: lowbit-opt %s --split-input-file --canonicalize="test-convergence" | FileCheck %s

/// Dequantize then quantize with the same parameters reproduces every code.
!q = !quant.uniform<i8:f32, 0.05:3>
// CHECK-LABEL: func.func @quantize_of_dequantize_same_type(
// CHECK-SAME:      %[[Q:[a-zA-Z0-9_]+]]: tensor<4x!quant.uniform
// CHECK-NOT:     lowbit.dequantize
// CHECK-NOT:     lowbit.quantize
// CHECK:         return %[[Q]]
func.func @quantize_of_dequantize_same_type(%q: tensor<4x!q>) -> tensor<4x!q> {
  %x = lowbit.dequantize %q : tensor<4x!q> -> tensor<4xf32>
  %r = lowbit.quantize %x : tensor<4xf32> -> tensor<4x!q>
  return %r : tensor<4x!q>
}

// -----

/// Different parameters: quantize rounds again, so the pair must stay.
!q1 = !quant.uniform<i8:f32, 0.05:3>
!q2 = !quant.uniform<i8:f32, 0.1>
// CHECK-LABEL: func.func @negative_quantize_of_dequantize_new_scale(
// CHECK:         lowbit.dequantize
// CHECK:         lowbit.quantize
func.func @negative_quantize_of_dequantize_new_scale(%q: tensor<4x!q1>) -> tensor<4x!q2> {
  %x = lowbit.dequantize %q : tensor<4x!q1> -> tensor<4xf32>
  %r = lowbit.quantize %x : tensor<4xf32> -> tensor<4x!q2>
  return %r : tensor<4x!q2>
}

// -----

!q = !quant.uniform<i8:f32, 0.05:3>
// CHECK-LABEL: func.func @requantize_to_same_type(
// CHECK-SAME:      %[[Q:[a-zA-Z0-9_]+]]: tensor<4x!quant.uniform
// CHECK-NEXT:    return %[[Q]]
func.func @requantize_to_same_type(%q: tensor<4x!q>) -> tensor<4x!q> {
  %r = lowbit.requantize %q : tensor<4x!q> -> tensor<4x!q>
  return %r : tensor<4x!q>
}

// -----

// CHECK-LABEL: func.func @permute_identity(
// CHECK-SAME:      %[[X:[a-zA-Z0-9_]+]]: tensor<4x3xf32>
// CHECK-NEXT:    return %[[X]]
func.func @permute_identity(%x: tensor<4x3xf32>) -> tensor<4x3xf32> {
  %y = lowbit.permute %x {axis = 1 : i64, permutation = array<i64: 0, 1, 2>} : tensor<4x3xf32>
  return %y : tensor<4x3xf32>
}

// -----

/// y1[i] = x[p1[i]], y2[i] = y1[p2[i]] = x[p1[p2[i]]]:
/// p1 = [2, 0, 1], p2 = [1, 2, 0] -> [0, 1, 2] (identity, then folded away);
/// p1 = [2, 0, 1], p2 = [0, 2, 1] -> [2, 1, 0].
// CHECK-LABEL: func.func @permute_compose(
// CHECK-SAME:      %[[X:[a-zA-Z0-9_]+]]: tensor<4x3xf32>
// CHECK:         %[[Y:.*]] = lowbit.permute %[[X]] {axis = 1 : i64, permutation = array<i64: 2, 1, 0>}
// CHECK-NOT:     lowbit.permute
// CHECK:         return %[[X]], %[[Y]]
func.func @permute_compose(%x: tensor<4x3xf32>) -> (tensor<4x3xf32>, tensor<4x3xf32>) {
  %a = lowbit.permute %x {axis = 1 : i64, permutation = array<i64: 2, 0, 1>} : tensor<4x3xf32>
  %b = lowbit.permute %a {axis = 1 : i64, permutation = array<i64: 1, 2, 0>} : tensor<4x3xf32>
  %c = lowbit.permute %a {axis = 1 : i64, permutation = array<i64: 0, 2, 1>} : tensor<4x3xf32>
  return %b, %c : tensor<4x3xf32>, tensor<4x3xf32>
}

// -----

/// Permutations of different axes do not compose.
// CHECK-LABEL: func.func @negative_permute_different_axes(
// CHECK-COUNT-2: lowbit.permute
func.func @negative_permute_different_axes(%x: tensor<3x3xf32>) -> tensor<3x3xf32> {
  %a = lowbit.permute %x {axis = 0 : i64, permutation = array<i64: 2, 0, 1>} : tensor<3x3xf32>
  %b = lowbit.permute %a {axis = 1 : i64, permutation = array<i64: 2, 0, 1>} : tensor<3x3xf32>
  return %b : tensor<3x3xf32>
}

// -----

/// The normalized Hadamard matrix is its own inverse.
// CHECK-LABEL: func.func @hadamard_pair_cancels(
// CHECK-SAME:      %[[X:[a-zA-Z0-9_]+]]: tensor<8x64xf32>
// CHECK-NEXT:    return %[[X]]
func.func @hadamard_pair_cancels(%x: tensor<8x64xf32>) -> tensor<8x64xf32> {
  %a = lowbit.rotate %x {axis = 1 : i64, kind = #lowbit.rotation<hadamard>} : tensor<8x64xf32>
  %b = lowbit.rotate %a {axis = 1 : i64, kind = #lowbit.rotation<hadamard>} : tensor<8x64xf32>
  return %b : tensor<8x64xf32>
}

// -----

/// A stored rotation matrix need not be symmetric: Q·Q is not I in general.
// CHECK-LABEL: func.func @negative_matrix_rotation_pair(
// CHECK-COUNT-2: lowbit.rotate
func.func @negative_matrix_rotation_pair(%x: tensor<8x4xf32>, %q: tensor<4x4xf32>) -> tensor<8x4xf32> {
  %a = lowbit.rotate %x, %q {axis = 1 : i64, kind = #lowbit.rotation<matrix>} : tensor<8x4xf32>, tensor<4x4xf32>
  %b = lowbit.rotate %a, %q {axis = 1 : i64, kind = #lowbit.rotation<matrix>} : tensor<8x4xf32>, tensor<4x4xf32>
  return %b : tensor<8x4xf32>
}
