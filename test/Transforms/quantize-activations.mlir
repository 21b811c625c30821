// REQUIRES: onnx-python
// RUN: rm -rf %t && mkdir -p %t
// RUN: %lowbit_python -c "import numpy as np; np.savez('%t/calib.npz', x=np.linspace(-1, 2, 24, dtype=np.float32).reshape(8, 3))"
// RUN: lowbit-opt %s --pass-pipeline='builtin.module(func.func(lowbit-quantize{activations=int8 observer=minmax calib=%t/calib.npz}))' 2>/dev/null | FileCheck %s
// RUN: lowbit-opt %s --pass-pipeline='builtin.module(func.func(lowbit-calibrate{calib=%t/calib.npz},lowbit-quantize-activations{weights=int8 observer=minmax}))' 2>/dev/null | FileCheck %s --check-prefix=PASS
// RUN: not lowbit-opt %s --pass-pipeline='builtin.module(func.func(lowbit-quantize{activations=int8}))' 2>&1 | FileCheck %s --check-prefix=NOCALIB
// RUN: not lowbit-opt %s --pass-pipeline='builtin.module(func.func(lowbit-quantize-activations{weights=int8}))' 2>&1 | FileCheck %s --check-prefix=NODATA

/// W8A8 at the IR level: --activations int8 implies int8 per-channel
/// weights, and the calibrated range of %x (min/max observer over 8 samples
/// of linspace(-1, 2) in two batches of 4) gives the u8 parameters
/// scale = 3 / 255, zero point = round(1 / scale) = 85. Both layers read %x:
/// they share one lowbit.quantize, each gets its own lowbit.dequantize (which
/// the x86 target fuses into the layer's integer kernel).
// CHECK-LABEL: func.func @shared_input(
// CHECK-SAME:      %[[X:[a-zA-Z0-9_]+]]: tensor<4x3xf32>
// CHECK:         %[[Q:.*]] = lowbit.quantize %[[X]] : tensor<4x3xf32> -> tensor<4x3x!quant.uniform<u8:f32, 0.01176470588{{[0-9]*}}:85>>
// CHECK-NOT:     lowbit.quantize
// CHECK:         %[[D0:.*]] = lowbit.dequantize %[[Q]]
// CHECK:         %[[W0:.*]] = lowbit.qweight {{.*}}#lowbit.scheme<int8, per_channel(axis = 0), symmetric, scale = f32>
// CHECK:         lowbit.linear %[[D0]], %[[W0]]
// CHECK:         %[[D1:.*]] = lowbit.dequantize %[[Q]]
// CHECK:         %[[W1:.*]] = lowbit.qweight {{.*}}#lowbit.scheme<int8, per_channel(axis = 0)
// CHECK:         lowbit.linear %[[D1]], %[[W1]]
// CHECK-NOT:     lowbit.calibration
// NOCALIB: error: --activations int8 needs calibration data: add --calib FILE.npz

/// The pass alone, before lowbit-quantize-weights: weights still f32, the
/// calibration's origin recorded on the function.
// PASS-LABEL: func.func @shared_input(
// PASS-SAME:      lowbit.calibration = {batches = 2 : i64, max_samples = 0 : i64, samples = 8 : i64, source = "{{.*}}calib.npz"}
// PASS:         %[[Q:.*]] = lowbit.quantize %{{.*}} -> tensor<4x3x!quant.uniform<u8:f32, 0.01176470588{{[0-9]*}}:85>>
// PASS:         %[[D0:.*]] = lowbit.dequantize %[[Q]]
// PASS:         lowbit.linear %[[D0]], %{{.*}} : (tensor<4x3xf32>, tensor<2x3xf32>)
// PASS:         %[[D1:.*]] = lowbit.dequantize %[[Q]]
// PASS:         lowbit.linear %[[D1]]
// PASS-NOT:     lowbit.qweight
// NODATA: error: lowbit-quantize-activations needs calibration data: run lowbit-calibrate first (lowbit compile: add --calib FILE.npz)
func.func @shared_input(%x: tensor<4x3xf32> {lowbit.name = "x"}) -> (tensor<4x2xf32>, tensor<4x2xf32>) {
  %w0 = arith.constant dense<[[1.0, -1.0, 0.5], [2.0, 0.0, -2.0]]> : tensor<2x3xf32>
  %w1 = arith.constant dense<[[0.5, 0.25, 1.0], [-1.0, 3.0, 0.0]]> : tensor<2x3xf32>
  %q = lowbit.linear %x, %w0 : (tensor<4x3xf32>, tensor<2x3xf32>) -> tensor<4x2xf32> loc("q")
  %k = lowbit.linear %x, %w1 : (tensor<4x3xf32>, tensor<2x3xf32>) -> tensor<4x2xf32> loc("k")
  return %q, %k : tensor<4x2xf32>, tensor<4x2xf32>
}
