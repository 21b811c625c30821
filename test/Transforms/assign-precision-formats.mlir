// REQUIRES: onnx-python
// RUN: rm -rf %t && mkdir -p %t && %lowbit_python %S/Inputs/make_calib.py %t
// RUN: lowbit-opt %S/Inputs/two-layer.mlir --pass-pipeline='builtin.module(func.func(lowbit-calibrate{calib=%t/calib.npz},lowbit-sensitivity{formats=int4,int8,f32},lowbit-assign-precision{formats=int4,int8 budget-bits=10}))' 2>/dev/null | FileCheck %s
// RUN: lowbit-opt %S/Inputs/two-layer.mlir --pass-pipeline='builtin.module(func.func(lowbit-calibrate{calib=%t/calib.npz},lowbit-sensitivity{formats=int4,int8,f32},lowbit-assign-precision{formats=int4,int8,f32 keep=fc1=f32 budget-bits=20}))' 2>/dev/null | FileCheck %s --check-prefix=PIN
// RUN: not lowbit-opt %S/Inputs/two-layer.mlir --pass-pipeline='builtin.module(func.func(lowbit-calibrate{calib=%t/calib.npz},lowbit-sensitivity{formats=int4,int8,f32},lowbit-assign-precision{formats=int4,int8 budget-bits=7}))' 2>&1 | FileCheck %s --check-prefix=BITS
// RUN: not lowbit-opt %S/Inputs/two-layer.mlir --pass-pipeline='builtin.module(func.func(lowbit-calibrate{calib=%t/calib.npz},lowbit-sensitivity{formats=int4,int8,f32},lowbit-assign-precision{formats=int4,int8 model-bytes=100}))' 2>&1 | FileCheck %s --check-prefix=BYTES
// RUN: not lowbit-opt %S/Inputs/two-layer.mlir --pass-pipeline='builtin.module(func.func(lowbit-assign-precision{formats=int4 budget-bits=8}))' 2>&1 | FileCheck %s --check-prefix=NOSENS
// RUN: lowbit-opt %S/Inputs/two-layer.mlir --pass-pipeline='builtin.module(func.func(lowbit-assign-precision{weights=int4 group-size=4 keep=fc0=f32}))' | FileCheck %s --check-prefix=UNIFORM
// RUN: lowbit-opt %S/Inputs/two-layer.mlir --pass-pipeline='builtin.module(func.func(lowbit-assign-precision{weights=int4 keep=nothing=f32}))' 2>&1 | FileCheck %s --check-prefix=UNMATCHED

/// In the compile pipeline the candidates come from lowbit-sensitivity.
/// int4 costs 8 bits per weight here (8x8 codes + 8 f32 scales), int8 12:
/// a 10-bit budget buys one int8 layer, and it goes to fc1, whose int4
/// predicted loss (0.0030) is the larger (fc0: 0.0024).
// CHECK: lowbit.quant_log = {budget = {bits_per_weight = 1.000000e+01 : f64}, mode = "mixed precision (ILP)", sensitivity_seconds = {{.*}}, solver = {name = "COIN-OR CBC", seconds = {{.*}}}}}
// CHECK: lowbit.linear {{.*}}lowbit.weight_scheme = #lowbit.scheme<int4, per_channel(axis = 0)
// CHECK-NOT: lowbit.candidates
// CHECK: lowbit.linear {{.*}}lowbit.weight_scheme = #lowbit.scheme<int8, per_channel(axis = 0)
/// A pin leaves its layer one candidate: fc1 stays f32, fc0 takes the
/// rest of the budget (20 bits on average: 2048 + 512 over 128 weights).
// PIN: lowbit.linear {{.*}}lowbit.weight_scheme = #lowbit.scheme<int4
// PIN: lowbit.linear {{.*}}lowbit.weight_float
// BITS: error: --budget-bits 7 is infeasible: with formats int4,int8 the smallest feasible average is 8.0000 bits per weight
// BYTES: error: --budget-size 100 bytes is infeasible: with formats int4,int8 the smallest feasible model is 128 bytes (layer weights 128 + other constants 0)
// NOSENS: lowbit-assign-precision: formats needs the layer's lowbit.sensitivity: run lowbit-sensitivity first
/// Without a budget: the pins, and one scheme for every other layer.
// UNIFORM: lowbit.linear {{.*}}lowbit.weight_float
// UNIFORM: lowbit.linear {{.*}}lowbit.weight_scheme = #lowbit.scheme<int4, group(axis = 1, size = 4), symmetric, scale = f32>
// UNMATCHED: warning: --keep nothing matches no layer
