// REQUIRES: onnx-python
// RUN: rm -rf %t && mkdir -p %t && %lowbit_python %S/Inputs/make_calib.py %t
// RUN: lowbit-opt %S/Inputs/two-layer.mlir --pass-pipeline='builtin.module(func.func(lowbit-calibrate{calib=%t/calib.npz},lowbit-sensitivity{formats=int2,int2+r2,int2+r8}))' 2>/dev/null | FileCheck %s
// RUN: lowbit-opt %S/Inputs/two-layer.mlir --pass-pipeline='builtin.module(func.func(lowbit-calibrate{calib=%t/calib.npz},lowbit-sensitivity{formats=int2,int2+r2,int2+r8},lowbit-assign-precision{budget-bits=10.5 formats=int2,int2+r2,int2+r8},lowbit-quantize-weights{format=none}))' 2>/dev/null | FileCheck %s --check-prefix=ILP
// RUN: not lowbit-opt %S/Inputs/two-layer.mlir --pass-pipeline='builtin.module(func.func(lowbit-calibrate{calib=%t/calib.npz},lowbit-sensitivity{formats=int2+r0}))' 2>&1 | FileCheck %s --check-prefix=BAD

/// (format, rank) candidates: an EoRA branch of rank r beside the int2
/// codes. Bits: int2 is 8x8x2 + 8 f32 scales = 384; rank 2 adds int8
/// factors 2 x (8 + 8) x 8 = 256 bits and 8 + 2 f32 row scales = 320; rank
/// 8 (full) keeps f32 factors (int8 would add far more than 10 % to the
/// error left, which is nothing) = 8 x 16 x 32 = 4096, and its error is 0
/// up to rounding. The branch cuts the int2 error 3.4x (fc0) and 6.3x (fc1).
// CHECK: lowbit.linear {{.*}}lowbit.sensitivity = {candidates = [{bits = 3.840000e+02 : f64, format = "int2", output_error = 1.474{{[0-9]*}} : f64, {{.*}}}, {bits = 9.600000e+02 : f64, format = "int2+r2", output_error = 0.427{{[0-9]*}} : f64, {{.*}}}, {bits = 4.480000e+03 : f64, format = "int2+r8", output_error = {{[0-9.]+}}E-1{{[4-9]}} : f64
// CHECK: lowbit.linear {{.*}}{bits = 9.600000e+02 : f64, format = "int2+r2", output_error = 0.516{{[0-9]*}} : f64
/// At 10.5 bits per weight (one layer can take the rank-2 branch), the
/// integer program gives it to fc1, whose predicted loss falls most; the
/// weight quantizer builds it (int8 factors [8, 2] and [2, 8]).
// ILP: %[[W0:.*]] = lowbit.qweight {{.*}}int2, per_channel
// ILP-NOT: lowbit.lowrank
// ILP: lowbit.linear %arg0, %[[W0]]
// ILP: %[[Q:.*]] = lowbit.qweight {{.*}}int2, per_channel
// ILP: %[[L:.*]] = lowbit.qweight {{.*}}int8, per_channel{{.*}} -> tensor<8x2xf32>
// ILP: %[[R:.*]] = lowbit.qweight {{.*}}int8, per_channel{{.*}} -> tensor<2x8xf32>
// ILP: %[[W1:.*]] = lowbit.lowrank %[[Q]], %[[L]], %[[R]]
// ILP: lowbit.linear %{{.*}}, %[[W1]]
// ILP-NOT: lowbit.weight_lowrank
// BAD: error: lowbit-sensitivity: 'int2+r0' is not a weight format
