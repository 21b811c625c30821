// RUN: not lowbit-opt %s --pass-pipeline='builtin.module(func.func(convert-onnx-to-lowbit))' 2>&1 | FileCheck %s
// RUN: rm -rf %t && mkdir -p %t
// RUN: %lowbit_python -c "import numpy as np; np.save('%t/x.npy', np.ones((1, 1, 3, 3), np.float32))"
// RUN: lowbit compile %s -o %t/out 2> %t/compile.err; echo "exit $?" >> %t/compile.err
// RUN: FileCheck %s --check-prefix=COMPILE < %t/compile.err
// RUN: not ls %t/out

/// A 5x5 kernel on a 3x3 input padded by one row and one column: invalid
/// input (exit 2, like the interpreter), not an unsupported layer (3).
// CHECK: error: {{.*}}node 'bigconv' (Conv, opset 17): kernel does not fit in the padded input (height 3 + pads 1+0 < dilated kernel 5)
// COMPILE: lowbit: error: {{.*}}node 'bigconv' (Conv, opset 17): kernel does not fit in the padded input
// COMPILE: exit 2
func.func @bigconv(%x: tensor<1x1x3x3xf32> {lowbit.name = "x"}) -> tensor<*xf32> {
  %w = arith.constant dense<1.0> : tensor<2x1x5x5xf32>
  %y = lowbit.onnx_node "Conv"(%x, %w) opset 17 attrs {pads = array<i64: 1, 0, 0, 1>} : (tensor<1x1x3x3xf32>, tensor<2x1x5x5xf32>) -> tensor<*xf32> loc("bigconv")
  return %y : tensor<*xf32>
}
