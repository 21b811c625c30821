// RUN: rm -rf %t && mkdir -p %t
// RUN: %lowbit_python -c "import numpy as np; np.save('%t/x.npy', np.array([[1.0, -2.0]], np.float32)); np.save('%t/p.npy', np.array([[[[1.0, -1.5]]]], np.float32))"
// RUN: lowbit run %s -i x=%t/x.npy -i p=%t/p.npy --print | FileCheck %s

/// The integer-only ops, each result worked out by hand from the formulas
/// in LowbitOps.td. x = [1, -2] quantizes (scale 0.5, zero point 0) to codes
/// [2, -4]; p = [1, -1.5] to [2, -3].
/// qlinear: acc0 = 8 + 2*1 - 4*2 = 2, times 2^30 / 2^31 -> 1 -> code -117 ->
///   (-117 + 118) * 0.25 = 0.25; acc1 = -8 + 2*3 - 4*4 = -18, times
///   2^30 / 2^32 = -4.5, rounded away from zero to -5 -> -123, clamped (a
///   fused ReLU) to the zero point -118 -> 0.
/// qadd: (1.5 * a + 0.5 * a) with multipliers 3 * 2^29 and 2^29 over 2^30
///   -> [4, -8].
/// qlut: table[c + 128] = 10 * c + 1 -> [21, -39].
/// qpool2d avg, window 1x2, one column of padding on the left, not counted:
///   [2 / 1, (2 - 3) / 2 = -0.5 -> -1 (ties away from zero)]; max: [2, 2].
/// qsoftmax over [2, -4] (scale 0.5): e = [2^20, round(2^20 * e^-3) =
///   52206]; 256 * e / sum = [243.86, 12.14] -> [244, 12] - 128.
// CHECK-DAG: lin: f32[1x2] = 0.25 0
// CHECK-DAG: add: i8[1x2] = 4 -8
// CHECK-DAG: lut: i8[1x2] = 21 -39
// CHECK-DAG: avg: i8[1x1x1x2] = 2 -1
// CHECK-DAG: max: i8[1x1x1x2] = 2 2
// CHECK-DAG: sm: i8[1x2] = 116 -116
/// Rounding: acc = 2*1 - 4*0 + 3 = 5 times 2^30 / 2^32 = 1.25 -> 1 once;
/// TFLite's doubling high multiply gives 5 * 2^30 / 2^31 = 2.5 -> 3 (half
/// up), then 3 / 2 = 1.5 -> 2 (half away from zero).
// CHECK-DAG: once: i8[1x1] = 1
// CHECK-DAG: tflite: i8[1x1] = 2
!x = !quant.uniform<i8:f32, 0.5>
!y = !quant.uniform<i8:f32, 0.25:-118>
!p = !quant.uniform<i8:f32, 0.00390625:-128>
func.func @ints(%arg0: tensor<1x2xf32> {lowbit.name = "x"},
                %arg1: tensor<1x1x1x2xf32> {lowbit.name = "p"})
    -> (tensor<1x2xf32> {lowbit.name = "lin"}, tensor<1x2xi8> {lowbit.name = "add"},
        tensor<1x2xi8> {lowbit.name = "lut"}, tensor<1x1x1x2xi8> {lowbit.name = "avg"},
        tensor<1x1x1x2xi8> {lowbit.name = "max"}, tensor<1x2xi8> {lowbit.name = "sm"},
        tensor<1x1xi8> {lowbit.name = "once"}, tensor<1x1xi8> {lowbit.name = "tflite"}) {
  %w = arith.constant dense<[[1, 2], [3, 4]]> : tensor<2x2xi8>
  %b = arith.constant dense<[8, -8]> : tensor<2xi32>
  %m = arith.constant dense<1073741824> : tensor<2xi32>
  %s = arith.constant dense<[31, 32]> : tensor<2xi32>
  %q = lowbit.quantize %arg0 : tensor<1x2xf32> -> tensor<1x2x!x>
  %l = lowbit.qlinear %q, %w, %b, %m, %s {clamp_min = -118 : i64, clamp_max = 127 : i64}
      : (tensor<1x2x!x>, tensor<2x2xi8>, tensor<2xi32>, tensor<2xi32>, tensor<2xi32>) -> tensor<1x2x!y>
  %lin = lowbit.dequantize %l : tensor<1x2x!y> -> tensor<1x2xf32>

  %a = lowbit.qadd %q, %q {lhs_multiplier = 1610612736 : i64, rhs_multiplier = 536870912 : i64,
      shift = 30 : i64, clamp_min = -128 : i64, clamp_max = 127 : i64}
      : tensor<1x2x!x>, tensor<1x2x!x> -> tensor<1x2x!x>
  %ai = lowbit.onnx_node "Identity"(%a) opset 13 : (tensor<1x2x!x>) -> tensor<1x2xi8>

  %t = arith.constant dense<[-128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -119, -109, -99, -89, -79, -69, -59, -49, -39, -29, -19, -9, 1, 11, 21, 31, 41, 51, 61, 71, 81, 91, 101, 111, 121, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127]> : tensor<256xi8>
  %u = lowbit.qlut %q, %t : (tensor<1x2x!x>, tensor<256xi8>) -> tensor<1x2x!x>
  %ui = lowbit.onnx_node "Identity"(%u) opset 13 : (tensor<1x2x!x>) -> tensor<1x2xi8>

  %pq = lowbit.quantize %arg1 : tensor<1x1x1x2xf32> -> tensor<1x1x1x2x!x>
  %av = lowbit.qpool2d %pq {kind = "avg", kernel = array<i64: 1, 2>, padding = array<i64: 0, 1, 0, 0>,
      multiplier = 1073741824 : i64, shift = 30 : i64, clamp_min = -128 : i64, clamp_max = 127 : i64}
      : tensor<1x1x1x2x!x> -> tensor<1x1x1x2x!x>
  %avi = lowbit.onnx_node "Identity"(%av) opset 13 : (tensor<1x1x1x2x!x>) -> tensor<1x1x1x2xi8>
  %mx = lowbit.qpool2d %pq {kind = "max", kernel = array<i64: 1, 2>, padding = array<i64: 0, 1, 0, 0>,
      clamp_min = -128 : i64, clamp_max = 127 : i64}
      : tensor<1x1x1x2x!x> -> tensor<1x1x1x2x!x>
  %mxi = lowbit.onnx_node "Identity"(%mx) opset 13 : (tensor<1x1x1x2x!x>) -> tensor<1x1x1x2xi8>

  %e = arith.constant dense<[1048576, 635993, 385750, 233969, 141909, 86072, 52206, 31664, 19205, 11649, 7065, 4285, 2599, 1576, 956, 580, 352, 213, 129, 78, 48, 29, 18, 11, 6, 4, 2, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]> : tensor<256xi32>
  %sm = lowbit.qsoftmax %q, %e {multiplier = 1073741824 : i64, shift = 22 : i64,
      clamp_min = -128 : i64, clamp_max = 127 : i64}
      : (tensor<1x2x!x>, tensor<256xi32>) -> tensor<1x2x!p>
  %smi = lowbit.onnx_node "Identity"(%sm) opset 13 : (tensor<1x2x!p>) -> tensor<1x2xi8>

  %w1 = arith.constant dense<[[1, 0]]> : tensor<1x2xi8>
  %b1 = arith.constant dense<3> : tensor<1xi32>
  %m1 = arith.constant dense<1073741824> : tensor<1xi32>
  %s1 = arith.constant dense<32> : tensor<1xi32>
  %r1 = lowbit.qlinear %q, %w1, %b1, %m1, %s1 {clamp_min = -128 : i64, clamp_max = 127 : i64}
      : (tensor<1x2x!x>, tensor<1x2xi8>, tensor<1xi32>, tensor<1xi32>, tensor<1xi32>) -> tensor<1x1x!quant.uniform<i8:f32, 1.0>>
  %r1i = lowbit.onnx_node "Identity"(%r1) opset 13 : (tensor<1x1x!quant.uniform<i8:f32, 1.0>>) -> tensor<1x1xi8>
  %r2 = lowbit.qlinear %q, %w1, %b1, %m1, %s1 {clamp_min = -128 : i64, clamp_max = 127 : i64,
      rounding = #lowbit.rounding<doubling_high_mul>}
      : (tensor<1x2x!x>, tensor<1x2xi8>, tensor<1xi32>, tensor<1xi32>, tensor<1xi32>) -> tensor<1x1x!quant.uniform<i8:f32, 1.0>>
  %r2i = lowbit.onnx_node "Identity"(%r2) opset 13 : (tensor<1x1x!quant.uniform<i8:f32, 1.0>>) -> tensor<1x1xi8>
  return %lin, %ai, %ui, %avi, %mxi, %smi, %r1i, %r2i : tensor<1x2xf32>, tensor<1x2xi8>, tensor<1x2xi8>,
      tensor<1x1x1x2xi8>, tensor<1x1x1x2xi8>, tensor<1x2xi8>, tensor<1x1xi8>, tensor<1x1xi8>
}
