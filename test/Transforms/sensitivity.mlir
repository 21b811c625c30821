// REQUIRES: onnx-python
// RUN: rm -rf %t && mkdir -p %t && %lowbit_python %S/Inputs/make_calib.py %t
// RUN: lowbit-opt %S/Inputs/two-layer.mlir --pass-pipeline='builtin.module(func.func(lowbit-calibrate{calib=%t/calib.npz},lowbit-sensitivity{formats=int4,int8,f32}))' 2>/dev/null > %t/one-run.mlir
// RUN: FileCheck %s < %t/one-run.mlir
// RUN: lowbit-opt %S/Inputs/two-layer.mlir --pass-pipeline='builtin.module(func.func(lowbit-calibrate{calib=%t/calib.npz}))' | lowbit-opt --pass-pipeline='builtin.module(func.func(lowbit-sensitivity{formats=int4,int8,f32}))' 2>/dev/null > %t/two-runs.mlir
// RUN: grep lowbit.linear %t/one-run.mlir > %t/one-run.layers && grep lowbit.linear %t/two-runs.mlir > %t/two-runs.layers
// RUN: diff %t/one-run.layers %t/two-runs.layers
// RUN: lowbit-opt %S/Inputs/two-layer.mlir --pass-pipeline='builtin.module(func.func(lowbit-calibrate{calib=%t/calib.npz},lowbit-sensitivity{formats=int4/g4 scale-type=f16}))' 2>/dev/null | FileCheck %s --check-prefix=GROUP
// RUN: not lowbit-opt %S/Inputs/two-layer.mlir --pass-pipeline='builtin.module(func.func(lowbit-sensitivity))' 2>&1 | FileCheck %s --check-prefix=NODATA
// RUN: not lowbit-opt %S/Inputs/two-layer.mlir --pass-pipeline='builtin.module(func.func(lowbit-calibrate{calib=%t/calib.npz},lowbit-sensitivity{formats=int9}))' 2>&1 | FileCheck %s --check-prefix=FORMAT

/// Per layer and candidate: storage bits (8x8 codes + 8 f32 scales), the
/// output error tr(dW H dW^T) and the predicted loss; f32 costs nothing.
/// The values are the analysis' own (a regression guard); the candidates'
/// order and the zero for f32 are the contract. Reloading the calibration
/// in a second lowbit-opt run gives the same numbers (the diff above).
// CHECK: lowbit.linear {{.*}}lowbit.sensitivity = {candidates = [{bits = 5.120000e+02 : f64, format = "int4", output_error = 0.0617{{[0-9]*}} : f64, sensitivity = {{.*}}}, {bits = 7.680000e+02 : f64, format = "int8", output_error = 2.079{{[0-9]*}}E-4 : f64, sensitivity = {{.*}}}, {bits = 2.048000e+03 : f64, format = "f32", output_error = 0.000000e+00 : f64, sensitivity = 0.000000e+00 : f64}], gain = {{.*}}, weight_energy = 14.11{{[0-9]*}} : f64}}
// CHECK: lowbit.linear {{.*}}lowbit.sensitivity = {candidates = [{bits = 5.120000e+02 : f64, format = "int4", output_error = 0.108{{[0-9]*}} : f64
/// Groups of 4 along K with f16 scales: 256 code bits + 16 x 16 scale bits.
// GROUP: lowbit.sensitivity = {candidates = [{bits = 5.120000e+02 : f64, format = "int4/g4"
// NODATA: error: lowbit-sensitivity needs calibration data: run lowbit-calibrate first (lowbit compile: add --calib FILE.npz)
// FORMAT: error: lowbit-sensitivity: 'int9' is not a weight format
