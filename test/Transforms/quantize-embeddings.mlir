// RUN: lowbit-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(lowbit-quantize-embeddings))' | FileCheck %s
// RUN: lowbit-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(lowbit-quantize-embeddings{format=int4 group-size=2 scale-type=f16}))' | FileCheck %s --check-prefix=GROUP
// RUN: lowbit-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(lowbit-quantize-embeddings{min-elements=100}))' | FileCheck %s --check-prefix=SMALL
// RUN: not lowbit-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(lowbit-quantize-embeddings{format=uint8}))' 2>&1 | FileCheck %s --check-prefix=BADFMT

/// One qweight per table, shared by both gathers that read it; one scale
/// per row (rows are what a gather reads). Row 0 is on the int8 grid of
/// its max (1/127 apart), so its scale is exactly max / 127.
// CHECK-LABEL: func.func @shared_table(
// CHECK-DAG:     %[[DATA:.*]] = arith.constant dense_resource<qweight> : tensor<12xi8>
// CHECK-DAG:     %[[SCALES:.*]] = arith.constant dense<[0.00787401571, {{.*}}]> : tensor<3xf32>
// CHECK:         %[[Q:.*]] = lowbit.qweight %[[DATA]], %[[SCALES]] {scheme = #lowbit.scheme<int8, per_channel(axis = 0), symmetric, scale = f32>} : (tensor<12xi8>, tensor<3xf32>) -> tensor<3x4xf32>
// CHECK:         lowbit.onnx_node "Gather"(%[[Q]], %arg0)
// CHECK:         lowbit.onnx_node "Gather"(%[[Q]], %arg1)
// CHECK-NOT:     lowbit.qweight
// GROUP-LABEL: func.func @shared_table(
// GROUP:         lowbit.qweight {{.*}}{scheme = #lowbit.scheme<int4, group(axis = 1, size = 2), symmetric, scale = f16>} : (tensor<6xi8>, tensor<3x2xf16>) -> tensor<3x4xf32>
// SMALL-LABEL: func.func @shared_table(
// SMALL-NOT:     lowbit.qweight
// BADFMT: lowbit-quantize-embeddings: format 'uint8' is not a signed weight format
func.func @shared_table(%a: tensor<2xi64>, %b: tensor<5xi64>) -> (tensor<2x4xf32>, tensor<5x4xf32>) {
  %t = arith.constant dense<[[1.0, -1.0, 0.503937, 0.0], [0.25, 0.5, -2.0, 1.0], [3.0, 0.1, 0.2, -0.3]]> : tensor<3x4xf32>
  %x = lowbit.onnx_node "Gather"(%t, %a) opset 13 attrs {axis = 0 : si64} : (tensor<3x4xf32>, tensor<2xi64>) -> tensor<2x4xf32>
  %y = lowbit.onnx_node "Gather"(%t, %b) opset 13 : (tensor<3x4xf32>, tensor<5xi64>) -> tensor<5x4xf32>
  return %x, %y : tensor<2x4xf32>, tensor<5x4xf32>
}

// -----

/// Not embedding lookups: a gather along axis 1, and a table that is not
/// a constant.
// CHECK-LABEL: func.func @not_tables(
// CHECK-NOT:     lowbit.qweight
func.func @not_tables(%t: tensor<3x4xf32>, %i: tensor<2xi64>) -> (tensor<3x2xf32>, tensor<2x4xf32>) {
  %c = arith.constant dense<1.0> : tensor<3x4xf32>
  %x = lowbit.onnx_node "Gather"(%c, %i) opset 13 attrs {axis = 1 : si64} : (tensor<3x4xf32>, tensor<2xi64>) -> tensor<3x2xf32>
  %y = lowbit.onnx_node "Gather"(%t, %i) opset 13 : (tensor<3x4xf32>, tensor<2xi64>) -> tensor<2x4xf32>
  return %x, %y : tensor<3x2xf32>, tensor<2x4xf32>
}
