// RUN: lowbit-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(lowbit-assign-precision{budget-bits=5}))' | FileCheck %s --check-prefix=ALL4
// RUN: lowbit-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(lowbit-assign-precision{budget-bits=6.4}))' | FileCheck %s --check-prefix=ONE8
// RUN: lowbit-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(lowbit-assign-precision{budget-bytes=240}))' | FileCheck %s --check-prefix=ONE8
// RUN: lowbit-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(lowbit-assign-precision{budget-bits=15}))' | FileCheck %s --check-prefix=FLOAT
// RUN: lowbit-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(lowbit-assign-precision{budget-bits=15},lowbit-quantize-weights{format=none}))' | FileCheck %s --check-prefix=PACKED
// RUN: not lowbit-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(lowbit-assign-precision{budget-bits=4}))' 2>&1 | FileCheck %s --check-prefix=INFEASIBLE
// RUN: not lowbit-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(lowbit-assign-precision{budget-bytes=100}))' 2>&1 | FileCheck %s --check-prefix=INFEASIBLE-BYTES

/// Three layers of 100 weights. Each int4 -> int8 upgrade costs 400 bits:
/// it buys 0.99 of predicted loss in %a and 0.099 in %b; keeping %c in f32
/// costs 2700 bits and buys 5.
// ALL4: lowbit.linear {{.*}}lowbit.weight_scheme = #lowbit.scheme<int4, per_channel(axis = 0)
// ALL4: lowbit.linear {{.*}}lowbit.weight_scheme = #lowbit.scheme<int4, per_channel(axis = 0)
// ALL4: lowbit.linear {{.*}}lowbit.weight_scheme = #lowbit.scheme<int4, group(axis = 1, size = 5)
// ONE8: lowbit.linear {{.*}}lowbit.weight_scheme = #lowbit.scheme<int8, per_channel(axis = 0)
// ONE8: lowbit.linear {{.*}}lowbit.weight_scheme = #lowbit.scheme<int4, per_channel(axis = 0)
// ONE8: lowbit.linear {{.*}}lowbit.weight_scheme = #lowbit.scheme<int4, group(axis = 1, size = 5)
// FLOAT: lowbit.linear {{.*}}lowbit.weight_scheme = #lowbit.scheme<int4
// FLOAT: lowbit.linear {{.*}}lowbit.weight_scheme = #lowbit.scheme<int4
// FLOAT: lowbit.linear {{.*}}lowbit.weight_float
// FLOAT-NOT: lowbit.candidates
// PACKED-COUNT-2: lowbit.qweight {{.*}}int4, per_channel
// PACKED-NOT: lowbit.qweight
// PACKED-NOT: lowbit.weight_scheme
// INFEASIBLE: error: lowbit-assign-precision: budget-bits = 4 is infeasible: the allowed formats need at least 5 bits per weight (3 layers, 300 weights)
// INFEASIBLE-BYTES: error: lowbit-assign-precision: budget-bytes = 100 is infeasible: the allowed formats need at least 188 bytes (3 layers, 300 weights)
func.func @three(%x: tensor<2x10xf32>) -> tensor<2x10xf32> {
  %w = arith.constant dense<0.5> : tensor<10x10xf32>
  %a = lowbit.linear %x, %w {lowbit.candidates = [
      {format = "int4", bits = 500.0, sensitivity = 1.0},
      {format = "int8", bits = 900.0, sensitivity = 0.01}]}
      : (tensor<2x10xf32>, tensor<10x10xf32>) -> tensor<2x10xf32>
  %b = lowbit.linear %a, %w {lowbit.candidates = [
      {format = "int4", bits = 500.0, sensitivity = 0.1},
      {format = "int8", bits = 900.0, sensitivity = 0.001}]}
      : (tensor<2x10xf32>, tensor<10x10xf32>) -> tensor<2x10xf32>
  %c = lowbit.linear %b, %w {lowbit.candidates = [
      {format = "f32", bits = 3200.0, sensitivity = 0.0},
      {format = "int4/g5", bits = 500.0, sensitivity = 5.0}]}
      : (tensor<2x10xf32>, tensor<10x10xf32>) -> tensor<2x10xf32>
  return %c : tensor<2x10xf32>
}

