// RUN: rm -rf %t && mkdir -p %t
// RUN: %lowbit_python -c "import numpy as np; np.save('%t/x.npy', np.array([[1, 2, 3, 4], [-1, 0.5, 0.25, 2]], np.float32)); np.savez('%t/calib.npz', x=np.random.RandomState(0).randn(8, 4).astype(np.float32))"
// RUN: lowbit-opt %s --pass-pipeline='builtin.module(func.func(lowbit-quantize-weights{format=int2 lowrank-rank=1 lowrank-bits=8}))' | FileCheck %s
// RUN: lowbit-opt %s --pass-pipeline='builtin.module(func.func(lowbit-quantize-weights{format=int8 lowrank-rank=1 lowrank-method=svdquant}))' | FileCheck %s --check-prefix=AUTO
// RUN: lowbit-opt %s --pass-pipeline='builtin.module(func.func(lowbit-quantize-weights{format=int2 lowrank-rank=1}))' | FileCheck %s --check-prefix=AUTO8
// RUN: lowbit-opt %s --pass-pipeline='builtin.module(func.func(lowbit-quantize-weights{format=int2}))' -o %t/none.mlir
// RUN: lowbit run %t/none.mlir -i x=%t/x.npy --print | FileCheck %s --check-prefix=NONE
/// A full-rank branch (rank 2 = min(N, K)) in f32 gives back the float
/// layer whatever int2 did, for each method.
// RUN: lowbit-opt %s --pass-pipeline='builtin.module(func.func(lowbit-quantize-weights{format=int2 lowrank-rank=2 lowrank-bits=32 lowrank-method=svd}))' -o %t/svd.mlir
// RUN: lowbit run %t/svd.mlir -i x=%t/x.npy --print | FileCheck %s --check-prefix=FLOAT
// RUN: lowbit-opt %s --pass-pipeline='builtin.module(func.func(lowbit-quantize-weights{format=int2 lowrank-rank=2 lowrank-bits=32 lowrank-method=svdquant}))' -o %t/svdquant.mlir
// RUN: lowbit run %t/svdquant.mlir -i x=%t/x.npy --print | FileCheck %s --check-prefix=FLOAT
// RUN: lowbit-opt %s --pass-pipeline='builtin.module(func.func(lowbit-calibrate{calib=%t/calib.npz},lowbit-quantize-weights{format=int2 lowrank-rank=2 lowrank-bits=32 lowrank-method=eora}))' -o %t/eora.mlir
// RUN: lowbit run %t/eora.mlir -i x=%t/x.npy --print | FileCheck %s --check-prefix=FLOAT
// RUN: not lowbit-opt %s --pass-pipeline='builtin.module(func.func(lowbit-quantize-weights{format=int2 lowrank-rank=2 lowrank-method=eora}))' 2>&1 | FileCheck %s --check-prefix=NOCALIB
// RUN: not lowbit-opt %s --pass-pipeline='builtin.module(func.func(lowbit-quantize-weights{format=int4 lowrank-rank=2 lowrank-method=qr}))' 2>&1 | FileCheck %s --check-prefix=BADMETHOD

/// Rank 1 with int8 factors: L [2, 1] and R [1, 4] are lowbit.qweights with
/// one scale per row, beside the int2 base.
// CHECK-LABEL: func.func @fc(
// CHECK: %[[Q:.*]] = lowbit.qweight {{.*}}#lowbit.scheme<int2, per_channel(axis = 0), symmetric, scale = f32>{{.*}} -> tensor<2x4xf32>
// CHECK: %[[L:.*]] = lowbit.qweight {{.*}}#lowbit.scheme<int8, per_channel(axis = 0), symmetric, scale = f32>{{.*}} : (tensor<2xi8>, tensor<2xf32>) -> tensor<2x1xf32>
// CHECK: %[[R:.*]] = lowbit.qweight {{.*}}#lowbit.scheme<int8, per_channel(axis = 0), symmetric, scale = f32>{{.*}} : (tensor<4xi8>, tensor<1xf32>) -> tensor<1x4xf32>
// CHECK: %[[W:.*]] = lowbit.lowrank %[[Q]], %[[L]], %[[R]] : tensor<2x4xf32>, tensor<2x1xf32>, tensor<1x4xf32>
// CHECK: lowbit.linear %{{.*}}, %[[W]]
/// Auto storage (lowrank-bits=0): SVDQuant's order with an int8 residual
/// puts W's top singular part in the branch, whose int8 rounding would add
/// far more than 10 % to the residual's tiny int8 error, so it stays f32;
/// compensating int2's large error, int8 factors are kept.
// AUTO-LABEL: func.func @fc(
// AUTO: %[[L:.*]] = arith.constant dense<{{.*}}> : tensor<2x1xf32>
// AUTO: %[[R:.*]] = arith.constant dense<{{.*}}> : tensor<1x4xf32>
// AUTO: lowbit.lowrank %{{.*}}, %[[L]], %[[R]]
// AUTO8-LABEL: func.func @fc(
// AUTO8: lowbit.qweight {{.*}}#lowbit.scheme<int8, per_channel(axis = 0), symmetric, scale = f32>{{.*}} -> tensor<2x1xf32>
/// x·Wᵀ in float: [1 - 0.6 + 1.65 + 0.8, 0.1 + 1.8 - 2.1 + 1.4] = [2.85, 1.2]
/// and [-1 - 0.15 + 0.1375 + 0.4, -0.1 + 0.45 - 0.175 + 0.7] = [-0.6125, 0.875].
// FLOAT: y: f32[2x2] = 2.85 1.2 -0.6125 0.875
/// int2 alone (codes -1..1, scale 0.775 and 0.81) is far from it.
// NONE: y: f32[2x2] = 3.1 -0.81 -0.58125 0.2025
// NOCALIB: lowbit-quantize-weights{lowrank-method=eora} needs calibration data
// BADMETHOD: lowbit-quantize-weights: lowrank-rank must be in [0, 256], lowrank-method svd, eora or svdquant, lowrank-bits 0 (auto), 8 or 32; got rank 2, method 'qr', bits 0
func.func @fc(%arg0: tensor<2x4xf32> {lowbit.name = "x"}) -> (tensor<2x2xf32> {lowbit.name = "y"}) {
  %w = arith.constant dense<[[1.0, -0.3, 0.55, 0.2], [0.1, 0.9, -0.7, 0.35]]> : tensor<2x4xf32>
  %y = lowbit.linear %arg0, %w : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x2xf32>
  return %y : tensor<2x2xf32>
}
