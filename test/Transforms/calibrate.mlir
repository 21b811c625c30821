// REQUIRES: onnx-python
// RUN: rm -rf %t && mkdir -p %t && %lowbit_python %S/Inputs/make_calib.py %t
// RUN: lowbit-opt %S/Inputs/two-layer.mlir --pass-pipeline='builtin.module(func.func(lowbit-calibrate{calib=%t/calib.npz}))' | FileCheck %s
// RUN: lowbit-opt %S/Inputs/two-layer.mlir --pass-pipeline='builtin.module(func.func(lowbit-calibrate{calib=%t/calib.npz max-samples=8}))' | FileCheck %s --check-prefix=MAX
// RUN: lowbit-opt %S/Inputs/two-layer.mlir --pass-pipeline='builtin.module(func.func(lowbit-calibrate{calib=%t/three.npz}))' | FileCheck %s --check-prefix=FEW
// RUN: not lowbit-opt %S/Inputs/two-layer.mlir --pass-pipeline='builtin.module(func.func(lowbit-calibrate{calib=%t/wrong.npz}))' 2>&1 | FileCheck %s --check-prefix=NAME
// RUN: not lowbit-opt %S/Inputs/two-layer.mlir --pass-pipeline='builtin.module(func.func(lowbit-calibrate))' 2>&1 | FileCheck %s --check-prefix=NONE
// RUN: not lowbit-opt %S/Inputs/two-layer.mlir --pass-pipeline='builtin.module(func.func(lowbit-calibrate{calib=%t/missing.npz}))' 2>&1 | FileCheck %s --check-prefix=MISSING

/// 12 samples at the compiled batch of 4: three batches, recorded on the
/// function so that later passes (or a later lowbit-opt run) reload them.
// CHECK: func.func @two({{.*}} attributes {lowbit.calibration = {batches = 3 : i64, max_samples = 0 : i64, samples = 12 : i64, source = "{{.*}}calib.npz"}}
// MAX: lowbit.calibration = {batches = 2 : i64, max_samples = 8 : i64, samples = 8 : i64
/// Fewer samples than the batch: one batch that repeats them; the three
/// distinct samples are what is reported.
// FEW: lowbit.calibration = {batches = 1 : i64, max_samples = 0 : i64, samples = 3 : i64
// NAME: error: {{.*}}wrong.npz: no array for model input 'x' (the file has: image, mask)
// NONE: error: lowbit-calibrate: calib (a .npz file or a folder of NAME.npy) is required
// MISSING: error: {{.*}}missing.npz
