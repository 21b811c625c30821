// RUN: rm -rf %t && mkdir -p %t
// RUN: %lowbit_python -c "import numpy as np; np.save('%t/x.npy', np.array([[1.0, 2.0], [-1.0, 0.5]], np.float32))"
// RUN: lowbit run %s -i x=%t/x.npy --print | FileCheck %s
/// The same model compiled for x86, the adapter kept as a branch
/// (lowbit-merge-lora{keep-low-rank}): both layers then run the fused
/// low-rank GEMM and give the interpreter's numbers.
// RUN: lowbit-opt %s --pass-pipeline='builtin.module(func.func(lowbit-merge-lora{keep-low-rank=true}))' -o %t/kept.mlir
// RUN: FileCheck %s --check-prefix=KEPT < %t/kept.mlir
// RUN: lowbit compile %t/kept.mlir -o %t/pkg
// RUN: lowbit run %t/pkg -i x=%t/x.npy --print | FileCheck %s
// RUN: lowbit run %t/pkg -i x=%t/x.npy --print --cpu avx2 | FileCheck %s
// RUN: lowbit run %t/pkg -i x=%t/x.npy --print --cpu reference | FileCheck %s
// RUN: grep -c 'lowbit_k_sgemm_lowrank(ex' %t/pkg/kept.c | FileCheck %s --check-prefix=CALLS

/// W = I, L = [[1], [2]], R = [[3, 4]]: lowrank(W, L, R) = W + L·R =
/// [[4, 4], [6, 9]], so x = [1, 2] gives [12, 24] and [-1, 0.5] gives
/// [-2, -1.5]. lora(W, A = R, B = L, alpha = 2) with r = 1 is W + 2·B·A =
/// [[7, 8], [12, 17]]: [23, 46] and [-3, -3.5].
// CHECK-DAG: lowrank: f32[2x2] = 12 24 -2 -1.5
// CHECK-DAG: lora: f32[2x2] = 23 46 -3 -3.5
// KEPT: %[[SCALED:.*]] = arith.constant {{.*}}2.000000e+00], [4.000000e+00]]> : tensor<2x1xf32>
// KEPT: lowbit.lowrank %{{.*}}, %[[SCALED]], %{{.*}} : tensor<2x2xf32>, tensor<2x1xf32>, tensor<1x2xf32>
// KEPT-NOT: lowbit.lora
// CALLS: 2
func.func @adapted(%arg0: tensor<2x2xf32> {lowbit.name = "x"})
    -> (tensor<2x2xf32> {lowbit.name = "lowrank"},
        tensor<2x2xf32> {lowbit.name = "lora"}) {
  %w = arith.constant dense<[[1.0, 0.0], [0.0, 1.0]]> : tensor<2x2xf32>
  %l = arith.constant dense<[[1.0], [2.0]]> : tensor<2x1xf32>
  %r = arith.constant dense<[[3.0, 4.0]]> : tensor<1x2xf32>
  %w1 = lowbit.lowrank %w, %l, %r : tensor<2x2xf32>, tensor<2x1xf32>, tensor<1x2xf32>
  %y1 = lowbit.linear %arg0, %w1 : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
  %w2 = lowbit.lora %w, %r, %l {alpha = 2.0 : f64} : tensor<2x2xf32>, tensor<1x2xf32>, tensor<2x1xf32>
  %y2 = lowbit.linear %arg0, %w2 : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
  return %y1, %y2 : tensor<2x2xf32>, tensor<2x2xf32>
}
